import { shallowRef } from 'vue'

export interface ConfirmOptions {
  title: string
  message: string
  /** The confirming button's label, e.g. "Delete 3 images". */
  confirmLabel: string
  /** Red confirm button, for actions that destroy something. */
  danger?: boolean
}

export interface ConfirmRequest extends ConfirmOptions {
  resolve: (confirmed: boolean) => void
}

// One dialog per page (ConfirmDialog in App.vue), so the pending question is module-wide.
const pending = shallowRef<ConfirmRequest | null>(null)

/** Asks the person to confirm; resolves true for the confirm button, false for anything else. */
function confirm(options: ConfirmOptions): Promise<boolean> {
  // A new question replaces an unanswered one, which counts as cancelled.
  pending.value?.resolve(false)
  return new Promise((resolve) => {
    pending.value = { ...options, resolve }
  })
}

function answer(confirmed: boolean): void {
  const request = pending.value
  pending.value = null
  request?.resolve(confirmed)
}

export function useConfirm() {
  return { pending, confirm, answer }
}
