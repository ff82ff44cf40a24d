import { plural } from './plural'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * How long until a session expires, as shown in the header: "expires in 7 days".
 *
 * The coarsest unit that is at least 1 wins, rounded to the nearest whole unit, so a session
 * created a moment ago reads "7 days" rather than "6 days". Rounding up into the next unit
 * (59.6 minutes, 23.7 hours) is shown in that unit ("1 hour", "1 day"), never as "60 minutes".
 */
export function formatExpiry(expiresAt: string | Date, now: Date): string {
  const expiry = typeof expiresAt === 'string' ? new Date(expiresAt) : expiresAt
  const ms = expiry.getTime() - now.getTime()
  if (Number.isNaN(ms)) return 'expiry unknown'
  if (ms <= 0) return 'expired'

  const minutes = Math.round(ms / MINUTE)
  if (minutes < 1) return 'expires in less than a minute'
  if (minutes < 60) return `expires in ${plural(minutes, 'minute')}`

  const hours = Math.round(ms / HOUR)
  if (hours < 24) return `expires in ${plural(hours, 'hour')}`

  const days = Math.max(1, Math.round(ms / DAY))
  return `expires in ${plural(days, 'day')}`
}
