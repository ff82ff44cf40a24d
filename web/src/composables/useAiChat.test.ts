import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { ApiError } from '../api/client'
import { chatDone, historyFixture } from '../test/aiFixtures'
import { fakeAiApi } from '../test/fakeAi'
import { useAiChat } from './useAiChat'

/** Lets the stream reader take what was pushed. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve()
  await nextTick()
}

describe('useAiChat', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  function setup(model?: string) {
    const { api, reply } = fakeAiApi()
    const imageId = ref('img-1')
    const chat = scope.run(() => useAiChat(() => imageId.value, api, { model: () => model }))!
    return { api, reply, chat, imageId }
  }

  it('loads the saved conversation and its total', async () => {
    const { api, chat } = setup()
    await chat.load()
    expect(api.history).toHaveBeenCalledWith('img-1', expect.any(AbortSignal))
    expect(chat.messages.value).toEqual(historyFixture.messages)
    expect(chat.totalCost.value).toBe(0.0004)
  })

  it('shows the reply as it streams, and keeps the turn only once the server saved it', async () => {
    const { api, reply, chat } = setup('google/gemini-2.5-flash')
    await chat.load()
    const sending = chat.send('  Write alt text ')
    await settle()
    expect(api.chat).toHaveBeenCalledWith('img-1', { message: 'Write alt text', model: 'google/gemini-2.5-flash' }, expect.any(AbortSignal))
    expect(chat.pending.value).toMatchObject({ text: 'Write alt text', reply: '', state: 'streaming' })
    expect(chat.blocked.value).toBe(true)

    reply.delta('A red ')
    await settle()
    expect(chat.pending.value?.reply).toBe('A red ')
    reply.delta('car.')
    await settle()
    expect(chat.pending.value?.reply).toBe('A red car.')
    expect(chat.messages.value).toHaveLength(2)

    reply.done(chatDone)
    expect(await sending).toBe(true)
    expect(chat.pending.value).toBeNull()
    expect(chat.messages.value.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4'])
    expect(chat.totalCost.value).toBe(0.0016)
    expect(chat.streaming.value).toBe(false)
  })

  it('stops a reply: the request is aborted and the partial text is marked unsaved', async () => {
    const { reply, chat } = setup()
    await chat.load()
    const sending = chat.send('Describe it')
    await settle()
    reply.delta('It is')
    await settle()
    chat.stop()
    await sending
    expect(reply.signal?.aborted).toBe(true)
    expect(chat.pending.value).toMatchObject({ reply: 'It is', state: 'stopped', error: null })
    expect(chat.messages.value).toEqual(historyFixture.messages)
    expect(chat.problem.value).toBeNull()
    // The unsent text can go back into the composer.
    expect(chat.discard()).toBe('Describe it')
    expect(chat.pending.value).toBeNull()
  })

  it('keeps a mid-stream error with the text so far, and retries the same message', async () => {
    const { api, reply, chat } = setup()
    const sending = chat.send('Describe it')
    await settle()
    reply.delta('Half')
    reply.fail(new ApiError({ code: 'upstream_error', message: 'Provider disconnected', status: 200 }))
    await sending
    expect(chat.pending.value).toMatchObject({ reply: 'Half', state: 'failed' })
    expect(chat.problem.value).toEqual({ kind: 'retryable', message: 'Provider disconnected' })

    const again = chat.retry()
    await settle()
    expect(api.chat).toHaveBeenCalledTimes(2)
    expect(api.chat.mock.calls[1]![1]).toEqual({ message: 'Describe it' })
    expect(chat.pending.value).toMatchObject({ reply: '', state: 'streaming', error: null })
    reply.done(chatDone)
    await again
    expect(chat.pending.value).toBeNull()
  })

  it('blocks sending for the Retry-After of a 429, counting down', async () => {
    vi.useFakeTimers()
    const { api, chat } = setup()
    api.chat.mockImplementationOnce(async function* () {
      throw new ApiError({ code: 'rate_limited', message: 'Rate limit exceeded', status: 429, retryAfter: 3 })
    })
    await chat.send('hi')
    expect(chat.problem.value).toEqual({ kind: 'rate_limited', message: 'Rate limit exceeded', retryAfter: 3 })
    expect(chat.cooldown.value).toBe(3)
    expect(chat.blocked.value).toBe(true)
    expect(await chat.send('again')).toBe(false)

    vi.advanceTimersByTime(1000)
    expect(chat.cooldown.value).toBe(2)
    vi.advanceTimersByTime(2000)
    expect(chat.cooldown.value).toBe(0)
    expect(chat.blocked.value).toBe(false)
  })

  it('sorts a 402 as out of credits and a 409 as not connected', async () => {
    const { api, chat } = setup()
    api.chat.mockImplementationOnce(async function* () {
      throw new ApiError({ code: 'payment_required', message: 'Insufficient credits.', status: 402 })
    })
    await chat.send('hi')
    expect(chat.problem.value?.kind).toBe('credits')
    api.history.mockRejectedValueOnce(new ApiError({ code: 'openrouter_not_connected', message: 'Connect first.', status: 409 }))
    chat.discard()
    await chat.load()
    expect(chat.problem.value).toEqual({ kind: 'not_connected', message: 'Connect first.' })
  })

  it('refuses empty and over-long messages without calling the server', async () => {
    const { api, chat } = setup()
    expect(await chat.send('   ')).toBe(false)
    expect(await chat.send('x'.repeat(4001))).toBe(false)
    expect(api.chat).not.toHaveBeenCalled()
  })

  it('clears the conversation, stopping a reply in flight', async () => {
    const { api, reply, chat } = setup()
    await chat.load()
    const sending = chat.send('hi')
    await settle()
    expect(await chat.clear()).toBe(true)
    await sending
    expect(reply.signal?.aborted).toBe(true)
    expect(api.clearHistory).toHaveBeenCalledWith('img-1')
    expect(chat.messages.value).toEqual([])
    expect(chat.totalCost.value).toBeNull()
    expect(chat.pending.value).toBeNull()
  })

  it('switches to the other image: stops the reply and loads its own conversation', async () => {
    const { api, reply, chat, imageId } = setup()
    await chat.load()
    const sending = chat.send('hi')
    await settle()
    imageId.value = 'img-2'
    await settle()
    await sending
    expect(reply.signal?.aborted).toBe(true)
    expect(api.history).toHaveBeenLastCalledWith('img-2', expect.any(AbortSignal))
    expect(chat.pending.value).toBeNull()
  })
})
