import { onScopeDispose, ref } from 'vue'
import { toApiError, type ApiError } from '../api/client'

export interface LatestHandlers<T> {
  /** The newest call's result; never called for a call that a newer one (or `abort`) replaced. */
  done: (value: T) => void
  /** The newest call failed (an abort is not a failure: it is dropped silently). */
  failed?: (error: ApiError) => void
}

/**
 * Latest request wins: each `run` aborts the one before it, and only the newest call's outcome
 * reaches its handlers, even when an older response arrives later (a client that ignores the
 * signal, a decode that cannot be cancelled). `loading` is true while the newest call runs.
 * The handlers run before `loading` drops, so the screen never shows "loaded, but nothing yet".
 */
export function useLatestRequest() {
  const loading = ref(false)
  let inFlight: AbortController | null = null

  async function run<T>(request: (signal: AbortSignal) => Promise<T>, handlers: LatestHandlers<T>): Promise<void> {
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    loading.value = true
    try {
      const value = await request(controller.signal)
      if (inFlight === controller) handlers.done(value)
    } catch (caught) {
      if (inFlight === controller && !controller.signal.aborted) handlers.failed?.(toApiError(caught))
    } finally {
      if (inFlight === controller) {
        inFlight = null
        loading.value = false
      }
    }
  }

  /** Drops the call in flight: its outcome is never delivered. */
  function abort(): void {
    inFlight?.abort()
    inFlight = null
    loading.value = false
  }

  onScopeDispose(abort)

  return { loading, run, abort }
}
