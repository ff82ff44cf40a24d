import { api, type ApiClient } from './client'
import type { OpenRouterConnectStart, OpenRouterStatus } from './types'

const BASE = '/api/v1/openrouter'

/** Typed calls for connecting the person's own OpenRouter account (the key stays on the server). */
export function createOpenRouterApi(client: ApiClient = api) {
  return {
    status: (signal?: AbortSignal) => client.get<OpenRouterStatus>(`${BASE}/status`, signal),
    /** Starts the OAuth (PKCE) flow on the server; the browser then goes to `authorize_url`. */
    connect: () => client.post<OpenRouterConnectStart>(`${BASE}/connect`),
    /**
     * Deletes the stored key. Answers with the new status; its `revoke_url` is the one of the
     * key that was just removed, since only OpenRouter can revoke it.
     */
    disconnect: () => client.delete<OpenRouterStatus>(BASE),
  }
}

export type OpenRouterApi = ReturnType<typeof createOpenRouterApi>

/** The app's OpenRouter calls. useOpenRouter takes an OpenRouterApi so that tests can pass a fake. */
export const openRouterApi = createOpenRouterApi()
