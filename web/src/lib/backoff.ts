export interface BackoffOptions {
  /** Delay before the first retry. */
  baseMs?: number
  /** No wait is ever longer than this. */
  maxMs?: number
}

/**
 * Delay before retry number `attempt` (0-based): 1 s, 2 s, 4 s, … capped at 30 s.
 *
 * No jitter: there is one browser tab per user, not a fleet of clients to spread out, and a
 * deterministic delay lets the offline banner count down honestly.
 */
export function backoffDelay(attempt: number, { baseMs = 1_000, maxMs = 30_000 }: BackoffOptions = {}): number {
  // Past 2 ** 30 every realistic cap has long been reached; clamping keeps the maths finite.
  const n = attempt > 0 ? Math.min(Math.floor(attempt), 30) : 0
  return Math.min(maxMs, baseMs * 2 ** n)
}
