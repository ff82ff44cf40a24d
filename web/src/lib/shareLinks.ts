import { plural } from './plural'

const HOUR = 3_600_000

/** One expiry a new share link can be given. */
export interface ExpiryChoice {
  hours: number
  label: string
  /** The session ends first: the link lives only until then. */
  untilSessionEnds: boolean
}

const OFFERED: readonly { hours: number; label: string }[] = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 24 * 7, label: '7 days' },
]

/**
 * The expiries offered for a new link: 1 hour, 1 day and 7 days, capped at the session's end
 * (the server caps them too). Choices the session does not outlive collapse into the first of
 * them, labelled as lasting until the session ends; a session with under an hour left still gets
 * that one choice.
 */
export function expiryChoices(sessionExpiresAt: string | null, now: Date): ExpiryChoice[] {
  const left = sessionExpiresAt === null ? Infinity : new Date(sessionExpiresAt).getTime() - now.getTime()
  const choices: ExpiryChoice[] = []
  for (const offered of OFFERED) {
    if (offered.hours * HOUR < left) {
      choices.push({ ...offered, untilSessionEnds: false })
    } else {
      choices.push({ hours: offered.hours, label: 'Until the session ends', untilSessionEnds: true })
      break
    }
  }
  return choices
}

/** The full address of a link, from the path the server returned (this page's own origin). */
export function shareUrl(path: string, origin: string = window.location.origin): string {
  return new URL(path, origin).href
}

/** A list row's summary: "Version 3 · 23 hours left". */
export function linkSummary(version: number, expiresAt: string, now: Date): string {
  const ms = new Date(expiresAt).getTime() - now.getTime()
  // Each unit until the next one reads better: 59.8 minutes is "1 hour", not "60 minutes".
  const minutes = Math.max(1, Math.round(ms / 60_000))
  const hours = Math.round(ms / HOUR)
  let left: string
  if (minutes < 60) left = plural(minutes, 'minute')
  else if (hours < 48) left = plural(hours, 'hour')
  else left = plural(Math.round(ms / (24 * HOUR)), 'day')
  return `Version ${version} · ${left} left`
}
