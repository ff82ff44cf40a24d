import { onBeforeUnmount, readonly, ref, type Ref } from 'vue'

/**
 * The width at which the app switches to its one-handed phone layout (the editor's bottom
 * sheet, 44 px touch targets). CSS uses the same number: `@media (max-width: 600px)`.
 */
export const PHONE_QUERY = '(max-width: 600px)'

/** Whether the phone layout applies now; follows rotation and window resizing. */
export function usePhoneLayout(): Readonly<Ref<boolean>> {
  const list = typeof window.matchMedia === 'function' ? window.matchMedia(PHONE_QUERY) : null
  const phone = ref(list?.matches ?? false)
  const update = (event: MediaQueryListEvent): void => {
    phone.value = event.matches
  }
  list?.addEventListener('change', update)
  onBeforeUnmount(() => list?.removeEventListener('change', update))
  return readonly(phone)
}
