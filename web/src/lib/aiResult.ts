import type { Operation, OutputFormat, VersionView } from '../api/types'
import { formatLabel } from './imageFormats'

const OUTPUT_FORMATS: ReadonlySet<string> = new Set<OutputFormat>(['jpeg', 'png', 'webp', 'avif'])

export interface CameBackDifferent {
  /** "Came back 1536×1152 PNG; the original was 4000×3000 JPEG." */
  text: string
  /** "4000×3000 JPEG": what Restore makes. */
  target: string
  /** One version: Lanczos back into the original's box, re-encoded in its format. */
  restore: Operation
}

/**
 * Models answer with their own size and format (a 4000×3000 JPEG comes back as a 1536×1152
 * PNG): say so, and offer to bring the result back to the original's dimensions and format.
 * Null when the result already has both.
 */
export function cameBackDifferent(result: VersionView, original: VersionView): CameBackDifferent | null {
  const smaller = result.width < original.width || result.height < original.height
  const otherFormat = result.format !== original.format
  if (!smaller && !otherFormat) return null
  const was = (v: VersionView) => `${v.width}×${v.height} ${formatLabel(v.format)}`
  // Original formats no encoder writes (HEIC, TIFF…) keep the result's: only the size comes back.
  const format = OUTPUT_FORMATS.has(original.format) ? (original.format as OutputFormat) : null
  return {
    text: `Came back ${was(result)}; the original was ${was(original)}.`,
    target: `${original.width}×${original.height}${format ? ` ${formatLabel(format)}` : ''}`,
    restore: {
      type: 'resize',
      width: original.width,
      height: original.height,
      keep_aspect: true,
      allow_upscale: true,
      format,
    },
  }
}
