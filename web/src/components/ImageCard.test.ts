// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { imageFixture } from '../test/fixtures'
import ImageCard from './ImageCard.vue'

describe('ImageCard', () => {
  it('shows the thumbnail, name, format, dimensions and size', () => {
    const wrapper = mount(ImageCard, { props: { image: imageFixture('a'), selected: false, busy: false } })
    expect(wrapper.attributes('data-image-id')).toBe('a')
    expect(wrapper.get('img').attributes('src')).toBe('/api/v1/images/a/thumbnail?version=1')
    expect(wrapper.get('[data-testid=image-dimensions]').text()).toBe('4000 × 3000')
    expect(wrapper.get('[data-testid=image-size]').text()).toBe('2.2 MB')
    expect(wrapper.text()).toContain('JPEG')
    // The original has no savings to show.
    expect(wrapper.find('[data-testid=image-savings]').exists()).toBe(false)
  })

  it('shows the saving once compressed, and the GIF note', () => {
    const image = imageFixture('a', { number: 2, operation: 'compress', bytes: 482_113, width: 800, height: 600 }, { first_frame_only: true })
    const wrapper = mount(ImageCard, { props: { image, selected: false, busy: false } })
    const savings = wrapper.get('[data-testid=image-savings]')
    expect(savings.text()).toContain('\u25bc \u221279 %')
    expect(savings.classes()).toContain('smaller')
    expect(wrapper.text()).toContain('Animated GIF: only the first frame is kept')
  })

  it('shows a growth as a larger size in amber, never as a saving', () => {
    const image = imageFixture('a', { number: 2, operation: 'ai_edit', bytes: 9_500_000 })
    const savings = mount(ImageCard, { props: { image, selected: false, busy: false } }).get('[data-testid=image-savings]')
    expect(savings.text()).toContain('\u25b2 +')
    expect(savings.classes()).toContain('larger')
  })

  it('labels a HEIC or AVIF original with what is being edited, and says nothing for an everyday JPEG', () => {
    const heic = mount(ImageCard, { props: { image: imageFixture('a', {}, { original_format: 'heif' }), selected: false, busy: false } })
    expect(heic.get('[data-testid=image-origin]').text()).toBe('HEIC original \u00b7 editing as JPEG')
    const avif = imageFixture('b', { format: 'avif' }, { original_format: 'avif' })
    expect(mount(ImageCard, { props: { image: avif, selected: false, busy: false } }).get('[data-testid=image-origin]').text()).toBe(
      'AVIF original',
    )
    expect(mount(ImageCard, { props: { image: imageFixture('c'), selected: false, busy: false } }).find('[data-testid=image-origin]').exists()).toBe(false)
  })

  it('emits open from the card and select from the checkbox', async () => {
    const wrapper = mount(ImageCard, { props: { image: imageFixture('a'), selected: false, busy: false } })
    await wrapper.get('button.open').trigger('click')
    expect(wrapper.emitted('open')).toHaveLength(1)
    const box = wrapper.get<HTMLInputElement>('[data-testid=image-select]')
    box.element.checked = true
    await box.trigger('change')
    expect(wrapper.emitted('select')).toEqual([[true]])
  })
})
