import { describe, expect, it } from 'vitest'
import { nextTick, ref } from 'vue'
import { useCropTool } from './useCropTool'

describe('useCropTool', () => {
  it('starts inset from the edges, in the orientation of the image', () => {
    const crop = useCropTool(() => ({ width: 600, height: 800 }), () => 1)
    crop.start()
    expect(crop.active.value).toBe(true)
    expect(crop.portrait.value).toBe(true)
    expect(crop.pixels.value).toEqual({ x: 60, y: 80, width: 480, height: 640 })
  })

  it('fits the rectangle to a chosen aspect, and to its swapped orientation', () => {
    const crop = useCropTool(() => ({ width: 1000, height: 500 }), () => 1)
    crop.start()
    crop.setAspect('1:1')
    expect(crop.pixels.value.width).toBe(crop.pixels.value.height)
    crop.setAspect('4:3')
    crop.swapOrientation()
    const { width, height } = crop.pixels.value
    expect(width / height).toBeCloseTo(3 / 4, 2)
  })

  it('leaves crop mode when a new version arrives from elsewhere (undo, a shortcut)', async () => {
    const version = ref(1)
    const crop = useCropTool(() => ({ width: 100, height: 100 }), () => version.value)
    crop.start()
    version.value = 2
    await nextTick()
    expect(crop.active.value).toBe(false)
  })
})
