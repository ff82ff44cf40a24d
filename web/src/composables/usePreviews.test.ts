import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, shallowRef } from 'vue'
import type { ImagesApi } from '../api/images'
import type { CompressRequest, Preset, PreviewView } from '../api/types'
import { DEFAULT_SETTINGS } from '../lib/compression'
import { imageFixture, previewFixture } from '../test/fixtures'
import { LIVE_DELAY_MS, usePreviews } from './usePreviews'

const PRESETS: Preset[] = ['email', 'web'].map((id) => ({
  id,
  name: id,
  system: true,
  overridden: false,
  settings: DEFAULT_SETTINGS,
}))

interface Call {
  compress: CompressRequest
  signal: AbortSignal
  resolve: (preview: PreviewView) => void
}

const preview = (id: string, bytes: number): PreviewView => previewFixture(id, bytes)

/** A server the test answers by hand, one call at a time. */
function fakeServer() {
  const calls: Call[] = []
  const client = {
    preview: (_id: string, _version: number, compress: CompressRequest, signal?: AbortSignal) =>
      new Promise<PreviewView>((resolve, reject) => {
        signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
        calls.push({ compress, signal: signal!, resolve })
      }),
  } as unknown as ImagesApi
  return { calls, client }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTick()
}

describe('usePreviews', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
    vi.useFakeTimers()
  })
  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  it('computes the presets one after another, showing each as computing until its answer', async () => {
    const { calls, client } = fakeServer()
    const state = scope.run(() => usePreviews(() => imageFixture(), () => PRESETS, () => false, client))!
    state.estimatePresets()
    expect(calls.map((c) => c.compress.preset)).toEqual(['email'])
    expect(state.estimates.value.get('web')).toEqual({ state: 'computing' })
    calls[0]!.resolve(preview('p1', 1000))
    await settle()
    expect(state.estimates.value.get('email')).toMatchObject({ state: 'done', preview: { id: 'p1' } })
    expect(calls.map((c) => c.compress.preset)).toEqual(['email', 'web'])
  })

  it('debounces the live preview, lets it supersede a preset, then computes that preset again', async () => {
    const { calls, client } = fakeServer()
    const state = scope.run(() => usePreviews(() => imageFixture(), () => PRESETS, () => false, client))!
    state.estimatePresets()
    for (const quality of [84, 83, 82]) state.previewSettings({ ...DEFAULT_SETTINGS, quality })
    expect(state.liveComputing.value).toBe(true)
    vi.advanceTimersByTime(LIVE_DELAY_MS - 1)
    expect(calls).toHaveLength(1)
    vi.advanceTimersByTime(1)
    await settle()
    // One request for the settings as they came to rest; the preset in flight was aborted.
    expect(calls).toHaveLength(2)
    expect(calls[0]!.signal.aborted).toBe(true)
    expect(calls[1]!.compress.settings?.quality).toBe(82)
    calls[1]!.resolve(preview('live', 2000))
    await settle()
    expect(state.live.value?.id).toBe('live')
    expect(state.liveComputing.value).toBe(false)
    expect(calls[2]!.compress.preset).toBe('email')
  })

  it('waits until on screen, and starts over when the version on screen changes', async () => {
    const { calls, client } = fakeServer()
    const image = shallowRef(imageFixture())
    const onScreen = shallowRef(false)
    const state = scope.run(() => usePreviews(() => image.value, () => PRESETS, () => onScreen.value, client))!
    await settle()
    expect(calls).toHaveLength(0)
    onScreen.value = true
    await settle()
    calls[0]!.resolve(preview('p1', 1000))
    await settle()
    image.value = imageFixture('img-1', { number: 2 })
    await settle()
    // The old version's work is dropped and the presets are estimated again for the new one.
    expect(calls[1]!.signal.aborted).toBe(true)
    expect(calls.map((c) => c.compress.preset)).toEqual(['email', 'web', 'email'])
    expect(state.estimates.value.get('email')).toEqual({ state: 'computing' })
  })
})
