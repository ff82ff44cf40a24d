import { withoutParams } from './address'

/**
 * The return from OpenRouter's approval page. The server finishes the OAuth exchange, then
 * redirects the browser to `/?openrouter=connected` or `/?openrouter=failed&reason=<text>`.
 */
export type OpenRouterReturn = { outcome: 'connected' } | { outcome: 'failed'; reason: string | null }

export interface OpenRouterReturnRead {
  /** What to tell the person; null when `openrouter` had a value this app doesn't know. */
  result: OpenRouterReturn | null
  /** The same address without the two parameters (path, other parameters and hash kept), for history.replaceState. */
  url: string
}

const PARAM = 'openrouter'
const REASON = 'reason'
/** Anyone can craft a link with any reason: keep it to a line of plain text. */
const MAX_REASON = 200

function cleanReason(raw: string | null): string | null {
  if (raw === null) return null
  const text = raw.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim()
  if (!text) return null
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1).trimEnd()}…` : text
}

/**
 * Reads the return parameters from an address (e.g. `window.location.href`); null when there
 * are none, so the address is left alone. URLSearchParams has already decoded `reason`.
 */
export function readOpenRouterReturn(href: string): OpenRouterReturnRead | null {
  let url: URL
  try {
    url = new URL(href)
  } catch {
    return null
  }
  const params = url.searchParams
  if (!params.has(PARAM)) return null

  const value = params.get(PARAM)
  let result: OpenRouterReturn | null = null
  if (value === 'connected') result = { outcome: 'connected' }
  else if (value === 'failed') result = { outcome: 'failed', reason: cleanReason(params.get(REASON)) }

  // Drop just these two, leaving every other parameter exactly as it was written.
  return { result, url: withoutParams(url, [PARAM, REASON]) }
}

/** The toast for a failed connection. The reason comes from the address, so it is quoted after fixed wording. */
export function connectFailedMessage(reason: string | null): string {
  return reason
    ? `Couldn't connect OpenRouter: ${reason}`
    : "Couldn't connect OpenRouter. Please try again."
}
