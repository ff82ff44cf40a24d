import type { CompressFormat, ImageFormat, ImageView } from '../api/types'

const LABELS: Record<ImageFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  bmp: 'BMP',
  tiff: 'TIFF',
  // Phones call their HEIF photos HEIC; that is the name people know.
  heif: 'HEIC',
  avif: 'AVIF',
}

/** "JPEG", "WebP", "HEIC"… for badges and summaries. */
export function formatLabel(format: ImageFormat | CompressFormat | string): string {
  if (format === 'auto') return 'Auto'
  return LABELS[format as ImageFormat] ?? format.toUpperCase()
}

/** Formats every current browser draws in an <img>; others get the thumbnail as preview. */
const BROWSER_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'bmp', 'avif'])

export function browserCanShow(format: string): boolean {
  return BROWSER_FORMATS.has(format)
}

/** Formats that keep transparency; converting to one of the others fills it with a colour. */
export function keepsTransparency(format: string): boolean {
  return format === 'png' || format === 'webp' || format === 'avif' || format === 'gif'
}

/**
 * What the upload was when it is not what is being edited, or is a format people ask about:
 * "HEIC original · editing as JPEG", "AVIF original". Null for an everyday upload edited as itself.
 */
export function originalNote(image: Pick<ImageView, 'original_format' | 'versions'>): string | null {
  const original = image.original_format
  const working = image.versions[0]?.format ?? original
  const named = original === 'heif' || original === 'avif'
  if (original === working) return named ? `${formatLabel(original)} original` : null
  return `${formatLabel(original)} original \u00b7 editing as ${formatLabel(working)}`
}
