import { onScopeDispose, ref, shallowRef } from 'vue'
import { api, toApiError, type ApiClient, type ApiError } from '../api/client'
import type { SessionInfo } from '../api/types'

/**
 * The browser session: loaded once by the app shell and handed down as props. Until the first
 * upload (or stored setting) the server has none and answers `active: false` with the limits.
 * `load` can be called again at any time (retry, server back online); only the latest
 * call's outcome is kept.
 */
export function useSession(client: ApiClient = api) {
  const session = shallowRef<SessionInfo | null>(null)
  const error = shallowRef<ApiError | null>(null)
  const loading = ref(false)
  let inFlight: AbortController | null = null

  async function load(): Promise<void> {
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    loading.value = true
    try {
      session.value = await client.getSession(controller.signal)
      error.value = null
    } catch (caught) {
      if (controller.signal.aborted) return
      // A stale session stays on screen: the offline banner already says the server is away.
      error.value = toApiError(caught)
    } finally {
      if (inFlight === controller) {
        inFlight = null
        loading.value = false
      }
    }
  }

  /** Deletes the session and its data, then shows the no-session state. Throws ApiError on failure. */
  async function end(): Promise<void> {
    await client.deleteSession()
    session.value = null
    await load()
  }

  onScopeDispose(() => inFlight?.abort())

  return { session, error, loading, load, end }
}
