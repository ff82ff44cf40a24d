// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useToasts } from '../composables/useToasts'
import { QUICK_OPERATION } from '../lib/background'
import { flush, json, mountWithBackground } from '../test/backgroundFixtures'
import { imageFixture } from '../test/fixtures'
import BackgroundQuickAction from './BackgroundQuickAction.vue'
import ImageCard from './ImageCard.vue'

describe('BackgroundQuickAction on the image card', () => {
  let mounted: ReturnType<typeof mountWithBackground> | null = null
  beforeEach(() => {
    const { toasts, dismiss } = useToasts()
    toasts.value.forEach((t) => dismiss(t.id))
  })
  afterEach(() => {
    mounted?.wrapper.unmount()
    mounted?.scope.stop()
    mounted = null
  })

  it('removes the background in one click, shows the run on the card, and hands the result over', async () => {
    const image = imageFixture('a')
    mounted = mountWithBackground(ImageCard, { image, selected: false, busy: false })
    const { wrapper, removals, onResult } = mounted
    const button = wrapper.get('[data-testid=card-remove-background]')
    // WCAG 2.5.3: the spoken name starts with the visible words, so "click Remove BG" works by voice.
    expect(button.attributes('aria-label')).toBe('Remove BG: IMG_1234.jpg')
    expect(button.text()).toContain('Remove BG')
    await button.trigger('click')
    await flush()
    expect(removals[0]!.url).toBe('/api/v1/images/a/operations')
    expect(removals[0]!.body).toEqual(QUICK_OPERATION)
    expect(wrapper.find('[data-testid=card-background-progress]').exists()).toBe(true)
    expect(wrapper.find('[data-testid=card-remove-background]').exists()).toBe(false)
    // Working on the picture does not open the editor.
    expect(wrapper.findComponent(ImageCard).emitted('open')).toBeUndefined()

    const result = imageFixture('a', { number: 2, operation: 'remove_background', format: 'png' })
    removals[0]!.answer(json(200, result))
    await flush()
    await flush()
    expect(onResult).toHaveBeenCalledWith(result)
    expect(wrapper.find('[data-testid=card-background-progress]').exists()).toBe(false)
  })

  it('cancels from the card', async () => {
    const image = imageFixture('a')
    mounted = mountWithBackground(BackgroundQuickAction, { image, busy: false })
    await mounted.wrapper.get('[data-testid=card-remove-background]').trigger('click')
    await flush()
    await mounted.wrapper.get('[data-testid=background-cancel]').trigger('click')
    expect(mounted.removals[0]!.signal.aborted).toBe(true)
    await flush()
    expect(mounted.wrapper.find('[data-testid=card-remove-background]').exists()).toBe(true)
    expect(mounted.onResult).not.toHaveBeenCalled()
  })

  it('stops the run when the card goes (the image was deleted)', async () => {
    mounted = mountWithBackground(BackgroundQuickAction, { image: imageFixture('a'), busy: false })
    await mounted.wrapper.get('[data-testid=card-remove-background]').trigger('click')
    await flush()
    mounted.wrapper.unmount()
    expect(mounted.removals[0]!.signal.aborted).toBe(true)
    await flush()
    // Whoever deleted it knows; a "Cancelled" toast would only confuse.
    expect(useToasts().toasts.value.some((t) => t.message.startsWith('Cancelled'))).toBe(false)
  })

  it('is not offered while another operation runs on the image, nor where the feature is absent', () => {
    mounted = mountWithBackground(BackgroundQuickAction, { image: imageFixture('a'), busy: true })
    expect(mounted.wrapper.find('[data-testid=card-remove-background]').exists()).toBe(false)
    const bare = mount(ImageCard, { props: { image: imageFixture('a'), selected: false, busy: false } })
    expect(bare.find('[data-testid=card-remove-background]').exists()).toBe(false)
  })
})
