import type { ApiError } from '../api/client'
import type {
  BackgroundFill,
  BackgroundTiming,
  ImageView,
  RemoveBackgroundOperation,
  VersionView,
} from '../api/types'

// Settings ----------------------------------------------------------------------------------------

export type BackgroundKind = BackgroundFill['kind']
export type BackgroundFormat = NonNullable<RemoveBackgroundOperation['format']>
/** The long edge of the result in px; null: the photo's own size. */
export type OutputEdge = 2048 | 1024 | null

/** What the editor's panel holds; `toOperation` turns it into the request body. */
export interface BackgroundSettings {
  /** null: the server's default model. */
  model: string | null
  kind: BackgroundKind
  colour: string
  blurRadius: number
  /** The session image to put behind the subject (kind "image"). */
  imageId: string | null
  format: BackgroundFormat
  maxEdge: OutputEdge
  alphaMatting: boolean
  foregroundThreshold: number
  backgroundThreshold: number
  erodeSize: number
  postProcessMask: boolean
}

// rembg's defaults for alpha matting, which the server uses too.
export const DEFAULT_SETTINGS: Readonly<BackgroundSettings> = {
  model: null,
  kind: 'transparent',
  colour: '#ffffff',
  blurRadius: 20,
  imageId: null,
  format: 'webp',
  maxEdge: null,
  alphaMatting: false,
  foregroundThreshold: 240,
  backgroundThreshold: 10,
  erodeSize: 10,
  postProcessMask: false,
}

/** The server's limits (common contracts, RemoveBackgroundOp). */
export const LIMITS = {
  blurRadius: { min: 1, max: 100 },
  threshold: { min: 0, max: 255 },
  erodeSize: { min: 0, max: 64 },
} as const

/** Backgrounds people reach for: studio white and greys, black, and soft pastels for product shots. */
export const SWATCHES: readonly { colour: string; name: string }[] = [
  { colour: '#ffffff', name: 'White' },
  { colour: '#f1f3f5', name: 'Light grey' },
  { colour: '#000000', name: 'Black' },
  { colour: '#dbeafe', name: 'Soft blue' },
  { colour: '#fde2e4', name: 'Soft pink' },
  { colour: '#fef3c7', name: 'Cream' },
]

/** Formats the result may take: JPEG has no alpha, so only with a filled background. */
export function formatsFor(kind: BackgroundKind): readonly BackgroundFormat[] {
  return kind === 'transparent' ? ['png', 'webp'] : ['png', 'webp', 'jpeg']
}

/**
 * The server's default for a background (docs/PERFORMANCE.md): a fill has no alpha to keep, so
 * JPEG; a cut-out lossy WebP with lossless alpha, a third of PNG's CPU for a file ~20× smaller.
 */
export function defaultFormat(kind: BackgroundKind): BackgroundFormat {
  return kind === 'transparent' ? 'webp' : 'jpeg'
}

/** The size a run will produce: the long edge shrunk to `maxEdge` (never enlarged), as the server does. */
export function outputSize(width: number, height: number, maxEdge: OutputEdge): { width: number; height: number } {
  const factor = maxEdge === null ? 1 : Math.min(1, maxEdge / width, maxEdge / height)
  if (factor >= 1) return { width, height }
  return {
    width: Math.min(maxEdge ?? width, Math.max(1, Math.round(width * factor))),
    height: Math.min(maxEdge ?? height, Math.max(1, Math.round(height * factor))),
  }
}

export type SettingsField = 'model' | 'colour' | 'blurRadius' | 'imageId' | 'format' | 'foregroundThreshold' | 'backgroundThreshold' | 'erodeSize'
export type SettingsErrors = Partial<Record<SettingsField, string>>

const HEX_COLOUR = /^#[0-9a-f]{6}$/i

function integerIn(value: number, { min, max }: { min: number; max: number }): boolean {
  return Number.isInteger(value) && value >= min && value <= max
}

