import { readSse, type SseEvent } from '../lib/sse'
import { ApiError, type ApiClient } from './client'
import type { StreamError } from './types'

/** One server-sent event of a streamed answer, its data parsed (an `error` event is thrown instead). */
export interface StreamEvent {
  event: string
  data: Record<string, unknown>
  /** The response's status, for errors about what the event holds. */
  status: number
}

const UNREADABLE = 'The server sent a reply the app could not read.'

export function unreadable(status: number): ApiError {
  return new ApiError({ code: 'invalid_response', message: UNREADABLE, status })
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function parseData(data: string, status: number): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    throw unreadable(status)
  }
  if (!isObject(value)) throw unreadable(status)
  return value
}

/** A mid-stream `error` event as an ApiError, with the server's code and message. */
function streamError(body: Record<string, unknown>, status: number): ApiError {
  const error = (body as Partial<StreamError>).error
  if (!isObject(error) || typeof error.message !== 'string') throw unreadable(status)
  const retryAfter = typeof error.retry_after === 'number' && error.retry_after >= 0 ? error.retry_after : null
  return new ApiError({
    code: typeof error.code === 'string' ? error.code : 'stream_error',
    message: error.message,
    status,
    retryAfter,
  })
}

/**
 * POSTs `body` to a streamed endpoint and yields its events as they arrive. Errors before the
 * stream starts come from the client as ApiError (4xx, 429 with retryAfter, …); an `error` event
 * is thrown as ApiError, a connection that drops mid-stream as `stream_interrupted` and a stream
 * that ends before the caller stopped reading (at its final event) as `stream_cut_off`, with the
 * given messages. Aborting `signal` closes the connection (the server stops the work) and
 * rethrows AbortError; stopping the loop early closes the connection too.
 */
export async function* streamEvents(
  client: ApiClient,
  path: string,
  body: unknown,
  messages: { dropped: string; cutOff: string },
  signal?: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  const response = await client.open('POST', path, { body, signal }, 'text/event-stream')
  const status = response.status
  if (!response.body) throw unreadable(status)
  const events = readSse(response.body)
  try {
    for (;;) {
      let next: IteratorResult<SseEvent>
      try {
        next = await events.next()
      } catch (error) {
        if (signal?.aborted || (error instanceof DOMException && error.name === 'AbortError')) throw error
        throw new ApiError({ code: 'stream_interrupted', message: messages.dropped, status })
      }
      if (next.done) break
      const data = parseData(next.value.data, status)
      if (next.value.event === 'error') throw streamError(data, status)
      yield { event: next.value.event, data, status }
    }
  } finally {
    // Done, an error event or the caller stopped: the connection is not needed any more.
    await events.return()
  }
  signal?.throwIfAborted()
  throw new ApiError({ code: 'stream_cut_off', message: messages.cutOff, status })
}
