import type { SessionLimits } from '../api/types'
import { plural } from './plural'

/** What the image service decodes; it decides by content, this list is for people. */
export const ACCEPTED_FORMATS = ['JPEG', 'PNG', 'WebP', 'HEIC', 'AVIF', 'GIF', 'TIFF', 'BMP'] as const

/** "JPEG, PNG, … — up to 20 MB each, 5 images per session" */
export function acceptedFormatsLine(limits: SessionLimits): string {
  return `${ACCEPTED_FORMATS.join(', ')} — up to ${limits.max_upload_mb} MB each, ${plural(limits.max_images, 'image')} per session`
}
