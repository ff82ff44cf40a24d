import type { OpenRouterStatus } from '../api/types'
import { formatCredit, formatUsage } from './money'

export type ConnectionTone = 'success' | 'shared' | 'warning' | 'neutral'

/** What the AI settings dialog shows and offers for one OpenRouter status. */
export interface ConnectionView {
  badge: { text: string; tone: ConnectionTone }
  /** Credit left and used, for a working key of the person's own. */
  credit: { left: string; used: string | null } | null
  /** A stored key of the person's own, working or rejected: it can be removed. */
  ownKey: boolean
  /** Offered whenever the person has no working key of their own. */
  canConnect: boolean
  /** The server's shared key serves them now. */
  sharedNote: boolean
}

function badgeOf({ state, source }: OpenRouterStatus): ConnectionView['badge'] {
  if (state === 'invalid') return { text: 'Key rejected', tone: 'warning' }
  if (state === 'connected' && source === 'user') return { text: 'Connected', tone: 'success' }
  if (state === 'connected' && source === 'server') return { text: "Using this server's shared key", tone: 'shared' }
  return { text: 'Not connected', tone: 'neutral' }
}

export function describeConnection(status: OpenRouterStatus): ConnectionView {
  const { state, source } = status
  const ownWorking = state === 'connected' && source === 'user'
  return {
    badge: badgeOf(status),
    credit: ownWorking
      ? { left: formatCredit(status.limit, status.limit_remaining), used: formatUsage(status.usage) }
      : null,
    ownKey: source === 'user' && state !== 'disconnected',
    canConnect: !ownWorking,
    sharedNote: status.server_key_available && source !== 'user',
  }
}
