// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { FIT, type View } from '../lib/zoom'
import ZoomPan from './ZoomPan.vue'

const natural = { width: 4000, height: 3000 }

/**
 * Two viewers bound to one view, as a side-by-side compare binds them; each render passes a fresh
 * size object (as an inline `:natural="{ … }"` does), which must not reset or re-write the view.
 */
const Pair = defineComponent({
  setup() {
    const view = ref<View>(FIT)
    const viewer = (label: string) =>
      h(ZoomPan, {
        natural: { ...natural },
        label,
        disabled: false,
        view: view.value,
        'onUpdate:view': (v: View) => (view.value = v),
      })
    return () => h('div', [viewer('Before'), viewer('After')])
  },
})

describe('ZoomPan', () => {
  it('is a named, focusable group that zooms with + and −, fits with 0, and ignores keys from tools inside', async () => {
    const wrapper = mount(ZoomPan, {
      props: { natural, label: 'Preview of IMG_1.jpg', disabled: false },
      slots: { default: '<button class="inner">tool</button>' },
      attachTo: document.body,
    })
    const viewport = wrapper.get('[data-testid=zoom-viewport]')
    expect(viewport.attributes('role')).toBe('group')
    expect(viewport.attributes('aria-label')).toBe('Preview of IMG_1.jpg')
    expect(viewport.attributes('tabindex')).toBe('0')
    expect(wrapper.get('[data-testid=zoom-fit]').attributes('aria-pressed')).toBe('true')

    await viewport.trigger('keydown', { key: '+' })
    expect(Number(viewport.attributes('data-zoom'))).toBeCloseTo(2 ** 0.25, 3)
    expect(wrapper.get('[data-testid=zoom-fit]').attributes('aria-pressed')).toBe('false')
    await wrapper.get('.inner').trigger('keydown', { key: '+' })
    expect(Number(viewport.attributes('data-zoom'))).toBeCloseTo(2 ** 0.25, 3)
    await viewport.trigger('keydown', { key: '-' })
    await viewport.trigger('keydown', { key: '+', ctrlKey: true }) // the browser's own zoom
    expect(viewport.attributes('data-zoom')).toBe('1.000')
    await viewport.trigger('keydown', { key: '+' })
    await viewport.trigger('keydown', { key: '0' })
    expect(viewport.attributes('data-zoom')).toBe('1.000')
    wrapper.unmount()
  })

  it('fits and stops zooming while a tool needs the picture whole (cropping)', async () => {
    const wrapper = mount(ZoomPan, { props: { natural, label: 'Preview', disabled: false }, attachTo: document.body })
    const viewport = wrapper.get('[data-testid=zoom-viewport]')
    await viewport.trigger('keydown', { key: '+' })
    await wrapper.setProps({ disabled: true })
    expect(viewport.attributes('data-zoom')).toBe('1.000')
    expect(viewport.attributes('tabindex')).toBe('-1')
    expect(wrapper.find('[data-testid=zoom-fit]').exists()).toBe(false)
    await viewport.trigger('keydown', { key: '+' })
    expect(viewport.attributes('data-zoom')).toBe('1.000')
    wrapper.unmount()
  })

  it('keeps two viewers bound to one view in step', async () => {
    const wrapper = mount(Pair, { attachTo: document.body })
    const [before, after] = wrapper.findAll('[data-testid=zoom-viewport]')
    await before!.trigger('keydown', { key: '+' })
    await before!.trigger('keydown', { key: '+' })
    expect(after!.attributes('data-zoom')).toBe(before!.attributes('data-zoom'))
    expect(Number(after!.attributes('data-zoom'))).toBeCloseTo(Math.SQRT2, 3)
    await after!.get('[data-testid=zoom-fit]').trigger('click')
    expect(before!.attributes('data-zoom')).toBe('1.000')
    wrapper.unmount()
  })
})
