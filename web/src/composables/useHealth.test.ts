// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiClient } from '../api/client'
import type { HealthResult } from '../api/types'
import { useHealth } from './useHealth'

/** A client whose health() answers from a script, one result per call (the last repeats). */
function scriptedClient(results: HealthResult[]) {
  const client = new ApiClient()
  const health = vi.spyOn(client, 'health').mockImplementation(async () => (results.length > 1 ? results.shift()! : results[0]!))
  return { client, health }
}

describe('useHealth', () => {
  let scope: ReturnType<typeof effectScope>

  beforeEach(() => {
    vi.useFakeTimers()
    scope = effectScope()
  })

  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  it('polls every 30 s while healthy', async () => {
    const { client, health } = scriptedClient([{ status: 'healthy' }])
    const state = scope.run(() => useHealth({ client }))!
    await vi.advanceTimersByTimeAsync(0)

    expect(state.status.value).toBe('healthy')
    expect(state.retryInSeconds.value).toBeNull()
    expect(health).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(health).toHaveBeenCalledTimes(2)
  })

  it('retries with backoff, counts down, and reports recovery once', async () => {
    const onRecovered = vi.fn()
    const { client, health } = scriptedClient([
      { status: 'offline' },
      { status: 'offline' },
      { status: 'degraded', missing: ['session-service'], problems: [] },
      { status: 'healthy' },
    ])
    const state = scope.run(() => useHealth({ client, onRecovered }))!
    await vi.advanceTimersByTimeAsync(0)

    expect(state.status.value).toBe('offline')
    expect(state.retryInSeconds.value).toBe(1)

    await vi.advanceTimersByTimeAsync(1_000) // second check, after 1 s
    expect(health).toHaveBeenCalledTimes(2)
    expect(state.retryInSeconds.value).toBe(2)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(state.retryInSeconds.value).toBe(1)

    await vi.advanceTimersByTimeAsync(1_000) // third check, after 2 s
    expect(state.status.value).toBe('degraded')
    expect(state.missing.value).toEqual(['session-service'])
    expect(state.retryInSeconds.value).toBe(4)
    expect(onRecovered).not.toHaveBeenCalled()

    await vi.advanceTimersByTimeAsync(4_000) // fourth check, after 4 s
    expect(state.status.value).toBe('healthy')
    expect(state.missing.value).toEqual([])
    expect(state.retryInSeconds.value).toBeNull()
    expect(onRecovered).toHaveBeenCalledOnce()
    expect(health).toHaveBeenCalledTimes(4)
  })

  it('retries at once on "Retry now" and when the browser comes back online', async () => {
    const { client, health } = scriptedClient([{ status: 'offline' }])
    const state = scope.run(() => useHealth({ client }))!
    await vi.advanceTimersByTimeAsync(0)
    expect(health).toHaveBeenCalledTimes(1)

    state.retryNow()
    await vi.advanceTimersByTimeAsync(0)
    expect(health).toHaveBeenCalledTimes(2)

    window.dispatchEvent(new Event('online'))
    await vi.advanceTimersByTimeAsync(0)
    expect(health).toHaveBeenCalledTimes(3)
  })

  it('counts a check that hangs past the timeout as a failure', async () => {
    const client = new ApiClient(
      (_input, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
        }),
    )
    const state = scope.run(() => useHealth({ client, timeoutMs: 5_000 }))!
    await vi.advanceTimersByTimeAsync(4_999)
    expect(state.status.value).toBe('checking')
    await vi.advanceTimersByTimeAsync(1)
    expect(state.status.value).toBe('offline')
  })

  it('stops checking when its scope is disposed', async () => {
    const { client, health } = scriptedClient([{ status: 'offline' }])
    scope.run(() => useHealth({ client }))
    await vi.advanceTimersByTimeAsync(0)
    scope.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    window.dispatchEvent(new Event('online'))
    expect(health).toHaveBeenCalledTimes(1)
  })
})
