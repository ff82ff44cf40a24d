import { describe, expect, it } from 'vitest'
import { formatExpiry } from './time'

const now = new Date('2026-11-25T20:00:00+00:00')
const later = (ms: number) => new Date(now.getTime() + ms)
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

describe('formatExpiry', () => {
  it('shows whole days for a fresh session', () => {
    expect(formatExpiry('2026-12-02T20:00:00+00:00', now)).toBe('expires in 7 days')
  })

  it('rounds days to the nearest day, so a session a few seconds old still reads 7 days', () => {
    expect(formatExpiry(later(7 * DAY - 5_000), now)).toBe('expires in 7 days')
    expect(formatExpiry(later(6 * DAY + 11 * HOUR), now)).toBe('expires in 6 days')
    expect(formatExpiry(later(6 * DAY + 13 * HOUR), now)).toBe('expires in 7 days')
  })

  it('uses the singular for one day', () => {
    expect(formatExpiry(later(DAY), now)).toBe('expires in 1 day')
    expect(formatExpiry(later(DAY + 11 * HOUR), now)).toBe('expires in 1 day')
  })

  it('switches to hours below one day', () => {
    expect(formatExpiry(later(5 * HOUR), now)).toBe('expires in 5 hours')
    expect(formatExpiry(later(5 * HOUR + 20 * MINUTE), now)).toBe('expires in 5 hours')
    expect(formatExpiry(later(HOUR), now)).toBe('expires in 1 hour')
  })

  it('says 1 day rather than 24 hours when the hours round up to a day', () => {
    expect(formatExpiry(later(23 * HOUR + 40 * MINUTE), now)).toBe('expires in 1 day')
  })

  it('switches to minutes below one hour', () => {
    expect(formatExpiry(later(42 * MINUTE), now)).toBe('expires in 42 minutes')
    expect(formatExpiry(later(MINUTE), now)).toBe('expires in 1 minute')
    expect(formatExpiry(later(59 * MINUTE + 45_000), now)).toBe('expires in 1 hour')
  })

  it('has wording for the last seconds and for the past', () => {
    expect(formatExpiry(later(20_000), now)).toBe('expires in less than a minute')
    expect(formatExpiry(later(0), now)).toBe('expired')
    expect(formatExpiry(later(-HOUR), now)).toBe('expired')
  })

  it('accepts a Date and other offsets than UTC', () => {
    expect(formatExpiry(new Date('2026-12-02T21:00:00+01:00'), now)).toBe('expires in 7 days')
  })

  it('does not crash on a malformed timestamp', () => {
    expect(formatExpiry('not a date', now)).toBe('expiry unknown')
  })
})
