/**
 * Geometry of the crop rectangle. Everything is in pixels of the image being cropped (the
 * current version), so the rectangle stays right whatever size the preview is drawn at; the
 * overlay converts pointer movement with `displayToImage` and draws with percentages.
 */

export interface Size {
  width: number
  height: number
}

export interface Point {
  x: number
  y: number
}

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

/** Which edges a drag moves: the four corners and the four sides. */
export type Handle = 'n' | 's' | 'e' | 'w' | 'ne' | 'nw' | 'se' | 'sw'
export const HANDLES: readonly Handle[] = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w']

export type AspectChoice = 'free' | '1:1' | '4:3' | '16:9'
export const ASPECT_CHOICES: readonly { value: AspectChoice; label: string }[] = [
  { value: 'free', label: 'Free' },
  { value: '1:1', label: '1:1' },
  { value: '4:3', label: '4:3' },
  { value: '16:9', label: '16:9' },
]

/** Width ÷ height for a choice; `portrait` turns 4:3 into 3:4. Null means free. */
export function aspectRatio(choice: AspectChoice, portrait = false): number | null {
  const ratios: Record<AspectChoice, number | null> = { free: null, '1:1': 1, '4:3': 4 / 3, '16:9': 16 / 9 }
  const ratio = ratios[choice]
  if (ratio === null) return null
  return portrait ? 1 / ratio : ratio
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max)
}

/** The rectangle made as small as needed to fit inside the image, then moved inside it. */
export function clampRect(rect: Rect, bounds: Size): Rect {
  const width = clamp(rect.width, 0, bounds.width)
  const height = clamp(rect.height, 0, bounds.height)
  return {
    x: clamp(rect.x, 0, bounds.width - width),
    y: clamp(rect.y, 0, bounds.height - height),
    width,
    height,
  }
}

/** The largest rectangle of `aspect` (the whole image when free), scaled by `coverage`, centred. */
export function centredRect(bounds: Size, aspect: number | null, coverage = 1): Rect {
  let width = bounds.width
  let height = bounds.height
  if (aspect !== null) {
    if (width / height > aspect) width = height * aspect
    else height = width / aspect
  }
  width *= coverage
  height *= coverage
  return { x: (bounds.width - width) / 2, y: (bounds.height - height) / 2, width, height }
}

/** The rectangle reshaped to `aspect` around its centre, keeping about the same area. */
export function fitAspect(rect: Rect, aspect: number | null, bounds: Size): Rect {
  if (aspect === null) return clampRect(rect, bounds)
  const area = Math.max(rect.width * rect.height, 1)
  let width = Math.sqrt(area * aspect)
  let height = width / aspect
  const shrink = Math.min(1, bounds.width / width, bounds.height / height)
  width *= shrink
  height *= shrink
  const cx = rect.x + rect.width / 2
  const cy = rect.y + rect.height / 2
  return clampRect({ x: cx - width / 2, y: cy - height / 2, width, height }, bounds)
}

/** The rectangle moved by (dx, dy), stopping at the image's edges. */
export function moveRect(rect: Rect, dx: number, dy: number, bounds: Size): Rect {
  return clampRect({ ...rect, x: rect.x + dx, y: rect.y + dy }, bounds)
}

/**
 * A rectangle with one corner fixed at `anchor` and the opposite one towards `pointer`, kept
 * to `aspect` and inside the image. `minSize` is the smallest side (image pixels).
 */
function fromAnchor(anchor: Point, pointer: Point, aspect: number | null, bounds: Size, minSize: number, dirX: number, dirY: number): Rect {
  const maxW = dirX > 0 ? bounds.width - anchor.x : anchor.x
  const maxH = dirY > 0 ? bounds.height - anchor.y : anchor.y
  let width = clamp(dirX * (pointer.x - anchor.x), Math.min(minSize, maxW), maxW)
  let height = clamp(dirY * (pointer.y - anchor.y), Math.min(minSize, maxH), maxH)
  if (aspect !== null) {
    // Follow whichever side the pointer pulls further, then shrink to fit the room there is.
    if (width / height > aspect) height = width / aspect
    else width = height * aspect
    if (width > maxW) {
      width = maxW
      height = width / aspect
    }
    if (height > maxH) {
      height = maxH
      width = height * aspect
    }
  }
  return {
    x: dirX > 0 ? anchor.x : anchor.x - width,
    y: dirY > 0 ? anchor.y : anchor.y - height,
    width,
    height,
  }
}

/**
 * The rectangle after dragging `handle` by (dx, dy) from where it was at the start of the
 * drag. Corners keep the opposite corner still; sides keep the opposite side still and, with
 * an aspect, grow the other dimension evenly about the centre line.
 */
