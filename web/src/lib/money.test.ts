import { describe, expect, it } from 'vitest'
import { formatCost, formatCredit, formatModelPricing, formatPerMillion, formatUsage, formatUsd } from './money'

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

describe('formatCost', () => {
  it('keeps fractions of a cent, which is what one AI call usually costs', () => {
    expect(formatCost(0.00042)).toBe('$0.00042')
    expect(formatCost(0.0016)).toBe('$0.0016')
    expect(formatCost(0.12)).toBe('$0.12')
    expect(formatCost(0)).toBe('$0.00')
  })

  it('is null when OpenRouter did not say', () => {
    expect(formatCost(null)).toBeNull()
    expect(formatCost(Number.NaN)).toBeNull()
  })
})

describe('model prices', () => {
  it('shows per-token prices per million tokens', () => {
    expect(formatPerMillion('0.00000015')).toBe('$0.15 / M')
    expect(formatPerMillion('0.000003')).toBe('$3.00 / M')
    expect(formatPerMillion('0.000000075')).toBe('$0.075 / M')
    expect(formatPerMillion('0')).toBe('free')
    expect(formatPerMillion('-1')).toBeNull()
    expect(formatPerMillion('')).toBeNull()
  })

  it('sums a model up in one line, with a per-image price when there is one', () => {
    expect(formatModelPricing({ prompt: '0.00000015', completion: '0.0000006', image: '0' })).toBe(
      '$0.15 / M in · $0.60 / M out',
    )
    expect(formatModelPricing({ prompt: '0.0000003', completion: '0.00003', image: '0.039' })).toBe(
      '$0.30 / M in · $30.00 / M out · $0.039 / image',
    )
    expect(formatModelPricing({ prompt: '0', completion: '0', image: '0' })).toBe('Free')
    expect(formatModelPricing({})).toBe('Price not listed')
  })
})
