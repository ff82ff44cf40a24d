import { formatBytes } from './bytes'

/** Which way a size went; the colour follows it, but never carries it alone. */
export type SizeDirection = 'smaller' | 'larger'

export interface SizeChange {
  direction: SizeDirection
  /** "▼ −78 %" or "▲ +902 %": the arrow and the sign say the direction without colour. */
  text: string
  /** "78 % smaller than the original (2.2 MB)": the full sentence for titles and screen readers. */
  description: string
}

/**
 * How a size compares with a reference: the one formatter every size change in the app goes
 * through (editor, cards, history, previews, batches, background removal, AI edits), so that a
 * "+902 %" can never be shown as a saving anywhere. Null when there is nothing to compare with
 * or the change rounds to 0 %.
 */
export function sizeChange(bytes: number, referenceBytes: number, against = 'the original'): SizeChange | null {
  if (!(referenceBytes > 0) || !(bytes >= 0)) return null
  const change = Math.round((bytes / referenceBytes - 1) * 100)
  if (change === 0) return null
  const direction: SizeDirection = change < 0 ? 'smaller' : 'larger'
  const amount = Math.abs(change)
  // U+2212 MINUS SIGN: a hyphen looks wrong next to digits.
  const text = direction === 'smaller' ? `\u25bc \u2212${amount} %` : `\u25b2 +${amount} %`
  return { direction, text, description: `${amount} % ${direction} than ${against} (${formatBytes(referenceBytes)})` }
}