export function resizeRect(start: Rect, handle: Handle, dx: number, dy: number, aspect: number | null, bounds: Size, minSize = 1): Rect {
  const left = start.x
  const top = start.y
  const right = start.x + start.width
  const bottom = start.y + start.height
  const moveN = handle.includes('n')
  const moveS = handle.includes('s')
  const moveW = handle.includes('w')
  const moveE = handle.includes('e')

  if (aspect === null) {
    const x0 = moveW ? clamp(left + dx, 0, right - Math.min(minSize, right)) : left
    const x1 = moveE ? clamp(right + dx, left + Math.min(minSize, bounds.width - left), bounds.width) : right
    const y0 = moveN ? clamp(top + dy, 0, bottom - Math.min(minSize, bottom)) : top
    const y1 = moveS ? clamp(bottom + dy, top + Math.min(minSize, bounds.height - top), bounds.height) : bottom
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
  }

  if ((moveN || moveS) && (moveE || moveW)) {
    const dirX = moveE ? 1 : -1
    const dirY = moveS ? 1 : -1
    const anchor = { x: moveE ? left : right, y: moveS ? top : bottom }
    const pointer = { x: (moveE ? right : left) + dx, y: (moveS ? bottom : top) + dy }
    return fromAnchor(anchor, pointer, aspect, bounds, minSize, dirX, dirY)
  }

  if (moveE || moveW) {
    const dirX = moveE ? 1 : -1
    const anchorX = moveE ? left : right
    const cy = top + start.height / 2
    const maxW = dirX > 0 ? bounds.width - anchorX : anchorX
    const maxH = 2 * Math.min(cy, bounds.height - cy)
    let width = clamp(start.width + dirX * dx, Math.min(minSize, maxW), maxW)
    let height = width / aspect
    if (height > maxH) {
      height = maxH
      width = height * aspect
    }
    return { x: dirX > 0 ? anchorX : anchorX - width, y: cy - height / 2, width, height }
  }

  const dirY = moveS ? 1 : -1
  const anchorY = moveS ? top : bottom
  const cx = left + start.width / 2
  const maxH = dirY > 0 ? bounds.height - anchorY : anchorY
  const maxW = 2 * Math.min(cx, bounds.width - cx)
  let height = clamp(start.height + dirY * dy, Math.min(minSize, maxH), maxH)
  let width = height * aspect
  if (width > maxW) {
    width = maxW
    height = width / aspect
  }
  return { x: cx - width / 2, y: dirY > 0 ? anchorY : anchorY - height, width, height }
}

/** A new rectangle drawn by dragging from `start` to `end` (both image pixels). */
export function rectFromPoints(start: Point, end: Point, aspect: number | null, bounds: Size, minSize = 1): Rect {
  const anchor = { x: clamp(start.x, 0, bounds.width), y: clamp(start.y, 0, bounds.height) }
  const dirX = end.x >= anchor.x ? 1 : -1
  const dirY = end.y >= anchor.y ? 1 : -1
  return fromAnchor(anchor, end, aspect, bounds, minSize, dirX, dirY)
}

/** A point on the preview (CSS pixels from its top-left corner) in image pixels. */
export function displayToImage(point: Point, display: Size, image: Size): Point {
  if (!(display.width > 0) || !(display.height > 0)) return { x: 0, y: 0 }
  return {
    x: (point.x * image.width) / display.width,
    y: (point.y * image.height) / display.height,
  }
}

/** How many image pixels one CSS pixel of the preview covers (for minimum sizes and keys). */
export function imagePixelsPerDisplayPixel(display: Size, image: Size): number {
  if (!(display.width > 0)) return 1
  return image.width / display.width
}

/** Whole pixels for the server: at least 1×1, never past the image's edges. */
export function roundRect(rect: Rect, bounds: Size): Rect {
  const x = clamp(Math.round(rect.x), 0, Math.max(bounds.width - 1, 0))
  const y = clamp(Math.round(rect.y), 0, Math.max(bounds.height - 1, 0))
  const width = clamp(Math.round(rect.width), 1, bounds.width - x)
  const height = clamp(Math.round(rect.height), 1, bounds.height - y)
  return { x, y, width, height }
}

/** True when the rectangle is the whole image (cropping would change nothing). */
export function coversImage(rect: Rect, bounds: Size): boolean {
  const r = roundRect(rect, bounds)
  return r.x === 0 && r.y === 0 && r.width === bounds.width && r.height === bounds.height
}

/** The rectangle as percentages of the image, for absolutely positioned overlay boxes. */
export function toPercentBox(rect: Rect, bounds: Size): { left: string; top: string; width: string; height: string } {
  const pct = (value: number, total: number) => `${total > 0 ? (value / total) * 100 : 0}%`
  return {
    left: pct(rect.x, bounds.width),
    top: pct(rect.y, bounds.height),
    width: pct(rect.width, bounds.width),
    height: pct(rect.height, bounds.height),
  }
}
