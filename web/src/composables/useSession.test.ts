import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiClient, ApiError } from '../api/client'
import { useSession } from './useSession'

const session = {
  active: true,
  created_at: '2026-11-25T20:00:00+00:00',
  expires_at: '2026-12-02T20:00:00+00:00',
  image_count: 0,
  limits: { max_images: 5, max_upload_mb: 20, expiry_days: 7 },
  version: '0.1.0',
}
const unavailable = new ApiError({ code: 'service_unavailable', message: 'Sessions are unavailable', status: 503 })

describe('useSession', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => scope.stop())

  it('loads the session, and keeps the error of a failed load for retry', async () => {
    const client = new ApiClient()
    const getSession = vi.spyOn(client, 'getSession').mockRejectedValueOnce(unavailable).mockResolvedValueOnce(session)
    const state = scope.run(() => useSession(client))!

    await state.load()
    expect(state.session.value).toBeNull()
    expect(state.error.value).toBe(unavailable)
    expect(state.loading.value).toBe(false)

    await state.load()
    expect(state.session.value).toEqual(session)
    expect(state.error.value).toBeNull()
    expect(getSession).toHaveBeenCalledTimes(2)
  })

  it('keeps only the latest of overlapping loads', async () => {
    const client = new ApiClient()
    const newer = { ...session, image_count: 3 }
    const getSession = vi
      .spyOn(client, 'getSession')
      // The first request hangs until it is aborted, as fetch does.
      .mockImplementationOnce(
        (signal) =>
          new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
          }),
      )
      .mockResolvedValueOnce(newer)
    const state = scope.run(() => useSession(client))!
    const first = state.load()
    const second = state.load()
    await Promise.all([first, second])
    expect(getSession.mock.calls[0]![0]!.aborted).toBe(true)
    expect(state.session.value).toEqual(newer)
    expect(state.error.value).toBeNull()
    expect(state.loading.value).toBe(false)
  })

  it('ends the session and shows that there is none until the next upload', async () => {
    const client = new ApiClient()
    const deleteSession = vi.spyOn(client, 'deleteSession').mockResolvedValue(undefined)
    const none = { ...session, active: false, created_at: null, expires_at: null }
    vi.spyOn(client, 'getSession').mockResolvedValueOnce(session).mockResolvedValueOnce(none)
    const state = scope.run(() => useSession(client))!

    await state.load()
    await state.end()
    expect(deleteSession).toHaveBeenCalledOnce()
    expect(state.session.value).toEqual(none)
  })

  it('lets a failed delete reach the caller and keeps the session', async () => {
    const client = new ApiClient()
    vi.spyOn(client, 'getSession').mockResolvedValue(session)
    vi.spyOn(client, 'deleteSession').mockRejectedValue(unavailable)
    const state = scope.run(() => useSession(client))!

    await state.load()
    await expect(state.end()).rejects.toBe(unavailable)
    expect(state.session.value).toEqual(session)
  })
})
