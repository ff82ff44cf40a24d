/** Why copying an image cannot work here, or null when the browser supports it. */
export function clipboardUnsupportedReason(): string | null {
  if (!window.isSecureContext) return 'Copying images needs a secure (HTTPS) connection. Use Download instead.'
  if (!navigator.clipboard || typeof navigator.clipboard.write !== 'function' || typeof ClipboardItem === 'undefined') {
    return "This browser can't copy images. Use Download instead."
  }
  return null
}

/** Re-encodes any image the browser can decode as PNG, the one type every clipboard accepts. */
export async function toPng(blob: Blob): Promise<Blob> {
  if (blob.type === 'image/png') return blob
  const bitmap = await createImageBitmap(blob)
  try {
    const canvas = document.createElement('canvas')
    canvas.width = bitmap.width
    canvas.height = bitmap.height
    const context = canvas.getContext('2d')
    if (!context) throw new Error('No canvas')
    context.drawImage(bitmap, 0, 0)
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((png) => (png ? resolve(png) : reject(new Error('PNG encoding failed'))), 'image/png'),
    )
  } finally {
    bitmap.close()
  }
}

/**
 * Puts an image on the clipboard as PNG. `load` is started inside the click, and the write is
 * called at once with a promise of the PNG: Safari refuses a clipboard write made after an await.
 */
export async function copyImage(load: () => Promise<Blob>): Promise<void> {
  const png = load().then(toPng)
  await navigator.clipboard.write([new ClipboardItem({ 'image/png': png })])
}
