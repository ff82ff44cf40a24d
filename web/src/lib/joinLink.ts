/**
 * The link a join QR code holds: `<app URL>/join#<token>`. The token travels in the fragment,
 * which browsers never send, so it reaches no server log; the app reads it here and posts it.
 */
export interface JoinLinkRead {
  /** The single-use token; null when the link has none (or not one of ours), so nothing is posted. */
  token: string | null
  /** The app's own address without the join path and token, for history.replaceState. */
  url: string
}

export const JOIN_PATH = '/join'
// The server's tokens: 32 random bytes, base64url without padding.
const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** Reads a join link from an address (e.g. `window.location.href`); null when it is not one. */
export function readJoinLink(href: string): JoinLinkRead | null {
  let url: URL
  try {
    url = new URL(href)
  } catch {
    return null
  }
  if (url.pathname.replace(/\/+$/, '') !== JOIN_PATH) return null
  const token = url.hash.slice(1)
  return { token: TOKEN.test(token) ? token : null, url: `${url.origin}/` }
}
