import { describe, expect, it, vi } from 'vitest'
import { createAiApi, type ChatStreamEvent } from './ai'
import { ApiClient, ApiError, CSRF_HEADER, CSRF_VALUE, type FetchLike } from './client'
import { chatDone } from '../test/aiFixtures'

function sseBody(chunks: string[], { close = true } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      if (close) controller.close()
    },
  })
}

function sse(chunks: string[], options?: { close?: boolean }): Response {
  return new Response(sseBody(chunks, options), { status: 200, headers: { 'Content-Type': 'text/event-stream' } })
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

function setup(response: Response | (() => Promise<Response>)) {
  const fetchFn = vi.fn<FetchLike>(typeof response === 'function' ? response : () => Promise.resolve(response))
  return { fetchFn, ai: createAiApi(new ApiClient(fetchFn)) }
}

async function collect(stream: AsyncGenerator<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

async function failure(stream: AsyncGenerator<ChatStreamEvent>): Promise<ApiError> {
  const events: ChatStreamEvent[] = []
  try {
    for await (const event of stream) events.push(event)
  } catch (error) {
    return error as ApiError
  }
  throw new Error(`expected a failure, got ${JSON.stringify(events)}`)
}

describe('AI chat stream', () => {
  it('posts with the CSRF header and cookies, and yields deltas then the saved turn', async () => {
    const { fetchFn, ai } = setup(
      sse([frame('delta', { text: 'A red ' }), frame('delta', { text: 'car.' }), frame('done', chatDone)]),
    )
    const events = await collect(ai.chat('img 1', { message: 'What is it?' }))
    expect(events).toEqual([
      { type: 'delta', text: 'A red ' },
      { type: 'delta', text: 'car.' },
      { type: 'done', ...chatDone },
    ])
    const [path, init] = fetchFn.mock.calls[0]!
    expect(path).toBe('/api/v1/images/img%201/chat')
    expect(init?.method).toBe('POST')
    expect(init?.credentials).toBe('same-origin')
    expect(init?.headers).toMatchObject({ [CSRF_HEADER]: CSRF_VALUE, Accept: 'text/event-stream' })
    expect(JSON.parse(init?.body as string)).toEqual({ message: 'What is it?' })
  })

  it('turns a JSON error before the stream into the ApiError the client uses, with Retry-After', async () => {
    const body = { error: { code: 'rate_limited', message: 'Slow down.', request_id: 'req-9' } }
    const { ai } = setup(
      new Response(JSON.stringify(body), { status: 429, headers: { 'Retry-After': '7', 'Content-Type': 'application/json' } }),
    )
    const error = await failure(ai.chat('img-1', { message: 'hi' }))
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'rate_limited', message: 'Slow down.', status: 429, requestId: 'req-9', retryAfter: 7 })
  })

  it('throws an error event as ApiError after the text that came before it', async () => {
    const { ai } = setup(
      sse([
        frame('delta', { text: 'Half' }),
        frame('error', { error: { code: 'upstream_error', message: 'Provider disconnected', retry_after: 3 } }),
      ]),
    )
    const seen: ChatStreamEvent[] = []
    let caught: unknown
    try {
      for await (const event of ai.chat('img-1', { message: 'hi' })) seen.push(event)
    } catch (error) {
      caught = error
    }
    expect(seen).toEqual([{ type: 'delta', text: 'Half' }])
    expect(caught).toMatchObject({ code: 'upstream_error', message: 'Provider disconnected', retryAfter: 3 })
  })

  it('reports a stream that ends without done as cut off (never as saved)', async () => {
    const { ai } = setup(sse([frame('delta', { text: 'Half' })]))
    const error = await failure(ai.chat('img-1', { message: 'hi' }))
    expect(error.code).toBe('stream_cut_off')
    expect(error.message).toContain('Nothing was saved')
  })

  it('reports unreadable event data', async () => {
    const { ai } = setup(sse(['event: delta\ndata: {not json\n\n']))
    expect((await failure(ai.chat('img-1', { message: 'hi' }))).code).toBe('invalid_response')
  })

  it('rethrows the AbortError when the caller stops, and cancels the body', async () => {
    let cancelled = false
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(frame('delta', { text: 'one' })))
      },
      cancel() {
        cancelled = true
      },
    })
    const controller = new AbortController()
    const { ai } = setup(() => Promise.resolve(new Response(body)))
    const stream = ai.chat('img-1', { message: 'hi' }, controller.signal)
    expect((await stream.next()).value).toEqual({ type: 'delta', text: 'one' })
    await stream.return()
    expect(cancelled).toBe(true)
  })
})

describe('AI calls', () => {
  it('reads and saves the model choice, and edits with the CSRF header', async () => {
    const { fetchFn, ai } = setup(() =>
      Promise.resolve(new Response(JSON.stringify({ ok: true }), { headers: { 'Content-Type': 'application/json' } })),
    )
    await ai.models()
    await ai.selectModels({ chat: 'openai/gpt-4o-mini' })
    await ai.edit('img-1', { instruction: 'make the sky blue' })
    await ai.clearHistory('img-1')
    const calls = fetchFn.mock.calls.map(([path, init]) => [init?.method, path])
    expect(calls).toEqual([
      ['GET', '/api/v1/ai/models'],
      ['PUT', '/api/v1/ai/models'],
      ['POST', '/api/v1/images/img-1/ai-edit'],
      ['DELETE', '/api/v1/images/img-1/chat'],
    ])
    expect(fetchFn.mock.calls[2]![1]?.headers).toMatchObject({ [CSRF_HEADER]: CSRF_VALUE })
  })
})
