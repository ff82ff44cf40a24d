import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, errorFromBody, filenameFromDisposition, type FetchLike } from './client'
import { createImagesApi } from './images'

/** Just enough XMLHttpRequest for ApiClient.upload, driven by the test. */
class FakeXhr {
  method = ''
  url = ''
  headers: Record<string, string> = {}
  responseType = ''
  status = 0
  responseText = ''
  body: unknown = null
  responseHeaders: Record<string, string> = {}
  upload: { onprogress: ((event: Partial<ProgressEvent>) => void) | null; onload: (() => void) | null } = {
    onprogress: null,
    onload: null,
  }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  ontimeout: (() => void) | null = null
  onabort: (() => void) | null = null
  aborted = false

  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.aborted = true
    this.onabort?.()
  }
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.responseHeaders = headers
    this.onload?.()
  }
}

function clientWithXhr() {
  const xhrs: FakeXhr[] = []
  const client = new ApiClient(vi.fn<FetchLike>(), () => {
    const xhr = new FakeXhr()
    xhrs.push(xhr)
    return xhr as unknown as XMLHttpRequest
  })
  return { client, xhrs }
}

const photo = () => new File([new Uint8Array([0xff, 0xd8, 0xff])], 'IMG_0001.jpg', { type: 'image/jpeg' })

describe('ApiClient.upload', () => {
  it('POSTs one multipart "file" part with the CSRF header and reports progress', async () => {
    const { client, xhrs } = clientWithXhr()
    const onProgress = vi.fn()
    const onSent = vi.fn()
    const file = photo()
    const done = client.upload('/api/v1/images', file, { onProgress, onSent })
    const xhr = xhrs[0]!

    expect(xhr.method).toBe('POST')
    expect(xhr.url).toBe('/api/v1/images')
    expect(xhr.headers).toMatchObject({ 'X-Requested-With': 'ImageTools', Accept: 'application/json' })
    expect(xhr.body).toBeInstanceOf(FormData)
    const part = (xhr.body as FormData).get('file') as File
    expect(part.name).toBe('IMG_0001.jpg')

    xhr.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 })
    xhr.upload.onprogress?.({ lengthComputable: false, loaded: 60, total: 0 })
    expect(onProgress).toHaveBeenCalledExactlyOnceWith(50, 100)
    xhr.upload.onload?.()
    expect(onSent).toHaveBeenCalledOnce()

    xhr.respond(201, { images: [], errors: [] })
    await expect(done).resolves.toEqual({ images: [], errors: [] })
  })

  it("rejects with the server's error envelope", async () => {
    const { client, xhrs } = clientWithXhr()
    const done = client.upload('/api/v1/images', photo())
    xhrs[0]!.respond(409, { error: { code: 'quota_exceeded', message: 'This session already holds 5 images', request_id: 'r1' } })
    const error = (await done.catch((e: unknown) => e)) as ApiError
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 409, code: 'quota_exceeded', message: 'This session already holds 5 images', requestId: 'r1' })
  })

  it("turns a proxy's HTML 413 into an ApiError with a fallback message", async () => {
    const { client, xhrs } = clientWithXhr()
    const done = client.upload('/api/v1/images', photo())
    xhrs[0]!.respond(413, '<html>Request Entity Too Large</html>', { 'X-Request-ID': 'from-header' })
    await expect(done).rejects.toMatchObject({ status: 413, code: 'http_413', requestId: 'from-header' })
  })

  it('reports a network failure as status 0', async () => {
    const { client, xhrs } = clientWithXhr()
    const done = client.upload('/api/v1/images', photo())
    xhrs[0]!.onerror?.()
    await expect(done).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })

  it('aborts through the signal with an AbortError, not an ApiError', async () => {
    const { client, xhrs } = clientWithXhr()
    const controller = new AbortController()
    const done = client.upload('/api/v1/images', photo(), { signal: controller.signal })
    controller.abort()
    expect(xhrs[0]!.aborted).toBe(true)
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('rejects a 2xx whose body is not JSON', async () => {
    const { client, xhrs } = clientWithXhr()
    const done = client.upload('/api/v1/images', photo())
    xhrs[0]!.respond(201, 'not json')
    await expect(done).rejects.toMatchObject({ code: 'invalid_response' })
  })
})

