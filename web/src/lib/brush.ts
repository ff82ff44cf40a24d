import type { BrushOperation, BrushStroke, ImageView, VersionView } from '../api/types'

/** The server's caps on one save (common contracts, BrushOp): the app asks to save before more. */
export const BRUSH_LIMITS = { strokes: 100, pointsPerStroke: 1000, points: 10_000 } as const

/** Brush sizes offered, as a radius in the picture's own pixels. */
export const SIZE_RANGE = { min: 2, max: 200 } as const

export type BrushMode = BrushStroke['mode']

/** What the brush re-composes from: the version whose pixels the cut-out's mask was cut from. */
export function sourceVersion(version: VersionView): number | null {
  const source = version.params.source_version
  return typeof source === 'number' && Number.isInteger(source) ? source : null
}

function backgroundKind(version: VersionView): string | null {
  const background = version.params.background
  return typeof background === 'object' && background !== null ? String((background as { kind?: unknown }).kind) : null
}

/** Why the current version cannot be brushed (the server's reasons, in the app's words), or null. */
export function brushUnavailable(image: ImageView): string | null {
  const version = image.current
  if (version.operation !== 'remove_background' && version.operation !== 'brush') {
    return 'The brush touches up a cut-out: remove the background first, then erase or restore parts of it.'
  }
  const source = sourceVersion(version)
  if (source === null) return 'This cut-out was made before the brush existed: remove the background again to touch it up.'
  if (!image.versions.some((v) => v.number === source)) return 'The photo this cut-out was made from is no longer kept.'
  if (backgroundKind(version) === 'image') {
    return 'This cut-out is set over another image, which may have changed since: remove the background again (transparent, a colour or a blur) to touch it up.'
  }
  return null
}

/** The fill colour behind the subject, or null when it shows the checkerboard (transparent) or a blur. */
export function fillColour(version: VersionView): string | null {
  const background = version.params.background as { kind?: unknown; colour?: unknown } | undefined
  return background?.kind === 'colour' && typeof background.colour === 'string' ? background.colour : null
}

/** The blur radius (in the source's pixels) behind the subject, or null. */
export function blurRadius(version: VersionView): number | null {
  const background = version.params.background as { kind?: unknown; radius?: unknown } | undefined
  return background?.kind === 'blur' && typeof background.radius === 'number' ? background.radius : null
}

/** A stroke being drawn, in picture pixels (the preview and the request are made from it). */
export interface Stroke {
  mode: BrushMode
  /** Radius in picture pixels. */
  radius: number
  points: [number, number][]
}

/**
 * Add a point to a stroke unless it is within a quarter radius of the last one: a pointer sends
 * far more events than a round brush needs, and the request stays small.
 */
export function addPoint(stroke: Stroke, x: number, y: number): boolean {
  const last = stroke.points.at(-1)
  if (last && Math.hypot(x - last[0], y - last[1]) < Math.max(1, stroke.radius / 4)) return false
  if (stroke.points.length >= BRUSH_LIMITS.pointsPerStroke) return false
  stroke.points.push([x, y])
  return true
}

export function pointCount(strokes: readonly Stroke[]): number {
  return strokes.reduce((sum, s) => sum + s.points.length, 0)
}

/** Whether another stroke fits in this save. */
export function roomForStroke(strokes: readonly Stroke[]): boolean {
  return strokes.length < BRUSH_LIMITS.strokes && pointCount(strokes) < BRUSH_LIMITS.points - BRUSH_LIMITS.pointsPerStroke
}

const round = (value: number): number => Math.round(Math.min(1, Math.max(0, value)) * 1e5) / 1e5

/** The request body: the strokes normalised to the picture (0..1, radius of the longer side). */
export function toOperation(version: VersionView, strokes: readonly Stroke[]): BrushOperation {
  const { width, height } = version
  const side = Math.max(width, height)
  return {
    type: 'brush',
    version: version.number,
    strokes: strokes.map((s) => ({
      mode: s.mode,
      radius: Math.min(0.5, Math.max(1e-5, s.radius / side)),
      points: s.points.map(([x, y]) => [round(x / width), round(y / height)] as [number, number]),
    })),
  }
}
