// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import type { ImageView } from '../api/types'
import { QUICK_OPERATION } from '../lib/background'
import { fakeBackgroundGateway as fakeGateway, flush, json, MODELS } from '../test/backgroundFixtures'
import { imageFixture } from '../test/fixtures'
import { useBackgroundRemoval } from './useBackgroundRemoval'
import { useToasts } from './useToasts'

const lastToast = () => useToasts().toasts.value.at(-1)
/** One beat of the progress clock: its interval timer is fake, so nothing waits in real time. */
const tick = () => vi.advanceTimersToNextTimerAsync()

describe('useBackgroundRemoval', () => {
  let scope: ReturnType<typeof effectScope>
  let time = 0
  const clock = () => time

  beforeEach(() => {
    // Only intervals are faked: the fake gateway and flush() still settle on real zero-delay timeouts.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    scope = effectScope()
    time = 1_000
    const { toasts, dismiss } = useToasts()
    toasts.value.forEach((t) => dismiss(t.id))
  })
  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  const setup = (gateway = fakeGateway()) => {
    const onResult = vi.fn<(image: ImageView) => void>()
    const state = scope.run(() => useBackgroundRemoval(gateway.api, { onResult, clock, tickMs: 10 }))!
    return { state, onResult, ...gateway }
  }

  it('sends the operation, shows progress against the measured time, and hands over the new version', async () => {
    const { state, onResult, removals, fetch } = setup()
    const image = imageFixture('a', { width: 4000, height: 3000 })
    const done = state.start(image, { ...QUICK_OPERATION })
    await flush()

    expect(removals).toHaveLength(1)
    expect(removals[0]!.url).toBe('/api/v1/images/a/operations')
    expect(removals[0]!.body).toEqual(QUICK_OPERATION)
    expect(state.isRunning('a')).toBe(true)
    // 0.9 s + 0.1 s × 12 MP = 2.1 s expected.
    time += 1_050
    await tick()
    expect(state.progressOf('a')).toEqual({ fraction: 0.5, overdue: false, text: '1.0 s of about 2.1 s' })

    const result = imageFixture('a', { number: 2, operation: 'remove_background', format: 'png' })
    removals[0]!.answer(json(200, result))
    expect(await done).toEqual(result)
    expect(onResult).toHaveBeenCalledWith(result)
    expect(state.isRunning('a')).toBe(false)
    expect(state.progressOf('a')).toBeNull()
    expect(lastToast()).toMatchObject({ kind: 'success', message: 'Background removed: IMG_1234.jpg' })
    // The timing is fetched again after a run, since the server learnt from it.
    await flush()
    expect(fetch.mock.calls.filter(([url]) => url === '/api/v1/background/models')).toHaveLength(2)
  })

  it('names a replaced background in the success toast', async () => {
    const { state, removals } = setup()
    const done = state.start(imageFixture('a'), { ...QUICK_OPERATION, background: { kind: 'colour', colour: '#ffffff' }, format: 'jpeg' })
    await flush()
    removals[0]!.answer(json(200, imageFixture('a', { number: 2, operation: 'remove_background' })))
    await done
    expect(lastToast()).toMatchObject({ kind: 'success', message: 'Background replaced with a colour: IMG_1234.jpg' })
  })

  it('says when a run takes longer than usual, and shows elapsed time only without timing', async () => {
    const { state } = setup(fakeGateway(() => json(200, { ...MODELS, timing: null })))
    void state.start(imageFixture('a'), { ...QUICK_OPERATION })
    await flush()
    time += 3_400
    await tick()
    expect(state.progressOf('a')).toEqual({ fraction: null, overdue: false, text: '3.4 s' })

    const { state: timed } = setup()
    void timed.start(imageFixture('b', { width: 1000, height: 1000 }), { ...QUICK_OPERATION })
    await flush()
    time += 5_000
    await tick()
    expect(timed.progressOf('b')).toMatchObject({ overdue: true, fraction: null })
    expect(timed.progressOf('b')?.text).toContain('taking longer than usual')
  })

  it('cancels by aborting the request: nothing is handed over and the image stays as it was', async () => {
    const { state, onResult, removals } = setup()
    const done = state.start(imageFixture('a'), { ...QUICK_OPERATION })
    await flush()
    state.cancel('a')
    expect(removals[0]!.signal.aborted).toBe(true)
    expect(await done).toBeNull()
    expect(onResult).not.toHaveBeenCalled()
    expect(state.isRunning('a')).toBe(false)
    expect(lastToast()).toMatchObject({ kind: 'info', message: 'Cancelled. The image was not changed.' })
  })

  it('runs one removal per image at a time, but different images side by side', async () => {
    const { state, removals } = setup()
    void state.start(imageFixture('a'), { ...QUICK_OPERATION })
    expect(await state.start(imageFixture('a'), { ...QUICK_OPERATION })).toBeNull()
    void state.start(imageFixture('b'), { ...QUICK_OPERATION })
    await flush()
    expect(removals.map((r) => r.url)).toEqual(['/api/v1/images/a/operations', '/api/v1/images/b/operations'])
  })

  it('words a full queue with its Retry-After, and a missing model with the reason', async () => {
    const { state, removals, onResult } = setup()
    const busy = state.start(imageFixture('a'), { ...QUICK_OPERATION })
    await flush()
    removals[0]!.answer(json(429, { error: { code: 'rate_limited', message: 'queue full' } }, { 'Retry-After': '6' }))
    expect(await busy).toBeNull()
    expect(lastToast()).toMatchObject({ kind: 'error', message: 'The server is busy, try again in 6 s.' })

    const missing = state.start(imageFixture('a'), { ...QUICK_OPERATION })
    await flush()
    removals[1]!.answer(json(503, { error: { code: 'service_unavailable', message: 'models/isnet.onnx is corrupt' } }))
    await missing
    expect(lastToast()?.message).toBe('Model not available: models/isnet.onnx is corrupt')

    const invalid = state.start(imageFixture('a'), { ...QUICK_OPERATION })
    await flush()
    removals[2]!.answer(json(404, { error: { code: 'not_found', message: 'background image not found' } }))
    await invalid
    expect(lastToast()?.message).toBe('background image not found')
    expect(onResult).not.toHaveBeenCalled()
  })

  it('loads the models once for concurrent callers, and keeps the list when a refresh fails', async () => {
    let answer = () => json(200, MODELS)
    const { state, fetch } = setup(fakeGateway(() => answer()))
    await Promise.all([state.loadModels(), state.loadModels()])
    await state.loadModels()
    expect(fetch).toHaveBeenCalledTimes(1)
    expect(state.models.value).toEqual(MODELS)

    answer = () => json(503, { error: { code: 'service_unavailable', message: 'no model' } })
    await state.loadModels(true)
    expect(state.models.value).toEqual(MODELS)
    expect(state.modelsError.value).toBeNull()
  })

  it('reports why no model is available', async () => {
    const { state } = setup(fakeGateway(() => json(503, { error: { code: 'service_unavailable', message: 'no model file' } })))
    await state.loadModels()
    expect(state.models.value).toBeNull()
    expect(state.modelsError.value).toMatchObject({ status: 503, message: 'no model file' })
  })

  it('downloads the mask of the current version under the server name, or says why not', async () => {
    const mask = vi.fn()
    const gateway = fakeGateway()
    vi.spyOn(gateway.api, 'mask').mockImplementation(async (...args) => {
      mask(...args)
      return { blob: new Blob(['png']), filename: 'IMG_1234-mask.png' }
    })
    const createObjectURL = vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:mask')
    const { state } = setup(gateway)
    await state.downloadMask(imageFixture('a', { number: 3, operation: 'remove_background' }))
    expect(mask).toHaveBeenCalledWith('a', 3)
    expect(createObjectURL).toHaveBeenCalledOnce()

    vi.spyOn(gateway.api, 'mask').mockRejectedValue(new Error('gone'))
    await state.downloadMask(imageFixture('a', { number: 3 }))
    expect(lastToast()).toMatchObject({ kind: 'error', message: "Couldn't download the mask: gone" })
  })
})
