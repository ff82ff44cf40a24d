import type { ApiErrorBody, HealthBody, HealthResult, SessionInfo } from './types'

/** The subset of `fetch` the client uses; tests pass their own. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** The gateway's CSRF check rejects state-changing requests without this header. */
export const CSRF_HEADER = 'X-Requested-With'
export const CSRF_VALUE = 'ImageTools'

export interface ApiErrorInit {
  code: string
  message: string
  /** HTTP status; 0 when no response arrived at all. */
  status: number
  requestId?: string | null
  /** Seconds the server asked to wait before trying again (Retry-After), when it said. */
  retryAfter?: number | null
}

/** A failed API call, carrying the server's error envelope (or a stand-in for one). */
export class ApiError extends Error {
  readonly code: string
  readonly status: number
  /** Quote this when reporting a problem: it ties the failure to the server's logs. */
  readonly requestId: string | null
  /** From Retry-After on a 429 or 503: seconds until the server expects to have room again. */
  readonly retryAfter: number | null

  constructor({ code, message, status, requestId = null, retryAfter = null }: ApiErrorInit) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = status
    this.requestId = requestId
    this.retryAfter = retryAfter
  }
}

export interface RequestOptions {
  /** Serialised as JSON. */
  body?: unknown
  signal?: AbortSignal
}

export interface UploadOptions {
  /** Bytes sent so far out of the total, as the browser reports them. */
  onProgress?: (loaded: number, total: number) => void
  /** The whole body has been sent; the server is now working on it. */
  onSent?: () => void
  signal?: AbortSignal
  /** Name of the multipart part; the API expects "file". */
  field?: string
}

/** A downloaded body (ZIP archive, image bytes) with the name the server suggested. */
export interface BlobResult {
  blob: Blob
  /** From Content-Disposition; null when the server gave none. */
  filename: string | null
}

/** The subset of XMLHttpRequest that uploads use; tests pass their own. */
export type XhrFactory = () => XMLHttpRequest

const NETWORK_MESSAGE = "Can't reach the ImageTools server. Check your connection and try again."

function networkError(): ApiError {
  return new ApiError({ code: 'network_error', message: NETWORK_MESSAGE, status: 0 })
}

function abortError(): DOMException {
  return new DOMException('The request was cancelled', 'AbortError')
}

/** The filename of a Content-Disposition header, preferring the RFC 5987 `filename*` form. */
export function filenameFromDisposition(header: string | null): string | null {
  if (!header) return null
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim().replace(/^"|"$/g, ''))
    } catch {
      // Malformed escape: fall through to the plain form.
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(header)
  const name = plain?.[2] ?? plain?.[1]
  return name ? name.trim() : null
}

/**
 * Seconds to wait from a Retry-After header, which is either a number of seconds or an HTTP date;
 * null when absent or unreadable. Never negative: a date in the past means "now".
 */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | null {
  const value = header?.trim()
  if (!value) return null
  if (/^\d+$/.test(value)) return Number(value)
  // An HTTP date names its day and month; Date.parse would also take "-3" as a year.
  if (!/[A-Za-z]{3}/.test(value)) return null
  const date = Date.parse(value)
  if (Number.isNaN(date)) return null
  return Math.max(0, Math.ceil((date - now) / 1000))
}

/** The strings of a list the server sent; [] for anything else (a proxy may answer in its place). */
function names(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}

/** Used when an error response is not the API's JSON envelope, e.g. a reverse proxy's 502 page. */
function fallbackMessage(status: number): string {
  if (status === 413) return 'That is too large for the server to accept.'
  if (status === 429) return 'Too many requests. Please wait a moment and try again.'
  if (status >= 500) return `The server had a problem (HTTP ${status}). Please try again shortly.`
  return `The request failed (HTTP ${status}).`
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false
  const error = (value as { error: unknown }).error
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  )
}

/**
 * The ApiError for a failed response, given its status and its body parsed as JSON (null when
 * it was not JSON: an HTML error page from a proxy, an empty body).
 */
export function errorFromBody(status: number, body: unknown, headerRequestId: string | null = null): ApiError {
  if (isErrorBody(body)) {
    return new ApiError({
      code: body.error.code,
      message: body.error.message,
      status,
      requestId: body.error.request_id ?? headerRequestId,
    })
  }
  return new ApiError({
    code: `http_${status}`,
    message: fallbackMessage(status),
    status,
    requestId: headerRequestId,
  })
}

/** Turns a non-2xx response into an ApiError, whatever its body looks like. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    // Not JSON: errorFromBody falls back to a message for the status.
  }
  const error = errorFromBody(response.status, body, response.headers.get('X-Request-ID'))
  const retryAfter = retryAfterSeconds(response.headers.get('Retry-After'))
  if (retryAfter === null) return error
  return new ApiError({ code: error.code, message: error.message, status: error.status, requestId: error.requestId, retryAfter })
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError'
}

/**
 * Typed access to the gateway. Every call is same-origin with the session cookie; every
 * non-GET call carries the CSRF header. Failures are thrown as ApiError, except aborts,
 * which are rethrown untouched so that callers can ignore requests they cancelled.
 */
