import { readSse, type SseEvent } from '../lib/sse'
import { api, ApiError, type ApiClient } from './client'
import type { AiEditResult, AiModelChoice, AiModels, ChatDone, ChatHistory, ChatStreamError } from './types'

function image(id: string): string {
  return `/api/v1/images/${encodeURIComponent(id)}`
}

/** What a chat reply stream yields: text as it arrives, then the saved turn. */
export type ChatStreamEvent = { type: 'delta'; text: string } | ({ type: 'done' } & ChatDone)

export interface ChatSend {
  message: string
  /** A model id from the chat list; the session's choice when absent. */
  model?: string
}

export interface AiEditRequest {
  instruction: string
  model?: string
}

const UNREADABLE = 'The server sent a reply the app could not read.'
const CUT_OFF = 'The reply was cut off before it finished. Nothing was saved.'
const DROPPED = 'The connection dropped before the reply finished. Nothing was saved.'

function unreadable(status: number): ApiError {
  return new ApiError({ code: 'invalid_response', message: UNREADABLE, status })
}

function isObject(value: unknown): value is Record<string, unknown> {
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
  const error = (body as Partial<ChatStreamError>).error
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
 * Sends one chat message and yields the reply as it streams. Errors before the stream starts
 * come from the client as ApiError (402, 409, 429 with retryAfter, …); an `error` event or a
 * stream that ends without `done` is thrown as ApiError too. Only a yielded `done` means saved.
 * Aborting `signal` stops the upstream call (the server saves nothing) and rethrows AbortError.
 */
export async function* streamChat(
  client: ApiClient,
  id: string,
  body: ChatSend,
  signal?: AbortSignal,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const response = await client.open('POST', `${image(id)}/chat`, { body, signal }, 'text/event-stream')
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
        throw new ApiError({ code: 'stream_interrupted', message: DROPPED, status })
      }
      if (next.done) break
      const event = next.value
      if (event.event === 'delta') {
        const data = parseData(event.data, status)
        if (typeof data.text !== 'string') throw unreadable(status)
        yield { type: 'delta', text: data.text }
      } else if (event.event === 'done') {
        const data = parseData(event.data, status) as unknown as ChatDone
        if (!isObject(data.assistant_message) || !isObject(data.user_message)) throw unreadable(status)
        yield { type: 'done', ...data }
        return
      } else if (event.event === 'error') {
        throw streamError(parseData(event.data, status), status)
      }
      // Other event names: reserved for later additions, ignored.
    }
  } finally {
    // Done, an error event or the caller stopped: the connection is not needed any more.
    await events.return()
  }
  signal?.throwIfAborted()
  throw new ApiError({ code: 'stream_cut_off', message: CUT_OFF, status })
}

/** Typed calls for AI chat and edits about an image, and the models they use. */
export function createAiApi(client: ApiClient = api) {
  return {
    models: (signal?: AbortSignal) => client.get<AiModels>('/api/v1/ai/models', signal),
    selectModels: (choice: AiModelChoice) => client.put<AiModels>('/api/v1/ai/models', choice),
    history: (id: string, signal?: AbortSignal) => client.get<ChatHistory>(`${image(id)}/chat`, signal),
    clearHistory: (id: string) => client.delete<ChatHistory>(`${image(id)}/chat`),
    chat: (id: string, body: ChatSend, signal?: AbortSignal) => streamChat(client, id, body, signal),
    /** The edited image is a new version; a failed or cancelled edit changes nothing. */
    edit: (id: string, body: AiEditRequest, signal?: AbortSignal) =>
      client.post<AiEditResult>(`${image(id)}/ai-edit`, body, signal),
  }
}

export type AiApi = ReturnType<typeof createAiApi>

/** The app's AI calls. The AI composables take an AiApi so that tests can pass a fake. */
export const aiApi = createAiApi()
