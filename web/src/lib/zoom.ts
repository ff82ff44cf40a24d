/**
 * Zoom and pan of a picture shown "fitted" in a viewport, as pure functions.
 *
 * A view is the transform of the fitted picture: `scale` relative to the fitted size (1 = fit)
 * and the offset of the picture's centre from the viewport's centre, in CSS pixels. Points on
 * screen are likewise relative to the viewport's centre. Every function returns a view that is
 * already clamped: never smaller than fit (or 1:1, if that is smaller), never larger than `maxScale`, and never panned so far
 * that an edge of a picture bigger than the viewport comes inside it.
 *
 * 1:1 means one picture pixel per *device* pixel: that is where compression artefacts and
 * edges of a cut-out are judged, also on a phone with three device pixels per CSS pixel.
 */

export interface Size {
  width: number
  height: number
}

export interface Point {
  x: number
  y: number
}

export interface View {
  scale: number
  x: number
  y: number
}

/** What the clamping needs to know: the viewport, the picture at fit, and the zoom range. */
export interface Frame {
  port: Size
  fit: Size
  /** 1, or less for a picture smaller than the viewport (whose 1:1 view is smaller than fit). */
  minScale: number
  maxScale: number
}

export const FIT: View = Object.freeze({ scale: 1, x: 0, y: 0 })

/** Zoom steps of the keyboard (+/−): four steps double the size. */
export const KEY_STEP = 2 ** 0.25

/** The largest size of the picture's shape that fits inside `port`. */
export function fitInside(natural: Size, port: Size): Size {
  if (natural.width <= 0 || natural.height <= 0) return { width: 0, height: 0 }
  const scale = Math.min(port.width / natural.width, port.height / natural.height)
  return { width: natural.width * scale, height: natural.height * scale }
}

/** The scale at which one picture pixel is one device pixel. */
export function oneToOneScale(natural: Size, fit: Size, devicePixelRatio: number): number {
  if (fit.width <= 0 || devicePixelRatio <= 0) return 1
  return natural.width / (fit.width * devicePixelRatio)
}

/** The largest zoom offered: 8× fit, or twice the 1:1 view for very large pictures. */
export function maxScaleFor(natural: Size, fit: Size, devicePixelRatio: number): number {
  return Math.max(8, 2 * oneToOneScale(natural, fit, devicePixelRatio))
}

function clampScale(scale: number, frame: Frame): number {
  return Math.min(frame.maxScale, Math.max(frame.minScale, scale))
}

function clampAxis(offset: number, content: number, port: number): number {
  const slack = Math.max(0, (content - port) / 2)
  // `|| 0` turns -0 into 0: a centred picture reads the same however it got there.
  return Math.min(slack, Math.max(-slack, offset)) || 0
}

/** The nearest allowed view. */
export function clampView(view: View, frame: Frame): View {
  const scale = clampScale(view.scale, frame)
  return {
    scale,
    x: clampAxis(view.x, frame.fit.width * scale, frame.port.width),
    y: clampAxis(view.y, frame.fit.height * scale, frame.port.height),
  }
}

/** Zooms to `scale` keeping the picture point under `anchor` where it is. */
export function zoomTo(view: View, scale: number, anchor: Point, frame: Frame): View {
  // Clamped first, so that a zoom stopped at a limit still keeps the anchor in place.
  const allowed = clampScale(scale, frame)
  const ratio = allowed / view.scale
  return clampView(
    {
      scale: allowed,
      x: anchor.x - ratio * (anchor.x - view.x),
      y: anchor.y - ratio * (anchor.y - view.y),
    },
    frame,
  )
}

/** Zooms by `factor` (2 = twice as large) about `anchor`. */
export function zoomBy(view: View, factor: number, anchor: Point, frame: Frame): View {
  return zoomTo(view, view.scale * factor, anchor, frame)
}

/** Moves the picture by (dx, dy) screen pixels. */
export function panBy(view: View, dx: number, dy: number, frame: Frame): View {
  return clampView({ ...view, x: view.x + dx, y: view.y + dy }, frame)
}

/** The zoom factor of one wheel event: a notch of a mouse wheel (~100 px) is about ×1.2. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY
  return Math.exp(-pixels * 0.0018)
}

function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y)
}

function midpoint(a: Point, b: Point): Point {
  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }
}

/**
 * Two fingers that started at `from` with the picture at `start` and are now at `to`: the
 * picture scales with the distance between them, and the point that was under their midpoint
 * follows the midpoint (pinch and two-finger pan in one).
 */
export function pinch(start: View, from: readonly [Point, Point], to: readonly [Point, Point], frame: Frame): View {
  const before = distance(from[0], from[1])
  const scale = clampScale(before > 0 ? start.scale * (distance(to[0], to[1]) / before) : start.scale, frame)
  const a = midpoint(from[0], from[1])
  const b = midpoint(to[0], to[1])
  // The picture point under the starting midpoint, in fitted-picture coordinates.
  const px = (a.x - start.x) / start.scale
  const py = (a.y - start.y) / start.scale
  return clampView({ scale, x: b.x - scale * px, y: b.y - scale * py }, frame)
}

/** The zoom as people read it: percent of the 1:1 view ("100 %" is actual pixels). */
export function percentOfActual(view: View, oneToOne: number): number {
  return oneToOne > 0 ? Math.round((view.scale / oneToOne) * 100) : 100
}