describe('ApiClient.blob', () => {
  it('POSTs JSON with the CSRF header and returns the body with its file name', async () => {
    const fetch = vi.fn<FetchLike>(
      async () =>
        new Response(new Blob(['PK']), {
          status: 200,
          headers: { 'Content-Type': 'application/zip', 'Content-Disposition': 'attachment; filename="Images.zip"' },
        }),
    )
    const result = await new ApiClient(fetch).blob('POST', '/api/v1/archive', { body: { ids: ['a'] } })
    expect(result.filename).toBe('Images.zip')
    expect(await result.blob.text()).toBe('PK')
    const [, init] = fetch.mock.calls[0]!
    expect(init?.headers).toMatchObject({ 'X-Requested-With': 'ImageTools', 'Content-Type': 'application/json' })
    expect(init?.body).toBe('{"ids":["a"]}')
  })

  it('throws the error envelope of a failed download', async () => {
    const fetch = vi.fn<FetchLike>(
      async () => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such image' } }), { status: 404 }),
    )
    await expect(new ApiClient(fetch).blob('POST', '/api/v1/archive', { body: { ids: ['x'] } })).rejects.toMatchObject({
      status: 404,
      message: 'no such image',
    })
  })
})

describe('errorFromBody and filenameFromDisposition', () => {
  it('prefers the body request id, then the header', () => {
    expect(errorFromBody(422, { error: { code: 'validation_error', message: 'width: too big' } }, 'h')).toMatchObject({
      code: 'validation_error',
      requestId: 'h',
    })
    expect(errorFromBody(502, null).message).toMatch(/HTTP 502/)
  })

  it('reads plain and RFC 5987 file names', () => {
    expect(filenameFromDisposition('attachment; filename="IMG_1234.jpg"')).toBe('IMG_1234.jpg')
    expect(filenameFromDisposition("attachment; filename=a.zip; filename*=UTF-8''%C3%A9t%C3%A9.zip")).toBe('été.zip')
    expect(filenameFromDisposition('attachment; filename=plain.zip')).toBe('plain.zip')
    expect(filenameFromDisposition(null)).toBeNull()
    expect(filenameFromDisposition('inline')).toBeNull()
  })
})

describe('images API', () => {
  function recordingClient() {
    const client = new ApiClient(vi.fn<FetchLike>())
    const request = vi.spyOn(client, 'request').mockResolvedValue({})
    return { api: createImagesApi(client), request }
  }

  it('sends operations, history moves and bulk deletes to the documented routes', async () => {
    const { api, request } = recordingClient()
    await api.apply('9b1', { type: 'rotate', degrees: 270 })
    await api.undo('9b1')
    await api.redo('9b1')
    await api.revert('9b1', 2)
    await api.removeMany(['a', 'b'])
    await api.clear()
    await api.remove('a b')
    expect(request.mock.calls).toEqual([
      ['POST', '/api/v1/images/9b1/operations', { body: { type: 'rotate', degrees: 270 }, signal: undefined }],
      ['POST', '/api/v1/images/9b1/undo', { body: undefined, signal: undefined }],
      ['POST', '/api/v1/images/9b1/redo', { body: undefined, signal: undefined }],
      ['POST', '/api/v1/images/9b1/revert', { body: { version: 2 }, signal: undefined }],
      ['POST', '/api/v1/images/delete', { body: { ids: ['a', 'b'] }, signal: undefined }],
      ['DELETE', '/api/v1/images', { body: undefined, signal: undefined }],
      ['DELETE', '/api/v1/images/a%20b', { body: undefined, signal: undefined }],
    ])
  })

  it('manages profiles, including the override and reset of a system preset', async () => {
    const { api, request } = recordingClient()
    const settings = { max_width: 800, max_height: 800, quality: 80, target_kb: 300, format: 'jpeg' as const, keep_aspect: true }
    await api.presets()
    await api.createProfile({ name: 'Mine', settings })
    await api.updateProfile('email', { name: 'Email', settings })
    await api.deleteProfile('email')
    expect(request.mock.calls.map(([method, path]) => `${method} ${path}`)).toEqual([
      'GET /api/v1/presets',
      'POST /api/v1/profiles',
      'PUT /api/v1/profiles/email',
      'DELETE /api/v1/profiles/email',
    ])
  })
})
