import { computed, onScopeDispose, ref } from 'vue'

/**
 * Whole seconds left until a moment (a 429's Retry-After), ticking once a second. Computed from
 * the clock rather than counted down, so a throttled background tab still ends on time.
 */
export function useCountdown(now: () => number = Date.now) {
  const remaining = ref(0)
  let until = 0
  let timer: ReturnType<typeof setInterval> | null = null

  function stop(): void {
    if (timer !== null) clearInterval(timer)
    timer = null
    remaining.value = 0
  }

  function tick(): void {
    remaining.value = Math.max(0, Math.ceil((until - now()) / 1000))
    if (remaining.value === 0) stop()
  }

  /** Starts (or restarts) counting down from `seconds`. */
  function start(seconds: number): void {
    stop()
    if (!(seconds > 0)) return
    until = now() + seconds * 1000
    remaining.value = Math.ceil(seconds)
    timer = setInterval(tick, 1000)
  }

  onScopeDispose(stop)

  return { remaining, active: computed(() => remaining.value > 0), start, stop }
}
