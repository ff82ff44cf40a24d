import { onScopeDispose, ref, shallowRef } from 'vue'
import { ApiError, toApiError } from '../api/client'
import { openRouterApi, type OpenRouterApi } from '../api/openrouter'
import type { OpenRouterStatus } from '../api/types'
import { useLatestRequest } from './useLatestRequest'

/** Where keys are managed at OpenRouter, for when the server did not give the key's own page. */
export const OPENROUTER_KEYS_URL = 'https://openrouter.ai/settings/keys'

export interface OpenRouterOptions {
  /** Sends the browser to OpenRouter's approval page; tests pass their own. */
  navigate?: (url: string) => void
}

/** Only a web address may be navigated to (the server names it, but never a `javascript:` URL). */
function isWebUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false
  try {
    const { protocol } = new URL(value)
    // http only for a local fake OpenRouter in tests; the real one is https.
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

/**
 * The person's OpenRouter connection: status from the server, connecting (a full-page trip
 * to OpenRouter and back) and disconnecting. The key itself never reaches the browser.
 */
export function useOpenRouter(
  client: OpenRouterApi = openRouterApi,
  { navigate = (url) => window.location.assign(url) }: OpenRouterOptions = {},
) {
  const status = shallowRef<OpenRouterStatus | null>(null)
  /** Why the last refresh failed; the previous status (if any) stays meanwhile. */
  const error = shallowRef<ApiError | null>(null)
  /** On its way to OpenRouter: stays true while the page unloads. */
  const connecting = ref(false)
  const disconnecting = ref(false)
  /** After a disconnect: where to revoke the removed key at OpenRouter (this app cannot). */
  const revokeUrl = ref<string | null>(null)
  const latest = useLatestRequest()
  const loading = latest.loading

  function refresh(): Promise<void> {
    return latest.run((signal) => client.status(signal), {
      done: (next) => {
        status.value = next
        error.value = null
        // A new key is connected: the notice about the old one no longer fits the dialog.
        if (next.state === 'connected' && next.source === 'user') revokeUrl.value = null
      },
      failed: (caught) => {
        error.value = caught
      },
    })
  }

  /** Asks the server to start the OAuth flow and goes to OpenRouter. Throws ApiError on failure. */
  async function connect(): Promise<void> {
    if (connecting.value) return
    connecting.value = true
    try {
      const { authorize_url: url } = await client.connect()
      if (!isWebUrl(url)) {
        throw new ApiError({
          code: 'invalid_response',
          message: 'The server sent a response the app could not read.',
          status: 200,
        })
      }
      navigate(url)
    } catch (caught) {
      connecting.value = false
      throw toApiError(caught)
    }
  }

  /** Deletes the stored key on the server. Throws ApiError on failure. */
  async function disconnect(): Promise<void> {
    if (disconnecting.value) return
    disconnecting.value = true
    const previous = status.value?.revoke_url ?? null
    try {
      const next = await client.disconnect()
      // A refresh that started before the delete would bring back the old status.
      latest.abort()
      status.value = next
      error.value = null
      revokeUrl.value = [next.revoke_url, previous].find(isWebUrl) ?? OPENROUTER_KEYS_URL
    } catch (caught) {
      throw toApiError(caught)
    } finally {
      disconnecting.value = false
    }
  }

  // Back from OpenRouter's page without approving: a page restored from the back/forward cache
  // would otherwise still say "Opening OpenRouter…".
  function onPageShow(event: PageTransitionEvent): void {
    if (event.persisted) connecting.value = false
  }
  if (typeof window !== 'undefined') window.addEventListener('pageshow', onPageShow)

  onScopeDispose(() => {
    if (typeof window !== 'undefined') window.removeEventListener('pageshow', onPageShow)
  })

  return { status, error, loading, connecting, disconnecting, revokeUrl, refresh, connect, disconnect }
}

export type OpenRouterConnection = ReturnType<typeof useOpenRouter>
