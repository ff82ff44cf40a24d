import type { CompressFormat, ImageFormat } from '../api/types'

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
