import type { ApiError } from '../api/client'

/** Where OpenRouter credits are bought. */
export const OPENROUTER_CREDITS_URL = 'https://openrouter.ai/credits'

/** Seconds to wait after a 429 that did not say how long. */
export const DEFAULT_RETRY_SECONDS = 10

/** What went wrong with an AI call, sorted by what the person can do about it. */
export type AiProblem =
  /** No key: connect OpenRouter (the settings dialog). */
  | { kind: 'not_connected'; message: string }
  /** OpenRouter refused the key: reconnect. */
  | { kind: 'key_rejected'; message: string }
  /** 402: buy credits (or raise the key's limit). */
  | { kind: 'credits'; message: string }
  /** 429: wait `retryAfter` seconds, then try again. */
  | { kind: 'rate_limited'; message: string; retryAfter: number }
  /** 5xx, a timeout, a dropped or cut-off stream: trying again may work. */
  | { kind: 'retryable'; message: string }
  /** Anything else (422, 404, 413): the same request would fail again. */
  | { kind: 'refused'; message: string }

/** Sorts an AI call's error; the server's message is kept, it names the cause. */
export function aiProblem(error: ApiError): AiProblem {
  const { code, status, message } = error
  // By code: a 409 is also an edit refused because the image changed meanwhile.
  if (code === 'openrouter_not_connected') return { kind: 'not_connected', message }
  if (status === 401 || code === 'openrouter_key_invalid' || code === 'openrouter_unauthorized') {
    return { kind: 'key_rejected', message }
  }
  if (status === 402 || code === 'payment_required' || code === 'insufficient_credits') {
    return { kind: 'credits', message }
  }
  if (status === 429 || code === 'rate_limited') {
    return { kind: 'rate_limited', message, retryAfter: error.retryAfter ?? DEFAULT_RETRY_SECONDS }
  }
  // status 0 (no answer) and 200 (an error event in the middle of the stream) are retryable too.
  if (status === 0 || status === 200 || status >= 500) return { kind: 'retryable', message }
  return { kind: 'refused', message }
}
