// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import UploadList from './UploadList.vue'

describe('UploadList', () => {
  const rows = [
    { id: 1, name: 'a.jpg', size: 5_000_000, state: 'uploading' as const, percent: 42, error: null, retryable: false },
    { id: 2, name: 'b.jpg', size: 5_000_000, state: 'processing' as const, percent: 100, error: null, retryable: false },
    { id: 3, name: 'c.txt', size: 5, state: 'error' as const, percent: 0, error: 'c.txt is not an accepted image type', retryable: false },
  ]

  it('gives each row its state, progress or error', () => {
    const wrapper = mount(UploadList, { props: { rows } })
    const found = wrapper.findAll('[data-testid=upload-row]')
    expect(found.map((r) => r.attributes('data-state'))).toEqual(['uploading', 'processing', 'error'])
    expect(found[0]!.get('[data-testid=upload-progress]').attributes('value')).toBe('42')
    expect(found[0]!.text()).toContain('Uploading… 42 %')
    expect(found[1]!.text()).toContain('Processing…')
    expect(found[2]!.get('[data-testid=upload-error]').text()).toBe('c.txt is not an accepted image type')
  })

  it('dismisses an error row', async () => {
    const wrapper = mount(UploadList, { props: { rows } })
    await wrapper.get('[data-testid=upload-dismiss]').trigger('click')
    expect(wrapper.emitted('dismiss')).toEqual([[3]])
  })
})
