import { computed, onScopeDispose, ref, shallowRef, watch } from 'vue'
import { aiApi, type AiApi } from '../api/ai'
import { toApiError, type ApiError } from '../api/client'
import type { ImageView } from '../api/types'
import { aiProblem, type AiProblem } from '../lib/aiProblem'
import { useCountdown } from './useCountdown'

/** Most characters an instruction may have (the server's limit). */
export const MAX_EDIT_INSTRUCTION = 2000

/** The last edit that worked: what was asked, what the model said, what it cost. */
export interface AiEditOutcome {
  instruction: string
  text: string | null
  cost: number | null
  /** The version it made. */
  version: number
}

export interface AiEditOptions {
  /** The new state of the image (a new version); the gallery takes it over. */
  onImage: (image: ImageView) => void
  model?: () => string | undefined
  now?: () => number
}

/**
 * AI edits of one image: an instruction goes to an image model on the server, and the image
 * it returns becomes a new version (undoable like any other). A failed or cancelled edit
 * changes nothing.
 */
export function useAiEdit(imageId: () => string, client: AiApi = aiApi, { onImage, model, now = Date.now }: AiEditOptions) {
  const running = ref(false)
  /** Seconds since the edit started, for the progress line. */
  const elapsed = ref(0)
  const outcome = shallowRef<AiEditOutcome | null>(null)
  const error = shallowRef<ApiError | null>(null)
  /** The last edit was cancelled: the image is as it was. */
  const cancelled = ref(false)
  /** The instruction of the failed edit, for Retry. */
  const lastInstruction = ref<string | null>(null)
  const cooldown = useCountdown(now)
  let controller: AbortController | null = null
  let ticker: ReturnType<typeof setInterval> | null = null

  const problem = computed<AiProblem | null>(() => (error.value ? aiProblem(error.value) : null))
  const blocked = computed(() => running.value || cooldown.active.value)

  function stopTicker(): void {
    if (ticker !== null) clearInterval(ticker)
    ticker = null
  }

  /** Runs one edit; true when the image changed. */
  async function run(text: string): Promise<boolean> {
    const instruction = text.trim()
    if (!instruction || instruction.length > MAX_EDIT_INSTRUCTION || blocked.value) return false
    const own = new AbortController()
    controller = own
    running.value = true
    cancelled.value = false
    error.value = null
    lastInstruction.value = instruction
    const started = now()
    elapsed.value = 0
    ticker = setInterval(() => {
      elapsed.value = Math.floor((now() - started) / 1000)
    }, 1000)
    const chosen = model?.()
    try {
      const result = await client.edit(imageId(), chosen ? { instruction, model: chosen } : { instruction }, own.signal)
      onImage(result.image)
      outcome.value = { instruction, text: result.text, cost: result.cost, version: result.image.current.number }
      lastInstruction.value = null
      return true
    } catch (caught) {
      if (own.signal.aborted) {
        cancelled.value = true
      } else {
        error.value = toApiError(caught)
        const sorted = aiProblem(error.value)
        if (sorted.kind === 'rate_limited') cooldown.start(sorted.retryAfter)
      }
      return false
    } finally {
      if (controller === own) {
        controller = null
        running.value = false
        stopTicker()
      }
    }
  }

  /** Cancels the edit in flight: the browser drops the request and the server makes no version. */
  function cancel(): void {
    controller?.abort()
  }

  function retry(): Promise<boolean> {
    return lastInstruction.value ? run(lastInstruction.value) : Promise.resolve(false)
  }

  function dismiss(): void {
    error.value = null
    cancelled.value = false
  }

  watch(imageId, () => {
    cancel()
    outcome.value = null
    error.value = null
    cancelled.value = false
    lastInstruction.value = null
  })

  onScopeDispose(() => {
    cancel()
    stopTicker()
  })

  return {
    running,
    elapsed,
    outcome,
    error,
    cancelled,
    problem,
    blocked,
    cooldown: cooldown.remaining,
    run,
    cancel,
    retry,
    dismiss,
  }
}

export type AiEditState = ReturnType<typeof useAiEdit>
