import { describe, expect, it } from 'vitest'
import { formatCredit, formatUsage, formatUsd } from './money'

describe('formatUsd', () => {
  it('shows dollars and cents', () => {
    expect(formatUsd(7.25)).toBe('$7.25')
    expect(formatUsd(10)).toBe('$10.00')
    expect(formatUsd(0)).toBe('$0.00')
    expect(formatUsd(1234.5)).toBe('$1,234.50')
  })

  it('does not round a small charge down to nothing', () => {
    expect(formatUsd(0.0034)).toBe('<$0.01')
    expect(formatUsd(0.005)).toBe('<$0.01')
    expect(formatUsd(0.01)).toBe('$0.01')
  })

  it('has a placeholder for a number that is not one', () => {
    expect(formatUsd(Number.NaN)).toBe('—')
  })
})

describe('formatCredit', () => {
  it('says what is left of the limit', () => {
    expect(formatCredit(10, 7.25)).toBe('$7.25 of $10.00 left')
    expect(formatCredit(5, 5)).toBe('$5.00 of $5.00 left')
  })

  it('says when the key has no spending limit', () => {
    expect(formatCredit(null, null)).toBe('No spending limit')
    expect(formatCredit(null, 3)).toBe('No spending limit')
  })

  it('never shows a negative amount left', () => {
    expect(formatCredit(10, -0.42)).toBe('$0.00 of $10.00 left')
  })

  it('shows the limit alone when the remainder is unknown', () => {
    expect(formatCredit(10, null)).toBe('$10.00 limit')
  })
})

describe('formatUsage', () => {
  it('shows the amount used, or nothing when unknown', () => {
    expect(formatUsage(2.75)).toBe('$2.75 used')
    expect(formatUsage(0)).toBe('$0.00 used')
    expect(formatUsage(null)).toBeNull()
  })
})
