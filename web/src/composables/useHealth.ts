import { computed, onScopeDispose, ref, shallowRef } from 'vue'
import { api, type ApiClient } from '../api/client'
import { backoffDelay } from '../lib/backoff'

/** 'checking' only before the first answer; later checks keep the last known status. */
export type HealthStatus = 'checking' | 'healthy' | 'degraded' | 'offline'

export interface UseHealthOptions {
  client?: ApiClient
  /** Interval between checks while healthy. */
  pollMs?: number
  /** A check that takes longer than this counts as a failure. */
  timeoutMs?: number
  /** Called when the server answers healthy again after one or more failed checks. */
  onRecovered?: () => void
}

/**
 * Watches GET /health: every `pollMs` while healthy, and after a failure with exponential
 * backoff (1 s, 2 s, 4 s … 30 s), counting down to the next attempt for the offline banner.
 * Starts at once; stops when the calling component (or effect scope) is disposed.
 */
export function useHealth({ client = api, pollMs = 30_000, timeoutMs = 10_000, onRecovered }: UseHealthOptions = {}) {
  const status = ref<HealthStatus>('checking')
  const missing = shallowRef<string[]>([])
  /** What answered but cannot work, as the server names it (e.g. a corrupt background model). */
  const problems = shallowRef<string[]>([])
  /** A check is in flight. */
  const checking = ref(false)
  const retryAt = ref<number | null>(null)
  const now = ref(Date.now())

  let failures = 0
  // Each check gets a number; a result that arrives after a newer check started is ignored.
  let generation = 0
  let nextCheck: ReturnType<typeof setTimeout> | undefined
  let ticker: ReturnType<typeof setInterval> | undefined
  let inFlight: AbortController | null = null
  let disposed = false

  const retryInSeconds = computed(() =>
    retryAt.value === null ? null : Math.max(0, Math.ceil((retryAt.value - now.value) / 1000)),
  )

  function schedule(delayMs: number, countDown: boolean): void {
    clearTimeout(nextCheck)
    clearInterval(ticker)
    nextCheck = setTimeout(check, delayMs)
    retryAt.value = countDown ? Date.now() + delayMs : null
    now.value = Date.now()
    if (countDown) ticker = setInterval(() => (now.value = Date.now()), 1_000)
  }

  async function check(): Promise<void> {
    clearTimeout(nextCheck)
    clearInterval(ticker)
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    const mine = ++generation
    checking.value = true
    const timeout = setTimeout(() => controller.abort(), timeoutMs)

    const result = await client.health(controller.signal)

    clearTimeout(timeout)
    if (disposed || mine !== generation) return
    inFlight = null
    checking.value = false

    if (result.status === 'healthy') {
      const recovered = failures > 0
      failures = 0
      status.value = 'healthy'
      missing.value = []
      problems.value = []
      schedule(pollMs, false)
      if (recovered) onRecovered?.()
    } else {
      status.value = result.status
      missing.value = result.status === 'degraded' ? result.missing : []
      problems.value = result.status === 'degraded' ? result.problems : []
      schedule(backoffDelay(failures), true)
      failures += 1
    }
  }

  /** Skips the rest of the wait ("Retry now", or the browser says it is back online). */
  function retryNow(): void {
    void check()
  }

  function onOnline(): void {
    if (status.value !== 'healthy') retryNow()
  }

  window.addEventListener('online', onOnline)
  onScopeDispose(() => {
    disposed = true
    clearTimeout(nextCheck)
    clearInterval(ticker)
    inFlight?.abort()
    window.removeEventListener('online', onOnline)
  })
  void check()

  return { status, missing, problems, checking, retryInSeconds, retryNow }
}