export class ApiClient {
  // Late-bound so that a stubbed global fetch (tests) or a polyfill is picked up, and so
  // that window.fetch is never called with a foreign `this` ("Illegal invocation").
  constructor(
    private readonly fetchFn: FetchLike = (input, init) => globalThis.fetch(input, init),
    private readonly xhrFactory: XhrFactory = () => new XMLHttpRequest(),
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options, 'application/json')
    if (response.status === 204) return undefined as T
    try {
      return (await response.json()) as T
    } catch {
      throw new ApiError({
        code: 'invalid_response',
        message: 'The server sent a response the app could not read.',
        status: response.status,
        requestId: response.headers.get('X-Request-ID'),
      })
    }
  }

  /** One fetch with the app's conventions: credentials, the CSRF header, JSON bodies, ApiError. */
  private async send(
    method: string,
    path: string,
    { body, signal }: RequestOptions,
    accept?: string,
  ): Promise<Response> {
    const headers: Record<string, string> = accept ? { Accept: accept } : {}
    if (method !== 'GET' && method !== 'HEAD') headers[CSRF_HEADER] = CSRF_VALUE
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let response: Response
    try {
      response = await this.fetchFn(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal,
      })
    } catch (error) {
      if (isAbort(error)) throw error
      throw networkError()
    }
    if (!response.ok) throw await errorFromResponse(response)
    return response
  }

  /**
   * The raw response of a successful call, for bodies read as they arrive (server-sent events).
   * Same conventions as every call; an error status is thrown as ApiError before any reading.
   */
  open(method: string, path: string, options: RequestOptions = {}, accept?: string): Promise<Response> {
    return this.send(method, path, options, accept)
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { signal })
  }

  post<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, { body, signal })
  }

  put<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('PUT', path, { body, signal })
  }

  delete<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.request<T>('DELETE', path, { body, signal })
  }

  /** A binary body (a ZIP, image bytes); errors come back as ApiError like any other call. */
  async blob(method: string, path: string, options: RequestOptions = {}): Promise<BlobResult> {
    const response = await this.send(method, path, options)
    try {
      const blob = await response.blob()
      return { blob, filename: filenameFromDisposition(response.headers.get('Content-Disposition')) }
    } catch (error) {
      if (isAbort(error)) throw error
      throw networkError()
    }
  }

  /**
   * POSTs one file as multipart/form-data through XMLHttpRequest, the only browser API that
   * reports upload progress. Resolves with the parsed JSON; rejects with ApiError, or with an
   * AbortError DOMException when `signal` cancels it.
   */
  upload<T>(path: string, file: File, { onProgress, onSent, signal, field = 'file' }: UploadOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError())
        return
      }
      const xhr = this.xhrFactory()
      const onAbortSignal = () => xhr.abort()
      const settle = (action: () => void) => {
        signal?.removeEventListener('abort', onAbortSignal)
        action()
      }

      xhr.open('POST', path)
      xhr.setRequestHeader('Accept', 'application/json')
      xhr.setRequestHeader(CSRF_HEADER, CSRF_VALUE)
      xhr.responseType = 'text'
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress?.(event.loaded, event.total)
      }
      xhr.upload.onload = () => onSent?.()
      xhr.onload = () =>
        settle(() => {
          const requestId = xhr.getResponseHeader('X-Request-ID')
          const body = parseJson(xhr.responseText)
          if (xhr.status >= 200 && xhr.status < 300) {
            if (body === null) {
              reject(
                new ApiError({
                  code: 'invalid_response',
                  message: 'The server sent a response the app could not read.',
                  status: xhr.status,
                  requestId,
                }),
              )
            } else {
              resolve(body as T)
            }
          } else {
            reject(errorFromBody(xhr.status, body, requestId))
          }
        })
      xhr.onerror = () => settle(() => reject(networkError()))
      xhr.ontimeout = () => settle(() => reject(networkError()))
      xhr.onabort = () => settle(() => reject(abortError()))
      signal?.addEventListener('abort', onAbortSignal)

      const form = new FormData()
      form.append(field, file, file.name)
      xhr.send(form)
    })
  }

  getSession(signal?: AbortSignal): Promise<SessionInfo> {
    return this.request<SessionInfo>('GET', '/api/v1/session', { signal })
  }

  /** Ends the session and deletes everything in it; the next getSession starts a new one. */
  deleteSession(): Promise<void> {
    return this.request<void>('DELETE', '/api/v1/session')
  }

  /** Never throws: any failure to get a usable answer is reported as 'offline'. */
  async health(signal?: AbortSignal): Promise<HealthResult> {
    try {
      const response = await this.fetchFn('/health', {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
        signal,
      })
      if (response.ok) return { status: 'healthy' }
      if (response.status === 503) {
        const body = (await response.json().catch(() => null)) as HealthBody | null
        // A 503 without the gateway's body comes from something in front of it.
        if (body?.status === 'unhealthy') {
          return { status: 'degraded', missing: names(body.missing), problems: names(body.problems) }
        }
      }
      return { status: 'offline' }
    } catch {
      return { status: 'offline' }
    }
  }
}

/** The app's client. Components reach the API through composables that default to this. */
export const api = new ApiClient()

/** Normalises anything caught around an API call, so the UI always has a message to show. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError({
    code: 'client_error',
    message: error instanceof Error ? error.message : 'Something went wrong.',
    status: 0,
  })
}
