// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '../api/client'
import type { OpenRouterApi } from '../api/openrouter'
import { OPENROUTER_KEYS_URL, useOpenRouter } from './useOpenRouter'
import { connectedStatus, disconnectedStatus, KEY_HASH } from '../test/fixtures'

const hash = KEY_HASH
const disconnected = disconnectedStatus
const connected = connectedStatus
const unavailable = new ApiError({ code: 'service_unavailable', message: 'AI features are unavailable', status: 503 })

function fakeClient(overrides: Partial<OpenRouterApi> = {}) {
  const client = {
    status: vi.fn<OpenRouterApi['status']>().mockResolvedValue(connected),
    connect: vi.fn<OpenRouterApi['connect']>().mockResolvedValue({
      authorize_url: 'https://openrouter.ai/auth?callback_url=x&code_challenge=y&code_challenge_method=S256',
    }),
    disconnect: vi.fn<OpenRouterApi['disconnect']>().mockResolvedValue({ ...disconnected, revoke_url: connected.revoke_url }),
  }
  return Object.assign(client, overrides)
}

describe('useOpenRouter', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => scope.stop())

  it('loads the status, and keeps a failed refresh as an error next to the last good status', async () => {
    const client = fakeClient()
    client.status.mockResolvedValueOnce(connected).mockRejectedValueOnce(unavailable)
    const state = scope.run(() => useOpenRouter(client))!

    await state.refresh()
    expect(state.status.value).toEqual(connected)
    expect(state.error.value).toBeNull()

    await state.refresh()
    expect(state.status.value).toEqual(connected)
    expect(state.error.value).toBe(unavailable)
    expect(state.loading.value).toBe(false)
  })

  it('keeps only the latest of overlapping refreshes', async () => {
    const client = fakeClient()
    client.status
      .mockImplementationOnce(
        (signal) =>
          new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
          }),
      )
      .mockResolvedValueOnce(disconnected)
    const state = scope.run(() => useOpenRouter(client))!
    await Promise.all([state.refresh(), state.refresh()])
    expect(client.status.mock.calls[0]![0]!.aborted).toBe(true)
    expect(state.status.value).toEqual(disconnected)
    expect(state.error.value).toBeNull()
  })

  it('connects by asking the server for the authorize URL and going there', async () => {
    const client = fakeClient()
    const navigate = vi.fn()
    const state = scope.run(() => useOpenRouter(client, { navigate }))!

    await state.connect()
    expect(client.connect).toHaveBeenCalledOnce()
    expect(navigate).toHaveBeenCalledWith(
      'https://openrouter.ai/auth?callback_url=x&code_challenge=y&code_challenge_method=S256',
    )
    // The page is leaving: the button stays busy, and a second click does nothing.
    expect(state.connecting.value).toBe(true)
    await state.connect()
    expect(client.connect).toHaveBeenCalledOnce()
  })

  it('reports a failed connect and lets the person try again', async () => {
    const client = fakeClient({ connect: vi.fn<OpenRouterApi['connect']>().mockRejectedValueOnce(unavailable) })
    const navigate = vi.fn()
    const state = scope.run(() => useOpenRouter(client, { navigate }))!

    await expect(state.connect()).rejects.toBe(unavailable)
    expect(navigate).not.toHaveBeenCalled()
    expect(state.connecting.value).toBe(false)
  })

  it('refuses to navigate to anything but a web address', async () => {
    const client = fakeClient({
      connect: vi.fn<OpenRouterApi['connect']>().mockResolvedValue({ authorize_url: 'javascript:alert(1)' }),
    })
    const navigate = vi.fn()
    const state = scope.run(() => useOpenRouter(client, { navigate }))!

    await expect(state.connect()).rejects.toMatchObject({ code: 'invalid_response' })
    expect(navigate).not.toHaveBeenCalled()
    expect(state.connecting.value).toBe(false)
  })

  it('disconnects, takes the new status, and keeps the link to revoke the removed key', async () => {
    const client = fakeClient()
    const state = scope.run(() => useOpenRouter(client))!
    await state.refresh()

    await state.disconnect()
    expect(client.disconnect).toHaveBeenCalledOnce()
    expect(state.status.value?.state).toBe('disconnected')
    expect(state.revokeUrl.value).toBe(`https://openrouter.ai/keys/${hash}`)
    expect(state.disconnecting.value).toBe(false)

    // Connecting a new key later replaces the notice.
    await state.refresh()
    expect(state.revokeUrl.value).toBeNull()
  })

  it('falls back to the revoke link it had, then to the keys page', async () => {
    const client = fakeClient({ disconnect: vi.fn<OpenRouterApi['disconnect']>().mockResolvedValue(disconnected) })
    const state = scope.run(() => useOpenRouter(client))!
    await state.refresh()
    await state.disconnect()
    expect(state.revokeUrl.value).toBe(connected.revoke_url)

    const blank = scope.run(() => useOpenRouter(fakeClient({ disconnect: client.disconnect })))!
    await blank.disconnect()
    expect(blank.revokeUrl.value).toBe(OPENROUTER_KEYS_URL)
  })

  it('keeps the status when disconnecting fails', async () => {
    const client = fakeClient({ disconnect: vi.fn<OpenRouterApi['disconnect']>().mockRejectedValue(unavailable) })
    const state = scope.run(() => useOpenRouter(client))!
    await state.refresh()

    await expect(state.disconnect()).rejects.toBe(unavailable)
    expect(state.status.value).toEqual(connected)
    expect(state.revokeUrl.value).toBeNull()
    expect(state.disconnecting.value).toBe(false)
  })

  it('is not left "connecting" when the page comes back from the back/forward cache', async () => {
    const state = scope.run(() => useOpenRouter(fakeClient(), { navigate: () => {} }))!
    await state.connect()
    expect(state.connecting.value).toBe(true)
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    expect(state.connecting.value).toBe(false)
  })
})
