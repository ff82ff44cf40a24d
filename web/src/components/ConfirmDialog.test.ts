// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { useConfirm } from '../composables/useConfirm'
import ConfirmDialog from './ConfirmDialog.vue'

describe('ConfirmDialog', () => {
  const { confirm } = useConfirm()
  let wrapper: ReturnType<typeof mount> | null = null
  afterEach(() => wrapper?.unmount())

  async function ask() {
    wrapper = mount(ConfirmDialog, { attachTo: document.body })
    const answer = confirm({ title: 'Clear all images?', message: 'This cannot be undone.', confirmLabel: 'Delete all', danger: true })
    await nextTick()
    await nextTick()
    return answer
  }

  it('asks, and resolves true for the confirm button', async () => {
    const answer = ask()
    const w = wrapper!
    await nextTick()
    expect(w.text()).toContain('Clear all images?')
    expect(w.get('[data-testid=confirm-ok]').text()).toBe('Delete all')
    await w.get('[data-testid=confirm-ok]').trigger('click')
    await expect(answer).resolves.toBe(true)
  })

  it('resolves false for cancel', async () => {
    const answer = ask()
    await nextTick()
    await wrapper!.get('[data-testid=confirm-cancel]').trigger('click')
    await expect(answer).resolves.toBe(false)
  })

  it('treats a new question as cancelling an unanswered one', async () => {
    const first = confirm({ title: 'One', message: '', confirmLabel: 'OK' })
    const second = confirm({ title: 'Two', message: '', confirmLabel: 'OK' })
    await expect(first).resolves.toBe(false)
    useConfirm().answer(true)
    await expect(second).resolves.toBe(true)
  })
})
