import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, retryAfterSeconds, type FetchLike } from './client'

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, never below zero, and ignores junk', () => {
    const now = Date.parse('2026-11-26T01:00:00Z')
    expect(retryAfterSeconds('7', now)).toBe(7)
    expect(retryAfterSeconds(' 0 ', now)).toBe(0)
    expect(retryAfterSeconds('Thu, 26 Nov 2026 01:00:12 GMT', now)).toBe(12)
    expect(retryAfterSeconds('Thu, 26 Nov 2026 00:59:00 GMT', now)).toBe(0)
    expect(retryAfterSeconds('-3', now)).toBeNull()
    expect(retryAfterSeconds('soon', now)).toBeNull()
    expect(retryAfterSeconds(null, now)).toBeNull()
  })

  it('is carried by the ApiError of a 429, next to the server message', async () => {
    const fetch = vi.fn<FetchLike>(
      async () =>
        new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'queue full', request_id: 'r1' } }), {
          status: 429,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '4' },
        }),
    )
    const error = await new ApiClient(fetch).post('/api/v1/images/a/operations', {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', message: 'queue full', requestId: 'r1', retryAfter: 4 })
  })

  it('is null when the server sent none', async () => {
    const fetch = vi.fn<FetchLike>(async () => new Response('<html>busy</html>', { status: 429 }))
    const error = await new ApiClient(fetch).get('/api/v1/background/models').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 429, code: 'http_429', retryAfter: null })
  })
})
