import { describe, expect, it } from 'vitest'
import {
  FIT,
  clampView,
  fitInside,
  maxScaleFor,
  oneToOneScale,
  panBy,
  percentOfActual,
  pinch,
  wheelFactor,
  zoomBy,
  zoomTo,
  type Frame,
  type Point,
  type View,
} from './zoom'

// A 4000×3000 photo fitted at 800×600 into an 800×700 viewport.
const frame: Frame = { port: { width: 800, height: 700 }, fit: { width: 800, height: 600 }, minScale: 1, maxScale: 10 }

/** Where the fitted-picture point `p` lands on screen under `view`. */
function onScreen(view: View, p: Point): Point {
  return { x: view.x + view.scale * p.x, y: view.y + view.scale * p.y }
}

describe('zoom maths', () => {
  it('1:1 is one picture pixel per device pixel', () => {
    expect(oneToOneScale({ width: 4000, height: 3000 }, { width: 800, height: 600 }, 1)).toBe(5)
    expect(oneToOneScale({ width: 4000, height: 3000 }, { width: 800, height: 600 }, 2)).toBe(2.5)
  })

  it('fits the shape of the picture inside the viewport', () => {
    expect(fitInside({ width: 4000, height: 3000 }, { width: 800, height: 700 })).toEqual({ width: 800, height: 600 })
    expect(fitInside({ width: 1000, height: 2000 }, { width: 800, height: 700 })).toEqual({ width: 350, height: 700 })
  })

  it('lets a picture smaller than the viewport go down to its 1:1 view', () => {
    const small: Frame = { ...frame, minScale: 0.5 }
    expect(zoomTo(FIT, 0.5, { x: 0, y: 0 }, small).scale).toBe(0.5)
    expect(zoomTo(FIT, 0.1, { x: 0, y: 0 }, small).scale).toBe(0.5)
  })

  it('offers at least 8× and at least twice the 1:1 view', () => {
    expect(maxScaleFor({ width: 1000, height: 750 }, { width: 800, height: 600 }, 1)).toBe(8)
    expect(maxScaleFor({ width: 8000, height: 6000 }, { width: 800, height: 600 }, 1)).toBe(20)
  })

  it('keeps the point under the cursor in place while zooming', () => {
    const anchor = { x: 200, y: -100 }
    const under = { x: 200, y: -100 } // at fit, screen and picture coordinates agree
    const zoomed = zoomBy(FIT, 3, anchor, frame)
    expect(zoomed.scale).toBe(3)
    expect(onScreen(zoomed, under)).toEqual(anchor)
    const again = zoomBy(zoomed, 1.5, anchor, frame)
    const p = onScreen(again, under)
    expect(p.x).toBeCloseTo(anchor.x)
    expect(p.y).toBeCloseTo(anchor.y)
  })

  it('never zooms out past fit nor in past the maximum, and fit is centred', () => {
    expect(zoomBy(FIT, 0.5, { x: 300, y: 200 }, frame)).toEqual(FIT)
    expect(zoomTo(FIT, 50, { x: 0, y: 0 }, frame).scale).toBe(10)
    const out = zoomTo({ scale: 4, x: 900, y: -500 }, 1, { x: 100, y: 100 }, frame)
    expect(out).toEqual(FIT)
  })

  it('stops panning where an edge of the picture would come inside the viewport', () => {
    const view = zoomTo(FIT, 2, { x: 0, y: 0 }, frame) // 1600×1200 in 800×700
    expect(panBy(view, 10_000, -10_000, frame)).toEqual({ scale: 2, x: 400, y: -250 })
    expect(panBy(view, 30, 40, frame)).toEqual({ scale: 2, x: 30, y: 40 })
  })

  it('keeps a picture narrower than the viewport centred on that axis', () => {
    const tall: Frame = { port: { width: 800, height: 700 }, fit: { width: 300, height: 700 }, minScale: 1, maxScale: 8 }
    expect(clampView({ scale: 2, x: 120, y: 90 }, tall)).toEqual({ scale: 2, x: 0, y: 90 })
  })

  it('pinches: spreading the fingers zooms about them, moving them pans', () => {
    const from: [Point, Point] = [
      { x: -50, y: 0 },
      { x: 50, y: 0 },
    ]
    const spread = pinch(FIT, from, [{ x: -150, y: 0 }, { x: 150, y: 0 }], frame)
    expect(spread).toEqual({ scale: 3, x: 0, y: 0 })
    const moved = pinch(spread, from, [{ x: 10, y: 20 }, { x: 110, y: 20 }], frame)
    expect(moved).toEqual({ scale: 3, x: 60, y: 20 })
    // The picture point under the fingers' midpoint follows it.
    const off: [Point, Point] = [
      { x: 100, y: 100 },
      { x: 200, y: 100 },
    ]
    const view = pinch(FIT, off, [{ x: 50, y: 100 }, { x: 250, y: 100 }], frame)
    expect(onScreen(view, { x: 150, y: 100 })).toEqual({ x: 150, y: 100 })
  })

  it('turns wheel notches, lines and pages into gentle zoom factors', () => {
    expect(wheelFactor(-100, 0)).toBeGreaterThan(1.15)
    expect(wheelFactor(-100, 0)).toBeLessThan(1.25)
    expect(wheelFactor(100, 0)).toBeCloseTo(1 / wheelFactor(-100, 0))
    expect(wheelFactor(3, 1)).toBeCloseTo(wheelFactor(48, 0))
    expect(wheelFactor(0, 0)).toBe(1)
  })

  it('reads the zoom as a percentage of actual pixels', () => {
    expect(percentOfActual(FIT, 5)).toBe(20)
    expect(percentOfActual({ scale: 5, x: 0, y: 0 }, 5)).toBe(100)
  })
})
