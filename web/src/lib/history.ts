import type { Preset, VersionView } from '../api/types'
import { backgroundLabel } from './background'
import { formatBytes, formatDimensions } from './bytes'
import { formatLabel } from './imageFormats'

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/** How much of an AI edit's instruction its history label quotes. */
const AI_LABEL_CHARS = 80

/** The name of the preset a compression used: its own name, or "custom settings". */
export function presetName(params: Record<string, unknown>, presets: readonly Preset[] = []): string {
  const id = str(params.preset)
  if (!id) return 'custom settings'
  const preset = presets.find((p) => p.id === id)
  if (preset) return preset.name
  const builtIn: Record<string, string> = { email: 'Email', web: 'Web', web_hq: 'Web HQ' }
  return builtIn[id] ?? 'a deleted profile'
}

/** What a version did, in a few words: "Rotated 90° right", "Compressed · Email". */
export function versionLabel(version: VersionView, presets: readonly Preset[] = []): string {
  const p = version.params
  switch (version.operation) {
    case 'upload':
      return 'Original'
    case 'compress':
      return `Compressed · ${presetName(p, presets)}`
    case 'resize': {
      const percent = num(p.percent)
      if (percent !== null) return `Resized to ${percent} %`
      return `Resized to ${formatDimensions(version.width, version.height)}`
    }
    case 'rotate': {
      const degrees = num(p.degrees)
      if (degrees === 90) return 'Rotated 90° right'
      if (degrees === 270) return 'Rotated 90° left'
      if (degrees === 180) return 'Rotated 180°'
      return 'Rotated'
    }
    case 'flip':
      return p.direction === 'vertical' ? 'Flipped vertically' : 'Flipped horizontally'
    case 'crop':
      return `Cropped to ${formatDimensions(version.width, version.height)}`
    case 'convert':
      return `Converted to ${formatLabel(str(p.format) ?? version.format)}`
    case 'strip_metadata':
      return p.what === 'gps' ? 'Removed location' : 'Removed all metadata'
    case 'revert': {
      const target = num(p.version)
      return target === null ? 'Reverted' : `Back to version ${target}`
    }
    case 'remove_background':
      return backgroundLabel(p)
    case 'brush': {
      const parts = [[num(p.erased), 'erased'], [num(p.restored), 'restored']] as const
      const said = parts.filter(([n]) => n).map(([n, what]) => `${n} ${what}`)
      return said.length ? `Touched up: ${said.join(', ')}` : 'Touched up'
    }
    case 'ai_edit': {
      const instruction = str(p.instruction)?.trim().replace(/\s+/g, ' ')
      if (!instruction) return 'AI edit'
      // The history list has one line per version; the instruction can be 2,000 characters.
      const short = instruction.length > AI_LABEL_CHARS ? `${instruction.slice(0, AI_LABEL_CHARS - 1).trimEnd()}…` : instruction
      return `AI edit: ${short}`
    }
    default: {
      const words = version.operation.replace(/_/g, ' ').trim()
      return words ? words[0]!.toUpperCase() + words.slice(1) : 'Edited'
    }
  }
}

/** The result of a version: "JPEG · 800 × 600 · 482 KB". */
export function versionDetail(version: VersionView): string {
  const quality = version.compression?.quality
  const format = formatLabel(version.format) + (quality ? ` q${quality}` : '')
  return `${format} · ${formatDimensions(version.width, version.height)} · ${formatBytes(version.bytes)}`
}

/** "20:01" in the viewer's time zone; "" for a malformed time. */
export function formatClock(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
}
