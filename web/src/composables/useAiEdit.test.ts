import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import type { AiApi } from '../api/ai'
import { ApiError } from '../api/client'
import type { AiEditResult } from '../api/types'
import { imageFixture } from '../test/fixtures'
import { fakeAiApi } from '../test/fakeAi'
import { useAiEdit } from './useAiEdit'

const edited: AiEditResult = {
  image: imageFixture('img-1', {
    number: 2,
    operation: 'ai_edit',
    params: { model: 'google/gemini-2.5-flash-image', instruction: 'make the sky blue' },
    format: 'png',
  }),
  text: 'I made the sky blue.',
  cost: 0.039,
}

/** An edit that waits until the test settles it, and rejects with AbortError when cancelled. */
function pendingEdit() {
  let settle: (result: AiEditResult) => void = () => undefined
  const edit = vi.fn<AiApi['edit']>().mockImplementation(
    (_id, _body, signal) =>
      new Promise((resolve, reject) => {
        settle = resolve
        signal?.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')))
      }),
  )
  return { edit, finish: (result: AiEditResult) => settle(result) }
}

describe('useAiEdit', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  it('hands the new version to the gallery and keeps what the model said and what it cost', async () => {
    const { api } = fakeAiApi({ edit: vi.fn<AiApi['edit']>().mockResolvedValue(edited) })
    const onImage = vi.fn()
    const state = scope.run(() => useAiEdit(() => 'img-1', api, { onImage, model: () => 'google/gemini-2.5-flash-image' }))!
    expect(await state.run(' make the sky blue ')).toBe(true)
    expect(api.edit).toHaveBeenCalledWith(
      'img-1',
      { instruction: 'make the sky blue', model: 'google/gemini-2.5-flash-image' },
      expect.any(AbortSignal),
    )
    expect(onImage).toHaveBeenCalledWith(edited.image)
    expect(state.outcome.value).toEqual({ instruction: 'make the sky blue', text: 'I made the sky blue.', cost: 0.039, version: 2 })
    expect(state.running.value).toBe(false)
  })

  it('shows progress while it runs, and a cancel changes nothing', async () => {
    vi.useFakeTimers()
    const { edit, finish } = pendingEdit()
    const { api } = fakeAiApi({ edit })
    const onImage = vi.fn()
    const state = scope.run(() => useAiEdit(() => 'img-1', api, { onImage }))!
    const running = state.run('remove the car')
    expect(state.running.value).toBe(true)
    expect(state.blocked.value).toBe(true)
    vi.advanceTimersByTime(3000)
    expect(state.elapsed.value).toBe(3)

    state.cancel()
    expect(await running).toBe(false)
    finish(edited) // too late: the request was dropped
    expect(onImage).not.toHaveBeenCalled()
    expect(state.cancelled.value).toBe(true)
    expect(state.error.value).toBeNull()
    expect(state.running.value).toBe(false)
  })

  it('sorts failures and retries the same instruction', async () => {
    const credits = new ApiError({ code: 'payment_required', message: 'Insufficient credits.', status: 402 })
    const { api } = fakeAiApi({ edit: vi.fn<AiApi['edit']>().mockRejectedValueOnce(credits).mockResolvedValueOnce(edited) })
    const onImage = vi.fn()
    const state = scope.run(() => useAiEdit(() => 'img-1', api, { onImage }))!
    expect(await state.run('make the sky blue')).toBe(false)
    expect(state.problem.value).toEqual({ kind: 'credits', message: 'Insufficient credits.' })
    expect(onImage).not.toHaveBeenCalled()

    expect(await state.retry()).toBe(true)
    expect(api.edit).toHaveBeenLastCalledWith('img-1', { instruction: 'make the sky blue' }, expect.any(AbortSignal))
    expect(state.problem.value).toBeNull()
  })

  it('waits out a 429 before another edit can start', async () => {
    vi.useFakeTimers()
    const limited = new ApiError({ code: 'rate_limited', message: 'Slow down.', status: 429, retryAfter: 2 })
    const { api } = fakeAiApi({ edit: vi.fn<AiApi['edit']>().mockRejectedValue(limited) })
    const state = scope.run(() => useAiEdit(() => 'img-1', api, { onImage: vi.fn() }))!
    await state.run('make it brighter')
    expect(state.cooldown.value).toBe(2)
    expect(await state.run('make it brighter')).toBe(false)
    expect(api.edit).toHaveBeenCalledOnce()
    vi.advanceTimersByTime(2000)
    expect(state.blocked.value).toBe(false)
  })
})
