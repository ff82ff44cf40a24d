// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import SizeChange from './SizeChange.vue'

describe('SizeChange', () => {
  it('shows a growth in amber with an up arrow and a plus sign, and says it in words', () => {
    const wrapper = mount(SizeChange, { props: { bytes: 9_020_000, reference: 900_000 } })
    const pill = wrapper.get('[data-testid=size-change]')
    expect(pill.classes()).toContain('larger')
    expect(pill.classes()).not.toContain('smaller')
    expect(pill.text()).toContain('\u25b2 +902 %')
    expect(pill.get('.visually-hidden').text()).toBe('902 % larger than the original (879 KB)')
  })

  it('shows a saving in green with a down arrow against the given reference', () => {
    const wrapper = mount(SizeChange, { props: { bytes: 100, reference: 400, against: 'version 3' } })
    const pill = wrapper.get('[data-testid=size-change]')
    expect(pill.attributes('data-direction')).toBe('smaller')
    expect(pill.text()).toContain('\u25bc \u221275 %')
    expect(pill.attributes('title')).toBe('75 % smaller than version 3 (400 B)')
  })

  it('renders nothing when the size did not change', () => {
    expect(mount(SizeChange, { props: { bytes: 400, reference: 400 } }).find('[data-testid=size-change]').exists()).toBe(false)
  })
})
