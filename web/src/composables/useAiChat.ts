import { computed, onScopeDispose, ref, shallowRef, watch } from 'vue'
import { aiApi, type AiApi } from '../api/ai'
import { toApiError, type ApiError } from '../api/client'
import type { ChatMessage } from '../api/types'
import { aiProblem, type AiProblem } from '../lib/aiProblem'
import { useCountdown } from './useCountdown'
import { useLatestRequest } from './useLatestRequest'

/** Most characters a message may have (the server's limit). */
export const MAX_CHAT_MESSAGE = 4000

/**
 * The turn being sent, until the server confirms it with `done` (then it joins `messages`).
 * `stopped` and `failed` turns were not saved: they are shown as such and vanish on reload.
 */
export interface PendingTurn {
  text: string
  /** The reply so far, as streamed. */
  reply: string
  state: 'streaming' | 'stopped' | 'failed'
  error: ApiError | null
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError'
}

/**
 * The AI conversation about one image: its saved history, sending a message with the reply
 * streamed in, stopping it, and what went wrong. `imageId` may change (the editor shows another
 * image): the history reloads and anything in flight is stopped.
 */
export function useAiChat(imageId: () => string, client: AiApi = aiApi, { model }: { model?: () => string | undefined } = {}) {
  const messages = shallowRef<readonly ChatMessage[]>([])
  const totalCost = ref<number | null>(null)
  const loaded = ref(false)
  const loadError = shallowRef<ApiError | null>(null)
  const pending = shallowRef<PendingTurn | null>(null)
  const clearing = ref(false)
  /** Clearing failed (sending problems live on the pending turn). */
  const actionError = shallowRef<ApiError | null>(null)
  const cooldown = useCountdown()
  const historyLoad = useLatestRequest()
  const loading = historyLoad.loading
  let sendController: AbortController | null = null

  const streaming = computed(() => pending.value?.state === 'streaming')
  const problem = computed<AiProblem | null>(() => {
    const error = pending.value?.error ?? loadError.value ?? actionError.value
    return error ? aiProblem(error) : null
  })
  /** Why sending is not possible right now; null when it is. */
  const blocked = computed(() => streaming.value || cooldown.active.value || clearing.value)

  function load(): Promise<void> {
    return historyLoad.run((signal) => client.history(imageId(), signal), {
      done: (saved) => {
        messages.value = saved.messages
        totalCost.value = saved.total_cost
        loadError.value = null
        loaded.value = true
      },
      failed: (caught) => {
        loadError.value = caught
      },
    })
  }

  function update(patch: Partial<PendingTurn>): void {
    if (pending.value) pending.value = { ...pending.value, ...patch }
  }

  /** Sends `text`; resolves when the turn is saved, stopped or failed. False when it could not start. */
  async function send(text: string): Promise<boolean> {
    const message = text.trim()
    if (!message || message.length > MAX_CHAT_MESSAGE || blocked.value) return false
    const controller = new AbortController()
    sendController = controller
    actionError.value = null
    pending.value = { text: message, reply: '', state: 'streaming', error: null }
    const chosen = model?.()
    try {
      for await (const event of client.chat(imageId(), chosen ? { message, model: chosen } : { message }, controller.signal)) {
        if (controller.signal.aborted) break
        if (event.type === 'delta') {
          update({ reply: (pending.value?.reply ?? '') + event.text })
        } else {
          messages.value = [...messages.value, event.user_message, event.assistant_message]
          totalCost.value = event.total_cost
          pending.value = null
        }
      }
      if (controller.signal.aborted) update({ state: 'stopped' })
    } catch (caught) {
      if (controller.signal.aborted || isAbort(caught)) {
        update({ state: 'stopped' })
      } else {
        const error = toApiError(caught)
        update({ state: 'failed', error })
        const sorted = aiProblem(error)
        if (sorted.kind === 'rate_limited') cooldown.start(sorted.retryAfter)
      }
    } finally {
      if (sendController === controller) sendController = null
    }
    return true
  }

  /** Aborts the reply: the server cancels the upstream call and saves nothing. */
  function stop(): void {
    sendController?.abort()
  }

  /** Sends the failed or stopped message again. */
  function retry(): Promise<boolean> {
    const turn = pending.value
    if (!turn || turn.state === 'streaming') return Promise.resolve(false)
    return send(turn.text)
  }

  /** Forgets the unsaved turn; its text is returned so that it can go back into the composer. */
  function discard(): string | null {
    const turn = pending.value
    if (!turn || turn.state === 'streaming') return null
    pending.value = null
    return turn.text
  }

  async function clear(): Promise<boolean> {
    if (clearing.value) return false
    stop()
    clearing.value = true
    actionError.value = null
    try {
      const history = await client.clearHistory(imageId())
      messages.value = history.messages
      totalCost.value = history.total_cost
      pending.value = null
      return true
    } catch (caught) {
      actionError.value = toApiError(caught)
      return false
    } finally {
      clearing.value = false
    }
  }

  // Another image: its own conversation.
  watch(imageId, () => {
    stop()
    pending.value = null
    actionError.value = null
    messages.value = []
    totalCost.value = null
    loaded.value = false
    void load()
  })

  onScopeDispose(stop)

  return {
    messages,
    totalCost,
    loaded,
    loading,
    loadError,
    pending,
    streaming,
    clearing,
    actionError,
    problem,
    blocked,
    cooldown: cooldown.remaining,
    load,
    send,
    stop,
    retry,
    discard,
    clear,
  }
}

export type AiChatState = ReturnType<typeof useAiChat>
