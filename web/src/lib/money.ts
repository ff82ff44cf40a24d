const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })

/** "$7.25", "$1,234.50"; amounts under a cent that are not zero read "<$0.01" rather than "$0.00". */
export function formatUsd(amount: number): string {
  if (!Number.isFinite(amount)) return '—'
  if (amount > 0 && amount < 0.01) return '<$0.01'
  return usd.format(amount)
}

/**
 * What an OpenRouter key can still spend: "$7.25 of $10.00 left", or "No spending limit" for a
 * key without one. A key past its limit shows "$0.00" left, never a negative amount.
 */
export function formatCredit(limit: number | null, remaining: number | null): string {
  if (limit === null) return 'No spending limit'
  if (remaining === null) return `${formatUsd(limit)} limit`
  return `${formatUsd(Math.max(0, remaining))} of ${formatUsd(limit)} left`
}

/** "$2.75 used"; null when the server did not say. */
export function formatUsage(usage: number | null): string | null {
  return usage === null ? null : `${formatUsd(usage)} used`
}

const small = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 })
const price = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 3,
})

/**
 * What one AI call cost: fractions of a cent matter here, so "$0.00042" rather than "<$0.01";
 * a cent or more reads like any amount ("$0.12"). null when OpenRouter did not say.
 */
export function formatCost(amount: number | null): string | null {
  if (amount === null || !Number.isFinite(amount)) return null
  if (amount > 0 && amount < 0.01) return small.format(amount)
  return formatUsd(amount)
}

/** USD from an OpenRouter price string; null for a missing, unreadable or negative ("varies") one. */
function parsePrice(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null
  const amount = Number(value)
  return Number.isFinite(amount) && amount >= 0 ? amount : null
}

/** A per-token price as per million tokens: "$0.15 / M"; "free" for zero; null when unknown. */
export function formatPerMillion(perToken: string | undefined): string | null {
  const amount = parsePrice(perToken)
  if (amount === null) return null
  if (amount === 0) return 'free'
  return `${price.format(amount * 1_000_000)} / M`
}

/** A model's prices in a few words: "$0.15 / M in · $0.60 / M out · $0.039 / image". */
export function formatModelPricing(pricing: { prompt?: string; completion?: string; image?: string }): string {
  const parts: string[] = []
  const input = formatPerMillion(pricing.prompt)
  const output = formatPerMillion(pricing.completion)
  if (input) parts.push(`${input} in`)
  if (output) parts.push(`${output} out`)
  const image = parsePrice(pricing.image)
  if (image) parts.push(`${price.format(image)} / image`)
  if (input === 'free' && output === 'free' && !image) return 'Free'
  return parts.length > 0 ? parts.join(' · ') : 'Price not listed'
}
