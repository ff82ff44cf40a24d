import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, toApiError, type FetchLike } from './client'

const session = {
  active: true,
  created_at: '2026-11-25T20:00:00+00:00',
  expires_at: '2026-12-02T20:00:00+00:00',
  image_count: 0,
  limits: { max_images: 5, max_upload_mb: 20, expiry_days: 7 },
  version: '0.1.0',
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

/** A fake fetch that answers every call with `respond()` and records what it was asked. */
function fakeFetch(respond: () => Response | Promise<Response>) {
  return vi.fn<FetchLike>(async () => respond())
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

describe('ApiClient requests', () => {
  it('GETs the session same-origin, without the CSRF header', async () => {
    const fetch = fakeFetch(() => json(200, session))
    const result = await new ApiClient(fetch).getSession()

    expect(result).toEqual(session)
    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe('/api/v1/session')
    expect(init?.method).toBe('GET')
    expect(init?.credentials).toBe('same-origin')
    expect(init?.headers).not.toHaveProperty('X-Requested-With')
    expect(init?.body).toBeUndefined()
  })

  it('sends the CSRF header on every non-GET request, and returns nothing for 204', async () => {
    const fetch = fakeFetch(() => new Response(null, { status: 204 }))
    await expect(new ApiClient(fetch).deleteSession()).resolves.toBeUndefined()

    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe('/api/v1/session')
    expect(init?.method).toBe('DELETE')
    expect(init?.credentials).toBe('same-origin')
    expect(init?.headers).toMatchObject({ 'X-Requested-With': 'ImageTools' })
    expect(init?.headers).not.toHaveProperty('Content-Type')
  })

  it('serialises a body as JSON with its content type', async () => {
    const fetch = fakeFetch(() => json(201, { id: 'p1' }))
    await new ApiClient(fetch).request('POST', '/api/v1/profiles', { body: { name: 'Email', quality: 80 } })

    const init = fetch.mock.calls[0]![1]
    expect(init?.headers).toMatchObject({ 'Content-Type': 'application/json', 'X-Requested-With': 'ImageTools' })
    expect(init?.body).toBe('{"name":"Email","quality":80}')
  })

  it('uses the global fetch when none is given', async () => {
    const fetch = fakeFetch(() => json(200, session))
    vi.stubGlobal('fetch', fetch)
    await new ApiClient().getSession()
    expect(fetch).toHaveBeenCalledOnce()
  })
})

describe('ApiClient errors', () => {
  it("turns the API's error envelope into an ApiError", async () => {
    const fetch = fakeFetch(() =>
      json(503, { error: { code: 'service_unavailable', message: 'Sessions are unavailable', request_id: 'req-1' } }),
    )
    const error = await caught(new ApiClient(fetch).getSession())

    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      code: 'service_unavailable',
      message: 'Sessions are unavailable',
      status: 503,
      requestId: 'req-1',
    })
  })

  it('falls back to the X-Request-ID header when the body has no request id', async () => {
    const fetch = fakeFetch(() => json(404, { error: { code: 'not_found', message: 'No such image' } }, { 'X-Request-ID': 'req-2' }))
    const error = await caught(new ApiClient(fetch).request('GET', '/api/v1/images/x'))
    expect(error).toMatchObject({ code: 'not_found', message: 'No such image', status: 404, requestId: 'req-2' })
  })

  it("makes a readable error from a proxy's HTML error page", async () => {
    const fetch = fakeFetch(() => new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } }))
    const error = await caught(new ApiClient(fetch).getSession())
    expect(error).toMatchObject({ code: 'http_502', status: 502, requestId: null })
    expect((error as ApiError).message).toMatch(/server had a problem/)
  })

  it('does not trust JSON that is not the error envelope', async () => {
    const fetch = fakeFetch(() => json(413, { detail: 'too big' }))
    const error = await caught(new ApiClient(fetch).request('POST', '/api/v1/images'))
    expect(error).toMatchObject({ code: 'http_413', status: 413, message: 'That is too large for the server to accept.' })
  })

  it('reports a network failure as status 0', async () => {
    const fetch = vi.fn<FetchLike>(async () => {
      throw new TypeError('Failed to fetch')
    })
    const error = await caught(new ApiClient(fetch).getSession())
    expect(error).toMatchObject({ code: 'network_error', status: 0 })
    expect((error as ApiError).message).toMatch(/Can't reach the ImageTools server/)
  })

  it('lets an abort through untouched, so callers can ignore what they cancelled', async () => {
    const fetch = vi.fn<FetchLike>(async () => {
      throw new DOMException('The operation was aborted.', 'AbortError')
    })
    const error = await caught(new ApiClient(fetch).getSession())
    expect(error).not.toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ name: 'AbortError' })
  })

  it('reports a success response that is not JSON', async () => {
    const fetch = fakeFetch(() => new Response('<html>index</html>', { status: 200 }))
    const error = await caught(new ApiClient(fetch).getSession())
    expect(error).toMatchObject({ code: 'invalid_response', status: 200 })
  })

  it('wraps anything else caught around a call', () => {
    const apiError = new ApiError({ code: 'x', message: 'y', status: 400 })
    expect(toApiError(apiError)).toBe(apiError)
    expect(toApiError(new Error('boom'))).toMatchObject({ code: 'client_error', message: 'boom', status: 0 })
    expect(toApiError('??')).toMatchObject({ code: 'client_error', message: 'Something went wrong.' })
  })
})

describe('ApiClient.health', () => {
  it('is healthy on 200', async () => {
    const fetch = fakeFetch(() => json(200, { status: 'healthy', version: '0.1.0', services: {} }))
    await expect(new ApiClient(fetch).health()).resolves.toEqual({ status: 'healthy' })
    expect(fetch.mock.calls[0]![0]).toBe('/health')
  })

  it("names the missing services from the gateway's 503", async () => {
    const fetch = fakeFetch(() => json(503, { status: 'unhealthy', missing: ['session-service', 'image-service'], services: {} }))
    await expect(new ApiClient(fetch).health()).resolves.toEqual({
      status: 'degraded',
      missing: ['session-service', 'image-service'],
      problems: [],
    })
  })

  it("names what answered but cannot work, from the gateway's 503", async () => {
    const problem = 'image-service: background-removal model isnet-general-use at var/models/isnet.onnx is corrupt'
    const fetch = fakeFetch(() =>
      json(503, {
        status: 'unhealthy',
        version: '0.1.0',
        services: { 'image-service': { replicas: 1, versions: ['0.1.0'], model: null, models: null, problems: [problem] } },
        missing: [],
        problems: [problem],
      }),
    )
    await expect(new ApiClient(fetch).health()).resolves.toEqual({ status: 'degraded', missing: [], problems: [problem] })
  })

  it('is offline on a network failure, a foreign 503, or any other status', async () => {
    const failing = vi.fn<FetchLike>(async () => {
      throw new TypeError('Failed to fetch')
    })
    await expect(new ApiClient(failing).health()).resolves.toEqual({ status: 'offline' })

    const proxy503 = fakeFetch(() => new Response('Service Unavailable', { status: 503 }))
    await expect(new ApiClient(proxy503).health()).resolves.toEqual({ status: 'offline' })

    const notFound = fakeFetch(() => new Response('', { status: 404 }))
    await expect(new ApiClient(notFound).health()).resolves.toEqual({ status: 'offline' })
  })
})
