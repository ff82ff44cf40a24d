import type { CompressionOutcome, CompressionSettings, Preset, PreviewView } from '../api/types'
import { formatBytes } from './bytes'
import { formatLabel } from './imageFormats'

/** "800×800 · ≤500 KB · JPEG" — what a preset does, for its button. */
export function settingsSummary(settings: CompressionSettings): string {
  const parts: string[] = []
  if (settings.max_width && settings.max_height) parts.push(`${settings.max_width}×${settings.max_height}`)
  else if (settings.max_width) parts.push(`≤${settings.max_width} px wide`)
  else if (settings.max_height) parts.push(`≤${settings.max_height} px high`)
  if (settings.target_kb) parts.push(`≤${settings.target_kb} KB`)
  else parts.push(`q${settings.quality}`)
  parts.push(settings.format === 'auto' ? 'best format' : formatLabel(settings.format))
  return parts.join(' · ')
}

/** The target a compression aimed at: from its custom settings or from the preset it used. */
export function targetKbOf(params: Record<string, unknown>, presets: readonly Preset[]): number | null {
  const settings = params.settings
  if (typeof settings === 'object' && settings !== null) {
    const target = (settings as { target_kb?: unknown }).target_kb
    return typeof target === 'number' ? target : null
  }
  const presetId = params.preset
  if (typeof presetId === 'string') return presets.find((p) => p.id === presetId)?.settings.target_kb ?? null
  return null
}

export interface CompressionSummary {
  /** "482 KB · 800×600 · JPEG q78" */
  text: string
  /** "target met", or why it was not */
  verdict: string | null
  met: boolean
  /** What reaching the target cost, when it cost a lot: "To reach 3 KB the photo was shrunk to …". */
  compromises: string[]
}

/** The sentences for a target that needed heavy shrinking or a low quality (the server decides which). */
export function compromisesOf(outcome: CompressionOutcome, targetKb: number | null): string[] {
  const reach = `To reach ${targetKb !== null ? `${targetKb} KB` : 'the target size'}`
  const found: string[] = []
  if (outcome.shrunk_for_target && outcome.fitted_width && outcome.fitted_height) {
    found.push(
      `${reach} the photo was shrunk to ${outcome.width}×${outcome.height} (the box allowed ${outcome.fitted_width}×${outcome.fitted_height}).`,
    )
  }
  if (outcome.low_quality_for_target && outcome.jpeg_quality !== null) {
    const scale = outcome.format === 'jpeg' ? '' : ' on the JPEG scale'
    found.push(`${reach} the quality went down to ${outcome.jpeg_quality}${scale}: compression artefacts may show.`)
  }
  return found
}

/** How a compression came out, for the line under the presets. */
export function compressionSummary(outcome: CompressionOutcome, targetKb: number | null): CompressionSummary {
  const format = formatLabel(outcome.format) + (outcome.quality !== null ? ` q${outcome.quality}` : '')
  const text = `${formatBytes(outcome.bytes)} · ${outcome.width}×${outcome.height} · ${format}`
  const compromises = compromisesOf(outcome, targetKb)
  if (outcome.target_met) return { text, verdict: targetKb !== null ? 'target met' : null, met: true, compromises }
  const target = targetKb !== null ? `the ${targetKb} KB target` : 'the target size'
  return {
    text,
    verdict: `Couldn't reach ${target} at these dimensions. Try smaller dimensions, or WebP or AVIF.`,
    met: false,
    compromises,
  }
}

/** Starting values of the custom form. */
export const DEFAULT_SETTINGS: CompressionSettings = {
  max_width: 1920,
  max_height: 1920,
  quality: 85,
  target_kb: 500,
  format: 'jpeg',
  keep_aspect: true,
}

/** What a computed preview will store, for a preset's button or the custom form: "482 KB · 800×600 · JPEG q78". */
export function previewSummary(preview: PreviewView): string {
  const summary = compressionSummary(preview, preview.settings.target_kb)
  // A row has room for a word, not a sentence: the sentence comes with the result once applied.
  const costs = [
    preview.shrunk_for_target ? `shrunk from ${preview.fitted_width}×${preview.fitted_height}` : null,
    preview.low_quality_for_target ? `low quality` : null,
  ].filter((cost) => cost !== null)
  return costs.length ? `${summary.text} · \u26a0 ${costs.join(', ')}` : summary.text
}
