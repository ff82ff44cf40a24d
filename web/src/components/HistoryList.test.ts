// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { imageFixture } from '../test/fixtures'
import HistoryList from './HistoryList.vue'

describe('HistoryList', () => {
  it('lists versions newest first, marks the current one and reverts on click', async () => {
    const image = imageFixture('a', { number: 2, operation: 'rotate', params: { degrees: 270 }, width: 3000, height: 4000 })
    const wrapper = mount(HistoryList, { props: { image, presets: [] } })
    const items = wrapper.findAll('[data-testid=history-item]')
    expect(items.map((i) => i.attributes('data-version'))).toEqual(['2', '1'])
    expect(items[0]!.attributes('aria-current')).toBe('step')
    expect(items[0]!.text()).toContain('Rotated 90° left')
    expect(items[1]!.text()).toContain('Original')
    await items[1]!.trigger('click')
    expect(wrapper.emitted('revert')).toEqual([[1]])
  })

  it('shows each version\'s size change against the one before, and what a HEIC original is edited as', () => {
    const image = imageFixture(
      'a',
      { number: 2, operation: 'ai_edit', format: 'png', bytes: 9_000_000 },
      { original_format: 'heif' },
    )
    const items = mount(HistoryList, { props: { image, presets: [] } }).findAll('[data-testid=history-item]')
    const change = items[0]!.get('[data-testid=size-change]')
    expect(change.classes()).toContain('larger')
    expect(change.text()).toContain('\u25b2 +')
    expect(change.attributes('title')).toContain('larger than version 1')
    expect(items[1]!.find('[data-testid=size-change]').exists()).toBe(false)
    expect(items[1]!.get('[data-testid=history-origin]').text()).toContain('HEIC original \u00b7 editing as JPEG')
  })
})
