import { describe, expect, it } from 'vitest'
import {
  aspectRatio,
  centredRect,
  clampRect,
  coversImage,
  displayToImage,
  fitAspect,
  imagePixelsPerDisplayPixel,
  moveRect,
  rectFromPoints,
  resizeRect,
  roundRect,
  toPercentBox,
} from './crop'

const image = { width: 4000, height: 3000 }
const ratio = (r: { width: number; height: number }) => r.width / r.height

describe('aspectRatio', () => {
  it('maps the choices to width ÷ height, free to null', () => {
    expect(aspectRatio('free')).toBeNull()
    expect(aspectRatio('1:1')).toBe(1)
    expect(aspectRatio('4:3')).toBeCloseTo(4 / 3)
    expect(aspectRatio('16:9')).toBeCloseTo(16 / 9)
  })

  it('turns a ratio on its side for portrait', () => {
    expect(aspectRatio('4:3', true)).toBeCloseTo(3 / 4)
    expect(aspectRatio('free', true)).toBeNull()
  })
})

describe('centredRect', () => {
  it('is the whole image when free', () => {
    expect(centredRect(image, null)).toEqual({ x: 0, y: 0, width: 4000, height: 3000 })
  })

  it('is the largest centred rectangle of the aspect', () => {
    expect(centredRect(image, 1)).toEqual({ x: 500, y: 0, width: 3000, height: 3000 })
    const wide = centredRect(image, 16 / 9)
    expect(wide.width).toBe(4000)
    expect(wide.height).toBeCloseTo(2250)
    expect(wide.y).toBeCloseTo(375)
  })

  it('can be inset by a coverage factor', () => {
    expect(centredRect(image, null, 0.8)).toEqual({ x: 400, y: 300, width: 3200, height: 2400 })
  })
})

describe('clampRect', () => {
  it('moves a rectangle back inside the image', () => {
    expect(clampRect({ x: -10, y: 2900, width: 100, height: 200 }, image)).toEqual({ x: 0, y: 2800, width: 100, height: 200 })
  })

  it('shrinks one that is larger than the image', () => {
    expect(clampRect({ x: 5, y: 5, width: 5000, height: 100 }, image)).toEqual({ x: 0, y: 5, width: 4000, height: 100 })
  })
})

describe('moveRect', () => {
  it('moves by the delta and stops at the edges', () => {
    const r = { x: 100, y: 100, width: 1000, height: 1000 }
    expect(moveRect(r, 50, -20, image)).toEqual({ x: 150, y: 80, width: 1000, height: 1000 })
    expect(moveRect(r, -500, 99_999, image)).toEqual({ x: 0, y: 2000, width: 1000, height: 1000 })
  })
})

describe('fitAspect', () => {
  it('reshapes around the centre keeping about the same area', () => {
    const r = fitAspect({ x: 1000, y: 1000, width: 2000, height: 500 }, 1, image)
    expect(r.width).toBeCloseTo(1000)
    expect(r.height).toBeCloseTo(1000)
    expect(r.x + r.width / 2).toBeCloseTo(2000)
    expect(r.y + r.height / 2).toBeCloseTo(1250)
  })

  it('shrinks to fit the image and stays inside it', () => {
    const r = fitAspect({ x: 0, y: 0, width: 4000, height: 3000 }, 16 / 9, image)
    expect(ratio(r)).toBeCloseTo(16 / 9)
    expect(r.width).toBeLessThanOrEqual(4000)
    expect(r.y).toBeGreaterThanOrEqual(0)
    expect(r.y + r.height).toBeLessThanOrEqual(3000 + 1e-9)
  })

  it('only clamps when free', () => {
    expect(fitAspect({ x: 3900, y: 0, width: 500, height: 500 }, null, image)).toEqual({ x: 3500, y: 0, width: 500, height: 500 })
  })
})

describe('resizeRect, free', () => {
  const start = { x: 1000, y: 1000, width: 1000, height: 1000 }

  it('moves only the dragged edges', () => {
    expect(resizeRect(start, 'se', 200, 100, null, image)).toEqual({ x: 1000, y: 1000, width: 1200, height: 1100 })
    expect(resizeRect(start, 'nw', -100, 300, null, image)).toEqual({ x: 900, y: 1300, width: 1100, height: 700 })
    expect(resizeRect(start, 'e', 500, 999, null, image)).toEqual({ x: 1000, y: 1000, width: 1500, height: 1000 })
  })

  it('stops at the image edges', () => {
    expect(resizeRect(start, 'se', 9_000, 9_000, null, image)).toEqual({ x: 1000, y: 1000, width: 3000, height: 2000 })
    expect(resizeRect(start, 'nw', -9_000, -9_000, null, image)).toEqual({ x: 0, y: 0, width: 2000, height: 2000 })
  })

  it('never goes below the minimum size, nor turns inside out', () => {
    const r = resizeRect(start, 'se', -5_000, -5_000, null, image, 50)
    expect(r).toEqual({ x: 1000, y: 1000, width: 50, height: 50 })
    const w = resizeRect(start, 'w', 5_000, 0, null, image, 50)
    expect(w.x + w.width).toBe(2000)
    expect(w.width).toBe(50)
  })
})

