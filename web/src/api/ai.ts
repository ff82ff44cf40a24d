import { api, type ApiClient } from './client'
import { isObject, streamEvents, unreadable } from './stream'
import type { AiEditResult, AiModelChoice, AiModels, ChatDone, ChatHistory } from './types'

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

const ENDINGS = {
  dropped: 'The connection dropped before the reply finished. Nothing was saved.',
  cutOff: 'The reply was cut off before it finished. Nothing was saved.',
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
  for await (const { event, data, status } of streamEvents(client, `${image(id)}/chat`, body, ENDINGS, signal)) {
    if (event === 'delta') {
      if (typeof data.text !== 'string') throw unreadable(status)
      yield { type: 'delta', text: data.text }
    } else if (event === 'done') {
      const done = data as unknown as ChatDone
      if (!isObject(done.assistant_message) || !isObject(done.user_message)) throw unreadable(status)
      yield { type: 'done', ...done }
      return
    }
    // Other event names: reserved for later additions, ignored.
  }
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
