/** Whether this browser can hand image files to other apps (the Web Share API with files). */
export function canShareImages(): boolean {
  if (typeof navigator.share !== 'function' || typeof navigator.canShare !== 'function') return false
  try {
    return navigator.canShare({ files: [new File([], 'photo.jpg', { type: 'image/jpeg' })] })
  } catch {
    return false
  }
}

/** What to say when sharing did not happen; null when the person closed the share sheet themselves. */
export function shareFailedMessage(error: unknown): string | null {
  const name = error instanceof Error || error instanceof DOMException ? error.name : ''
  if (name === 'AbortError') return null
  // Fetching the file can outlast the tap that allows a share; the file is kept, so a second tap works.
  if (name === 'NotAllowedError') return 'The image is ready now: tap Share again to send it.'
  return `Couldn't share the image: ${error instanceof Error ? error.message : String(error)}`
}
