// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import CompareSlider from './CompareSlider.vue'

async function ready() {
  const wrapper = mount(CompareSlider, { props: { before: '/api/v1/images/a/content?version=1' }, attachTo: document.body })
  // Nothing to drag until "before" is decoded: half a blank picture would pass for transparency.
  expect(wrapper.find('[data-testid=compare-handle]').exists()).toBe(false)
  await wrapper.get('[data-testid=compare-before]').trigger('load')
  return wrapper
}

const value = (wrapper: Awaited<ReturnType<typeof ready>>) => wrapper.get('[data-testid=compare-handle]').attributes('aria-valuenow')

describe('CompareSlider', () => {
  it('starts in the middle and moves with the arrow keys, Shift for bigger steps, Home and End', async () => {
    const wrapper = await ready()
    const handle = wrapper.get('[data-testid=compare-handle]')
    expect(handle.attributes('role')).toBe('slider')
    expect(handle.attributes('tabindex')).toBe('0')
    expect(value(wrapper)).toBe('50')
    await handle.trigger('keydown', { key: 'ArrowLeft' })
    expect(value(wrapper)).toBe('48')
    await handle.trigger('keydown', { key: 'ArrowRight', shiftKey: true })
    expect(value(wrapper)).toBe('58')
    await handle.trigger('keydown', { key: 'Home' })
    expect(value(wrapper)).toBe('0')
    await handle.trigger('keydown', { key: 'ArrowLeft' })
    expect(value(wrapper)).toBe('0')
    await handle.trigger('keydown', { key: 'End' })
    expect(value(wrapper)).toBe('100')
    expect(handle.attributes('aria-valuetext')).toBe('100 % before')
    wrapper.unmount()
  })

  it('follows a drag across the picture and cuts "before" at the divider', async () => {
    const wrapper = await ready()
    const root = wrapper.get('[data-testid=compare-slider]')
    root.element.getBoundingClientRect = () => ({ left: 100, top: 0, width: 400, height: 300, right: 500, bottom: 300, x: 100, y: 0, toJSON: () => ({}) })
    await root.trigger('pointerdown', { button: 0, isPrimary: true, clientX: 200, pointerId: 1 })
    expect(value(wrapper)).toBe('25')
    await root.trigger('pointermove', { clientX: 400, pointerId: 1 })
    expect(value(wrapper)).toBe('75')
    expect((root.element as HTMLElement).style.getPropertyValue('--position')).toBe('75%')
    await root.trigger('pointerup', { pointerId: 1 })
    // Released: moving no longer drags.
    await root.trigger('pointermove', { clientX: 150, pointerId: 1 })
    expect(value(wrapper)).toBe('75')
    await root.trigger('pointerdown', { button: 0, isPrimary: true, clientX: 900, pointerId: 2 })
    expect(value(wrapper)).toBe('100')
    wrapper.unmount()
  })
})
