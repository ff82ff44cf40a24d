import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '../api/client'
import { useLatestRequest } from './useLatestRequest'

/** A request the test settles by hand, which (like a slow decode) ignores its abort signal. */
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  const signals: AbortSignal[] = []
  const request = (signal: AbortSignal) => {
    signals.push(signal)
    return promise
  }
  return { request, resolve, reject, signals }
}

describe('useLatestRequest', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => scope.stop())

  it('never lets a stale response overwrite a newer one, even when it arrives last', async () => {
    const latest = scope.run(() => useLatestRequest())!
    const older = deferred<string>()
    const newer = deferred<string>()
    const shown: string[] = []

    const first = latest.run(older.request, { done: (value) => shown.push(value) })
    const second = latest.run(newer.request, { done: (value) => shown.push(value) })
    expect(older.signals[0]!.aborted).toBe(true)
    expect(newer.signals[0]!.aborted).toBe(false)

    newer.resolve('newer')
    await second
    expect(latest.loading.value).toBe(false)
    older.resolve('older')
    await first

    expect(shown).toEqual(['newer'])
    expect(latest.loading.value).toBe(false)
  })

  it('delivers the newest failure as an ApiError, but not the failure of a replaced call', async () => {
    const latest = scope.run(() => useLatestRequest())!
    const older = deferred<string>()
    const newer = deferred<string>()
    const failures: ApiError[] = []
    const handlers = { done: () => {}, failed: (error: ApiError) => failures.push(error) }

    const first = latest.run(older.request, handlers)
    const second = latest.run(newer.request, handlers)
    older.reject(new ApiError({ code: 'old', message: 'old', status: 500 }))
    await first
    newer.reject(new Error('network down'))
    await second

    expect(failures.map((error) => error.message)).toEqual(['network down'])
  })

  it('shows loading only while the newest call runs, and its result is in place when loading ends', async () => {
    const latest = scope.run(() => useLatestRequest())!
    const request = deferred<number>()
    let value: number | null = null
    let loadingWhenDelivered: boolean | null = null

    const call = latest.run(request.request, {
      done: (result) => {
        value = result
        loadingWhenDelivered = latest.loading.value
      },
    })
    expect(latest.loading.value).toBe(true)
    request.resolve(7)
    await call

    expect(value).toBe(7)
    expect(loadingWhenDelivered).toBe(true)
    expect(latest.loading.value).toBe(false)
  })

  it('abort drops the call in flight: no outcome, no loading', async () => {
    const latest = scope.run(() => useLatestRequest())!
    const request = deferred<string>()
    const shown: string[] = []

    const call = latest.run(request.request, { done: (value) => shown.push(value), failed: () => shown.push('failed') })
    latest.abort()
    expect(request.signals[0]!.aborted).toBe(true)
    expect(latest.loading.value).toBe(false)
    request.resolve('late')
    await call

    expect(shown).toEqual([])
  })

  it('aborts the call in flight when its owner goes away', () => {
    const owner = effectScope()
    const latest = owner.run(() => useLatestRequest())!
    const request = deferred<string>()
    void latest.run(request.request, { done: () => {} })

    owner.stop()

    expect(request.signals[0]!.aborted).toBe(true)
  })
})