/**
 * What is wrong with the settings, by field; empty when they can be sent. `imageId` is the image
 * being edited (it cannot be its own background), `sessionImages` the ids of the session's images,
 * and `installedModels` the server's model ids once known.
 */
export function validateSettings(
  settings: BackgroundSettings,
  imageId: string,
  sessionImages: readonly string[],
  installedModels: readonly string[] | null = null,
): SettingsErrors {
  const errors: SettingsErrors = {}
  if (settings.model !== null && installedModels !== null && !installedModels.includes(settings.model)) {
    errors.model = 'That model is not installed on this server.'
  }
  if (settings.kind === 'colour' && !HEX_COLOUR.test(settings.colour)) {
    errors.colour = 'Choose a colour like #ffffff.'
  }
  if (settings.kind === 'blur' && !integerIn(settings.blurRadius, LIMITS.blurRadius)) {
    errors.blurRadius = `A whole number from ${LIMITS.blurRadius.min} to ${LIMITS.blurRadius.max}.`
  }
  if (settings.kind === 'image') {
    if (settings.imageId === imageId) errors.imageId = 'An image cannot be its own background. Choose another.'
    else if (!settings.imageId || !sessionImages.includes(settings.imageId)) errors.imageId = 'Choose one of your other images.'
  }
  if (!formatsFor(settings.kind).includes(settings.format)) {
    errors.format = 'JPEG has no transparency: choose PNG or WebP, or fill the background.'
  }
  if (settings.alphaMatting) {
    const { threshold, erodeSize } = LIMITS
    if (!integerIn(settings.foregroundThreshold, threshold)) {
      errors.foregroundThreshold = `A whole number from ${threshold.min} to ${threshold.max}.`
    }
    if (!integerIn(settings.backgroundThreshold, threshold)) {
      errors.backgroundThreshold = `A whole number from ${threshold.min} to ${threshold.max}.`
    } else if (!errors.foregroundThreshold && settings.backgroundThreshold >= settings.foregroundThreshold) {
      errors.backgroundThreshold = 'Must be below the foreground threshold.'
    }
    if (!integerIn(settings.erodeSize, erodeSize)) {
      errors.erodeSize = `A whole number from ${erodeSize.min} to ${erodeSize.max}.`
    }
  }
  return errors
}

function fillOf(settings: BackgroundSettings): BackgroundFill {
  switch (settings.kind) {
    case 'colour':
      return { kind: 'colour', colour: settings.colour.toLowerCase() }
    case 'blur':
      return { kind: 'blur', radius: settings.blurRadius }
    case 'image':
      return { kind: 'image', image_id: settings.imageId ?? '' }
    default:
      return { kind: 'transparent' }
  }
}

/** The request body for settings that `validateSettings` accepted. */
export function toOperation(settings: BackgroundSettings): RemoveBackgroundOperation {
  // Without matting the thresholds mean nothing; send the defaults rather than stale edits.
  const matting = settings.alphaMatting ? settings : DEFAULT_SETTINGS
  return {
    type: 'remove_background',
    model: settings.model,
    alpha_matting: settings.alphaMatting,
    foreground_threshold: matting.foregroundThreshold,
    background_threshold: matting.backgroundThreshold,
    erode_size: matting.erodeSize,
    post_process_mask: settings.postProcessMask,
    background: fillOf(settings),
    format: settings.format,
    max_edge: settings.maxEdge,
  }
}

/** The card's one-click action: the server's model, a transparent WebP at the photo's size. */
export const QUICK_OPERATION: Readonly<RemoveBackgroundOperation> = toOperation(DEFAULT_SETTINGS)

// Progress ----------------------------------------------------------------------------------------

/** How long a run on `width`×`height` pixels usually takes here, in seconds; null when unknown. */
export function expectedSeconds(timing: BackgroundTiming | null | undefined, width: number, height: number): number | null {
  if (!timing) return null
  const { base_seconds: base, per_megapixel_seconds: perMp } = timing
  if (!Number.isFinite(base) || !Number.isFinite(perMp) || base < 0 || perMp < 0) return null
  const expected = base + perMp * ((width * height) / 1e6)
  return expected > 0 ? expected : null
}

