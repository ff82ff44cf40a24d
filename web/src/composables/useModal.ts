import { onBeforeUnmount, onMounted, watch, type Ref } from 'vue'
import { useToasts } from './useToasts'

export interface ModalOptions {
  /** The dialog follows this (a prop): true opens it, false closes it. Without it, the dialog is open while mounted. */
  open?: () => boolean
  /** While true, Esc and backdrop clicks leave the dialog open: a running action's outcome must stay in view. */
  locked?: () => boolean
  /** Esc is offered here first; return true when it was used up (e.g. leaving crop mode) and the dialog stays. */
  onEscape?: () => boolean
  /** A click on the backdrop closes the dialog (default true; a full-screen dialog has none to click). */
  closeOnBackdrop?: boolean
  /** Toasts show inside the dialog while it is open: it makes the page underneath inert. */
  toasts?: boolean
  /** Right after it opens: reset state, refresh data, move focus. */
  onOpen?: () => void
  /** After every close (close button, Esc, backdrop, `open` turning false), once focus is back. */
  onClose?: () => void
}

/**
 * A modal <dialog>: showModal() makes the rest of the page inert (that is the focus trap); this
 * adds what the browser leaves out or does inconsistently. Focus returns to where it was before
 * the dialog opened; Esc (handled here, so that `locked` holds on every browser, which a
 * prevented `cancel` event does not) and backdrop clicks close it unless an action is running.
 * Returns `close`, which closes it the same way the close button should.
 */
export function useModal(dialog: Ref<HTMLDialogElement | null>, options: ModalOptions = {}) {
  const { pushLayer, popLayer } = useToasts()
  let returnFocusTo: HTMLElement | null = null

  function show(): void {
    const el = dialog.value
    if (!el || el.open) return
    returnFocusTo = document.activeElement instanceof HTMLElement ? document.activeElement : null
    el.showModal()
    if (options.toasts) pushLayer(el)
    options.onOpen?.()
  }

  function close(): void {
    if (dialog.value?.open) dialog.value.close()
  }

  /** Esc, the back gesture, or a backdrop click: close unless something must stay in view. */
  function dismiss(): void {
    if (options.onEscape?.() || options.locked?.()) return
    close()
  }

  function settle(el: HTMLDialogElement): void {
    if (options.toasts) popLayer(el)
    returnFocusTo?.focus()
    returnFocusTo = null
  }

  function onClose(): void {
    if (dialog.value) settle(dialog.value)
    options.onClose?.()
  }

  function onKeydown(event: KeyboardEvent): void {
    if (event.key !== 'Escape' || event.isComposing || event.defaultPrevented) return
    event.preventDefault()
    dismiss()
  }

  /** A close request that did not come as an Esc keydown (Android's back gesture). */
  function onCancel(event: Event): void {
    event.preventDefault()
    dismiss()
  }

  function onClick(event: MouseEvent): void {
    // Clicks inside the dialog land on its children; only the ::backdrop area targets <dialog> itself.
    if (event.target === dialog.value) dismiss()
  }

  onMounted(() => {
    const el = dialog.value
    if (!el) return
    el.addEventListener('close', onClose)
    el.addEventListener('keydown', onKeydown)
    el.addEventListener('cancel', onCancel)
    if (options.closeOnBackdrop ?? true) el.addEventListener('click', onClick)
    if (!options.open) show()
  })

  if (options.open) {
    const isOpen = options.open
    // After the render, so that the dialog's content (and its focus targets) exist.
    watch(isOpen, (open) => (open ? show() : close()), { flush: 'post' })
  }

  onBeforeUnmount(() => {
    const el = dialog.value
    if (!el) return
    el.removeEventListener('close', onClose)
    el.removeEventListener('keydown', onKeydown)
    el.removeEventListener('cancel', onCancel)
    el.removeEventListener('click', onClick)
    if (el.open) {
      el.close()
      settle(el)
    }
  })

  return { close }
}
