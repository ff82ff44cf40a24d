import { onScopeDispose, shallowRef, type Ref } from 'vue'

/** The current time, refreshed every `intervalMs`, for relative labels like "expires in 5 hours". */
export function useNow(intervalMs = 30_000): Readonly<Ref<Date>> {
  const now = shallowRef(new Date())
  const timer = setInterval(() => {
    now.value = new Date()
  }, intervalMs)
  onScopeDispose(() => clearInterval(timer))
  return now
}
