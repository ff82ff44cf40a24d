import { vi } from 'vitest'
import type { AiApi, ChatSend, ChatStreamEvent } from '../api/ai'
import { historyFixture, modelsFixture } from './aiFixtures'

/**
 * A chat reply the test drives by hand: `delta`, `done` and `fail` release events to the reader;
 * aborting the request's signal ends it with an AbortError, as fetch does.
 */
export class ScriptedReply {
  private queue: Array<ChatStreamEvent | Error> = []
  private wake: (() => void) | null = null
  /** The request's signal, once the chat call has been made. */
  signal: AbortSignal | null = null
  body: ChatSend | null = null

  delta(text: string): void {
    this.put({ type: 'delta', text })
  }

  done(event: Omit<Extract<ChatStreamEvent, { type: 'done' }>, 'type'>): void {
    this.put({ type: 'done', ...event })
  }

  fail(error: Error): void {
    this.put(error)
  }

  private put(item: ChatStreamEvent | Error): void {
    this.queue.push(item)
    this.wake?.()
  }

  async *stream(body: ChatSend, signal?: AbortSignal): AsyncGenerator<ChatStreamEvent, void, undefined> {
    this.body = body
    this.signal = signal ?? null
    const aborted = new Promise<never>((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(new DOMException('The request was cancelled', 'AbortError')))
    })
    aborted.catch(() => undefined)
    for (;;) {
      while (this.queue.length === 0) {
        await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), aborted])
      }
      const item = this.queue.shift()!
      if (item instanceof Error) throw item
      yield item
      if (item.type === 'done') return
    }
  }
}

/** An AiApi whose calls are vi.fn()s with the fixtures as answers; `reply` drives the next chat. */
export function fakeAiApi(overrides: Partial<AiApi> = {}) {
  const reply = new ScriptedReply()
  const api = {
    models: vi.fn<AiApi['models']>().mockResolvedValue(modelsFixture),
    selectModels: vi.fn<AiApi['selectModels']>().mockImplementation(async (choice) => ({
      ...modelsFixture,
      selected: { ...modelsFixture.selected, ...choice },
    })),
    history: vi.fn<AiApi['history']>().mockResolvedValue(historyFixture),
    clearHistory: vi.fn<AiApi['clearHistory']>().mockResolvedValue({ messages: [], total_cost: null }),
    chat: vi.fn<AiApi['chat']>().mockImplementation((_id, body, signal) => reply.stream(body, signal)),
    edit: vi.fn<AiApi['edit']>(),
  }
  return { api: Object.assign(api, overrides), reply }
}
