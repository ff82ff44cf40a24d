import { shallowRef } from 'vue'
import { api, type ApiClient, type ApiError } from '../api/client'
import type { SessionInfo } from '../api/types'
import { useLatestRequest } from './useLatestRequest'

/**
 * The browser session: loaded once by the app shell and handed down as props. Until the first
 * upload (or stored setting) the server has none and answers `active: false` with the limits.
 * `load` can be called again at any time (retry, server back online); only the latest
 * call's outcome is kept.
 */
export function useSession(client: ApiClient = api) {
  const session = shallowRef<SessionInfo | null>(null)
  const error = shallowRef<ApiError | null>(null)
  const { loading, run } = useLatestRequest()

  function load(): Promise<void> {
    return run((signal) => client.getSession(signal), {
      done: (value) => {
        session.value = value
        error.value = null
      },
      // A stale session stays on screen: the offline banner already says the server is away.
      failed: (caught) => {
        error.value = caught
      },
    })
  }

  /** Deletes the session and its data, then shows the no-session state. Throws ApiError on failure. */
  async function end(): Promise<void> {
    await client.deleteSession()
    session.value = null
    await load()
  }

  return { session, error, loading, load, end }
}
