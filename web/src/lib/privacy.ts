import type { ImageView } from '../api/types'

/** What a file that still holds a location says next to its download. */
export const LOCATION_NOTICE = 'Holds the location where it was taken'

/**
 * The notice for a ZIP of the selected images, or null when none of their current versions holds a
 * location (the ZIP carries current versions only, never originals).
 */
export function archiveLocationNotice(images: readonly ImageView[], selected: ReadonlySet<string>): string | null {
  const located = images.filter((image) => selected.has(image.id) && image.current.has_location)
  if (located.length === 0) return null
  if (located.length === 1) return '1 file in this ZIP holds the location where it was taken.'
  return `${located.length} files in this ZIP hold the locations where they were taken.`
}