describe('resizeRect, with an aspect', () => {
  const start = { x: 1000, y: 1000, width: 800, height: 600 }

  it('keeps the ratio on a corner, following the larger pull', () => {
    const r = resizeRect(start, 'se', 400, 0, 4 / 3, image)
    expect(r.x).toBe(1000)
    expect(r.y).toBe(1000)
    expect(r.width).toBeCloseTo(1200)
    expect(r.height).toBeCloseTo(900)
  })

  it('keeps the opposite corner fixed when dragging the top-left one', () => {
    const r = resizeRect(start, 'nw', -400, -300, 4 / 3, image)
    expect(r.x + r.width).toBeCloseTo(1800)
    expect(r.y + r.height).toBeCloseTo(1600)
    expect(ratio(r)).toBeCloseTo(4 / 3)
  })

  it('shrinks to the room there is instead of leaving the image', () => {
    const r = resizeRect(start, 'se', 10_000, 0, 4 / 3, image)
    expect(r.y + r.height).toBeLessThanOrEqual(3000 + 1e-9)
    expect(r.x + r.width).toBeLessThanOrEqual(4000 + 1e-9)
    expect(ratio(r)).toBeCloseTo(4 / 3)
    // The height is what runs out first: 2000 px below the top edge.
    expect(r.height).toBeCloseTo(2000)
  })

  it('grows the other side evenly about the centre on a side handle', () => {
    const r = resizeRect(start, 'e', 400, 0, 4 / 3, image)
    expect(r.x).toBe(1000)
    expect(r.width).toBeCloseTo(1200)
    expect(r.height).toBeCloseTo(900)
    expect(r.y + r.height / 2).toBeCloseTo(1300)
  })

  it('limits a side handle by the room above and below the centre', () => {
    const r = resizeRect({ x: 100, y: 100, width: 400, height: 300 }, 'e', 5_000, 0, 4 / 3, image)
    // Centre at y=250: at most 500 px tall.
    expect(r.height).toBeCloseTo(500)
    expect(r.y).toBeCloseTo(0)
    expect(ratio(r)).toBeCloseTo(4 / 3)
  })

  it('works for the bottom side too', () => {
    const r = resizeRect(start, 's', 0, 300, 4 / 3, image)
    expect(r.y).toBe(1000)
    expect(r.height).toBeCloseTo(900)
    expect(r.width).toBeCloseTo(1200)
    expect(r.x + r.width / 2).toBeCloseTo(1400)
  })
})

describe('rectFromPoints', () => {
  it('draws from the start point in any direction', () => {
    expect(rectFromPoints({ x: 100, y: 100 }, { x: 400, y: 300 }, null, image)).toEqual({ x: 100, y: 100, width: 300, height: 200 })
    expect(rectFromPoints({ x: 400, y: 300 }, { x: 100, y: 100 }, null, image)).toEqual({ x: 100, y: 100, width: 300, height: 200 })
  })

  it('keeps the aspect and the image bounds', () => {
    const r = rectFromPoints({ x: 3800, y: 100 }, { x: 5000, y: 200 }, 1, image)
    expect(r.x).toBe(3800)
    expect(r.width).toBeCloseTo(200)
    expect(r.height).toBeCloseTo(200)
  })

  it('clamps a start point that is off the image', () => {
    const r = rectFromPoints({ x: -50, y: -50 }, { x: 100, y: 100 }, null, image)
    expect(r).toEqual({ x: 0, y: 0, width: 100, height: 100 })
  })
})

describe('display ↔ image pixels', () => {
  it('scales a point on the preview to image pixels', () => {
    expect(displayToImage({ x: 200, y: 150 }, { width: 800, height: 600 }, image)).toEqual({ x: 1000, y: 750 })
  })

  it('does not divide by zero before layout', () => {
    expect(displayToImage({ x: 5, y: 5 }, { width: 0, height: 0 }, image)).toEqual({ x: 0, y: 0 })
    expect(imagePixelsPerDisplayPixel({ width: 0, height: 0 }, image)).toBe(1)
  })

  it('tells how many image pixels one CSS pixel covers', () => {
    expect(imagePixelsPerDisplayPixel({ width: 800, height: 600 }, image)).toBe(5)
  })

  it('positions the overlay box in percentages', () => {
    expect(toPercentBox({ x: 1000, y: 750, width: 2000, height: 1500 }, image)).toEqual({
      left: '25%',
      top: '25%',
      width: '50%',
      height: '50%',
    })
  })
})

describe('roundRect', () => {
  it('gives whole pixels inside the image', () => {
    expect(roundRect({ x: 10.4, y: 20.6, width: 99.5, height: 50.2 }, image)).toEqual({ x: 10, y: 21, width: 100, height: 50 })
  })

  it('never exceeds the edges after rounding, and is at least 1×1', () => {
    expect(roundRect({ x: 3999.6, y: 0, width: 0.3, height: 0.2 }, image)).toEqual({ x: 3999, y: 0, width: 1, height: 1 })
    expect(roundRect({ x: 100.5, y: 0, width: 3899.5, height: 3000 }, image)).toEqual({ x: 101, y: 0, width: 3899, height: 3000 })
  })

  it('knows when the rectangle is the whole image', () => {
    expect(coversImage({ x: 0.2, y: 0, width: 3999.9, height: 3000 }, image)).toBe(true)
    expect(coversImage({ x: 1, y: 0, width: 3999, height: 3000 }, image)).toBe(false)
  })
})