/** "0.8 s", "12 s", "1 min 05 s". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, seconds)
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`
  if (s < 60) return `${Math.floor(s)} s`
  const whole = Math.floor(s)
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`
}

export interface RunProgress {
  /** 0..MAX_FRACTION while within the usual time; null when it cannot be told (unknown or overdue). */
  fraction: number | null
  /** Past the usual duration. */
  overdue: boolean
  /** "1.2 s of about 3.0 s", "14 s · taking longer than usual", "2.3 s". */
  text: string
}

/** The bar never fills before the answer is in: the last stretch belongs to the result. */
export const MAX_FRACTION = 0.95

/** How far along a run is, honestly: elapsed time against what this server usually needs. */
export function runProgress(elapsedMs: number, expected: number | null): RunProgress {
  const elapsed = Math.max(0, elapsedMs) / 1000
  if (expected === null) return { fraction: null, overdue: false, text: formatSeconds(elapsed) }
  if (elapsed >= expected) {
    return { fraction: null, overdue: true, text: `${formatSeconds(elapsed)} · taking longer than usual` }
  }
  return {
    fraction: Math.min(elapsed / expected, MAX_FRACTION),
    overdue: false,
    text: `${formatSeconds(elapsed)} of about ${formatSeconds(expected)}`,
  }
}

// Errors ------------------------------------------------------------------------------------------

/** What a failed removal tells the person: busy (with when to retry), model missing, or the server's words. */
export function backgroundErrorMessage(error: ApiError): string {
  if (error.status === 429) {
    return error.retryAfter !== null
      ? `The server is busy, try again in ${Math.max(1, error.retryAfter)} s.`
      : 'The server is busy, try again in a moment.'
  }
  // A 503 without the API's envelope came from a proxy in front of it: its fallback text says so.
  if (error.status === 503 && error.code === 'service_unavailable') {
    // The service words it "background removal is unavailable: <reason>"; say it once, our way.
    const reason = error.message.replace(/^(model not available|background removal is unavailable):\s*/i, '')
    return `Model not available: ${reason}`
  }
  return error.message
}

// Versions ----------------------------------------------------------------------------------------

/** A cut-out: made by background removal, or touched up since by the brush. */
export function isBackgroundResult(version: VersionView): boolean {
  return version.operation === 'remove_background' || version.operation === 'brush'
}

/** The version the current one was made from: the newest kept one before it. */
export function previousVersion(image: ImageView): VersionView | null {
  const before = image.versions.filter((v) => v.number < image.current.number)
  return before.length ? before.reduce((a, b) => (b.number > a.number ? b : a)) : null
}

/** The content URL of another version of the same image (the API's `?version=N`). */
export function versionContentUrl(image: ImageView, number: number): string {
  const url = new URL(image.content_url, 'http://app.invalid')
  url.searchParams.set('version', String(number))
  url.searchParams.delete('download')
  return `${url.pathname}${url.search}`
}

/** "IMG_1234-mask.png" for "IMG_1234.webp". */
export function maskFilename(downloadName: string): string {
  const dot = downloadName.lastIndexOf('.')
  const base = dot > 0 ? downloadName.slice(0, dot) : downloadName
  return `${base || 'image'}-mask.png`
}

/** The history's name for a background-removal version, by what went behind the subject. */
export function backgroundLabel(params: Record<string, unknown>): string {
  const background = params.background
  const kind = typeof background === 'object' && background !== null ? (background as { kind?: unknown }).kind : null
  switch (kind) {
    case 'colour':
      return 'Background replaced with a colour'
    case 'blur':
      return 'Background blurred'
    case 'image':
      return 'Background replaced with an image'
    default:
      return 'Background removed'
  }
}
