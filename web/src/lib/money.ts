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
