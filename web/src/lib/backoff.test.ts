import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff'

describe('backoffDelay', () => {
  it('doubles from one second and stops at thirty', () => {
    const schedule = Array.from({ length: 8 }, (_, attempt) => backoffDelay(attempt))
    expect(schedule).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000])
  })

  it('stays at the cap however long the outage lasts', () => {
    expect(backoffDelay(1_000)).toBe(30_000)
    expect(backoffDelay(Number.POSITIVE_INFINITY)).toBe(30_000)
  })

  it('treats nonsense attempts as the first one', () => {
    expect(backoffDelay(-3)).toBe(1_000)
    expect(backoffDelay(Number.NaN)).toBe(1_000)
    expect(backoffDelay(1.7)).toBe(2_000)
  })

  it('takes a custom base and cap', () => {
    expect(backoffDelay(0, { baseMs: 250, maxMs: 1_000 })).toBe(250)
    expect(backoffDelay(3, { baseMs: 250, maxMs: 1_000 })).toBe(1_000)
  })
})
