// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { useModal, type ModalOptions } from './useModal'
import { useToasts } from './useToasts'

/** A dialog with one button inside, opened and closed through the `open` ref. */
function harness(options: Omit<ModalOptions, 'open'> = {}) {
  const open = ref(false)
  const closes = ref(0)
  const Dialog = defineComponent({
    setup() {
      const dialog = ref<HTMLDialogElement | null>(null)
      const { close } = useModal(dialog, { ...options, open: () => open.value, onClose: () => closes.value++ })
      return () =>
        h('dialog', { ref: dialog }, [h('button', { class: 'inside', onClick: close }, 'Close')])
    },
  })
  const opener = document.createElement('button')
  document.body.append(opener)
  const wrapper = mount(Dialog, { attachTo: document.body })
  const dialog = wrapper.element as HTMLDialogElement
  return { open, closes, opener, wrapper, dialog }
}

async function openFrom(opener: HTMLElement, open: { value: boolean }): Promise<void> {
  opener.focus()
  open.value = true
  await nextTick()
}

function pressEscape(target: HTMLElement): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true })
  target.dispatchEvent(event)
  return event
}

describe('useModal', () => {
  const mounted: VueWrapper[] = []
  afterEach(() => {
    for (const wrapper of mounted.splice(0)) wrapper.unmount()
    document.body.replaceChildren()
  })

  it('closes on Escape and puts focus back on what opened it', async () => {
    const { open, closes, opener, wrapper, dialog } = harness()
    mounted.push(wrapper)
    await openFrom(opener, open)
    expect(dialog.open).toBe(true)
    ;(dialog.querySelector('.inside') as HTMLElement).focus()

    const event = pressEscape(dialog.querySelector('.inside') as HTMLElement)

    expect(event.defaultPrevented).toBe(true)
    expect(dialog.open).toBe(false)
    expect(document.activeElement).toBe(opener)
    expect(closes.value).toBe(1)
  })

  it('stays open on Escape and backdrop clicks while locked, and closes once unlocked', async () => {
    const busy = ref(true)
    const { open, opener, wrapper, dialog } = harness({ locked: () => busy.value })
    mounted.push(wrapper)
    await openFrom(opener, open)

    pressEscape(dialog)
    dialog.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    expect(dialog.open).toBe(true)

    busy.value = false
    pressEscape(dialog)
    expect(dialog.open).toBe(false)
  })

  it('offers Escape to the component first: a used-up Escape keeps the dialog open', async () => {
    let cropping = true
    const { open, opener, wrapper, dialog } = harness({
      onEscape: () => {
        const used = cropping
        cropping = false
        return used
      },
    })
    mounted.push(wrapper)
    await openFrom(opener, open)

    pressEscape(dialog)
    expect(dialog.open).toBe(true)
    pressEscape(dialog)
    expect(dialog.open).toBe(false)
  })

  it('closes on a backdrop click but not on a click inside', async () => {
    const { open, opener, wrapper, dialog } = harness()
    mounted.push(wrapper)
    await openFrom(opener, open)

    dialog.querySelector('.inside')!.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }))
    expect(dialog.open).toBe(true)
    dialog.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    expect(dialog.open).toBe(false)
    expect(document.activeElement).toBe(opener)
  })

  it('follows its open source both ways, and shows toasts inside itself only while open', async () => {
    const { layer } = useToasts()
    const { open, closes, opener, wrapper, dialog } = harness({ toasts: true })
    mounted.push(wrapper)

    await openFrom(opener, open)
    expect(layer.value).toBe(dialog)

    open.value = false
    await nextTick()
    expect(dialog.open).toBe(false)
    expect(layer.value).toBeNull()
    expect(document.activeElement).toBe(opener)
    expect(closes.value).toBe(1)
  })

  it('gives focus back when it is removed while open', async () => {
    const { open, opener, wrapper, dialog } = harness({ toasts: true })
    await openFrom(opener, open)
    ;(dialog.querySelector('.inside') as HTMLElement).focus()

    wrapper.unmount()

    expect(document.activeElement).toBe(opener)
    expect(useToasts().layer.value).toBeNull()
  })
})
