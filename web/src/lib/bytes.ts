/**
 * Sizes as people read them. KB and MB are binary (1 KB = 1024 bytes), the same unit as the
 * server's target_kb, so that a "≤ 500 KB" target and a "498 KB" result agree.
 */
const KB = 1024
const MB = KB * 1024

/** "0 B", "820 B", "4.2 KB", "482 KB", "5.3 MB" */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—'
  if (bytes < KB) return `${Math.round(bytes)} B`
  if (bytes < MB) {
    const kb = bytes / KB
    // One decimal below 10 KB, where a whole number would hide a real difference.
    const text = kb < 10 ? trimZero(kb.toFixed(1)) : String(Math.round(kb))
    // 1023.7 KB rounds to "1024 KB": say 1 MB instead.
    return text === '1024' ? '1 MB' : `${text} KB`
  }
  const mb = bytes / MB
  return `${trimZero(mb < 100 ? mb.toFixed(1) : String(Math.round(mb)))} MB`
}

function trimZero(text: string): string {
  return text.endsWith('.0') ? text.slice(0, -2) : text
}

/** "4000 × 3000" */
export function formatDimensions(width: number, height: number): string {
  return `${width} \u00d7 ${height}`
}

/** "1.2 MP" for the editor's summary line; megapixels to one decimal. */
export function formatMegapixels(width: number, height: number): string {
  return `${trimZero(((width * height) / 1_000_000).toFixed(1))} MP`
}

/** Upload progress as a whole percentage, 0–100, never NaN. */
export function progressPercent(loaded: number, total: number): number {
  if (!(total > 0)) return 0
  return Math.max(0, Math.min(100, Math.floor((loaded / total) * 100)))
}

/** Size of `mb` mebibytes in bytes: the server's upload limit is in MiB. */
export function mebibytes(mb: number): number {
  return mb * MB
}
