import { onScopeDispose, ref, shallowRef, watch } from 'vue'
import { toApiError } from '../api/client'
import { imagesApi, type ImagesApi } from '../api/images'
import type { CompressRequest, CompressionSettings, ImageView, Preset, PreviewView } from '../api/types'

/** A preset's estimate: computing (shown as "—"), done, or why it could not be computed. */
export type Estimate = { state: 'computing' } | { state: 'done'; preview: PreviewView } | { state: 'failed'; message: string }

/** How long the custom settings must stay still before their preview is computed. */
export const LIVE_DELAY_MS = 300

/**
 * Compression previews of the version on screen: an estimate per preset (computed lazily, one
 * after another) and a live preview of the custom settings (debounced). The server computes one
 * preview per session at a time, so so does this: the live preview goes first, a newer one
 * aborts the older (the server stops its encode), and a preset interrupted by it is computed
 * again afterwards. The presets are estimated only while `onScreen` (a phone's closed sheet asks
 * for nothing); everything starts over when the version on screen or a preset changes.
 */
export function usePreviews(
  image: () => ImageView,
  presets: () => readonly Preset[],
  onScreen: () => boolean,
  client: ImagesApi = imagesApi,
) {
  const estimates = shallowRef(new Map<string, Estimate>())
  const live = shallowRef<PreviewView | null>(null)
  const liveSettings = shallowRef<CompressionSettings | null>(null)
  const liveComputing = ref(false)
  const liveError = ref<string | null>(null)

  let queue: string[] = []
  let running: { controller: AbortController; presetId: string | null } | null = null
  let liveTimer: ReturnType<typeof setTimeout> | null = null
  let liveWanted: CompressionSettings | null = null
  let started = false

  function setEstimate(id: string, estimate: Estimate): void {
    // A new map, not the same one changed: a component given it as a prop sees the change.
    estimates.value = new Map(estimates.value).set(id, estimate)
  }

  function stopRunning(): void {
    if (!running) return
    running.controller.abort()
    // An interrupted preset is computed again once the live preview is done.
    if (running.presetId !== null) queue.unshift(running.presetId)
    running = null
  }

  async function compute(presetId: string | null, compress: CompressRequest): Promise<void> {
    const controller = new AbortController()
    const mine = { controller, presetId }
    running = mine
    const { id, current } = image()
    try {
      const preview = await client.preview(id, current.number, compress, controller.signal)
      if (running !== mine) return
      if (presetId === null) live.value = preview
      else setEstimate(presetId, { state: 'done', preview })
    } catch (caught) {
      if (controller.signal.aborted || running !== mine) return
      const { message } = toApiError(caught)
      if (presetId === null) liveError.value = message
      else setEstimate(presetId, { state: 'failed', message })
    } finally {
      if (running === mine) {
        running = null
        if (presetId === null) liveComputing.value = false
        pump()
      }
    }
  }

  /** Starts the next piece of work when nothing runs: the live preview first, then the presets. */
  function pump(): void {
    if (running) return
    if (liveWanted && liveTimer === null) {
      const settings = liveWanted
      liveWanted = null
      liveSettings.value = settings
      liveError.value = null
      void compute(null, { type: 'compress', settings })
      return
    }
    const next = queue.shift()
    if (next === undefined) return
    setEstimate(next, { state: 'computing' })
    void compute(next, { type: 'compress', preset: next })
  }

  /** Computes every preset's estimate (once per version on screen). */
  function estimatePresets(): void {
    if (started) return
    started = true
    const ids = presets().map((p) => p.id)
    queue = ids.filter((id) => !estimates.value.has(id))
    for (const id of queue) setEstimate(id, { state: 'computing' })
    pump()
  }

  /** The custom settings changed: their preview follows once they stay still for LIVE_DELAY_MS. */
  function previewSettings(settings: CompressionSettings): void {
    liveWanted = settings
    liveComputing.value = true
    if (liveTimer !== null) clearTimeout(liveTimer)
    liveTimer = setTimeout(() => {
      liveTimer = null
      // The live preview supersedes whatever runs (the server would stop it anyway).
      stopRunning()
      pump()
    }, LIVE_DELAY_MS)
  }

  function reset(): void {
    if (liveTimer !== null) clearTimeout(liveTimer)
    liveTimer = null
    running?.controller.abort()
    running = null
    queue = []
    liveWanted = null
    started = false
    estimates.value = new Map()
    live.value = null
    liveSettings.value = null
    liveComputing.value = false
    liveError.value = null
  }

  function restart(): void {
    reset()
    if (onScreen()) estimatePresets()
  }

  // A new version on screen (or another image), or a preset edited or added: every estimate is stale.
  watch(() => `${image().id}:${image().current.number}`, restart)
  watch(() => JSON.stringify(presets().map((p) => [p.id, p.settings])), restart)
  watch(onScreen, (on) => on && estimatePresets(), { immediate: true })
  onScopeDispose(reset)

  return { estimates, live, liveSettings, liveComputing, liveError, estimatePresets, previewSettings, reset }
}

export type PreviewsState = ReturnType<typeof usePreviews>
