import { describe, expect, it } from 'vitest'
import type { ImageView, VersionView } from '../api/types'
import { versionLabel } from './history'
import { addPoint, BRUSH_LIMITS, brushUnavailable, fillColour, roomForStroke, toOperation, type Stroke } from './brush'

function version(number: number, operation: string, params: Record<string, unknown> = {}): VersionView {
  return { number, operation, params, format: 'webp', width: 400, height: 200, bytes: 1, created_at: '2026-12-05T00:00:00Z' } as VersionView
}

function image(current: VersionView, others: VersionView[] = [version(1, 'upload')]): ImageView {
  return { current, versions: [...others, current] } as unknown as ImageView
}

describe('brushUnavailable', () => {
  it('allows cut-outs and brushed versions whose source is kept', () => {
    const params = { source_version: 1, background: { kind: 'transparent' } }
    expect(brushUnavailable(image(version(2, 'remove_background', params)))).toBeNull()
    expect(brushUnavailable(image(version(3, 'brush', params)))).toBeNull()
  })

  it('explains every other case', () => {
    expect(brushUnavailable(image(version(2, 'resize')))).toMatch(/remove the background first/)
    expect(brushUnavailable(image(version(2, 'remove_background', { background: { kind: 'transparent' } })))).toMatch(/before the brush existed/)
    const overImage = { source_version: 1, background: { kind: 'image', image_id: 'x' } }
    expect(brushUnavailable(image(version(2, 'remove_background', overImage)))).toMatch(/another image/)
    expect(brushUnavailable(image(version(3, 'brush', { source_version: 2 })))).toMatch(/no longer kept/)
  })
})

describe('strokes', () => {
  it('thins pointer events to a quarter radius and caps a stroke', () => {
    const stroke: Stroke = { mode: 'erase', radius: 8, points: [] }
    expect(addPoint(stroke, 10, 10)).toBe(true)
    expect(addPoint(stroke, 11, 10)).toBe(false)
    expect(addPoint(stroke, 12, 10)).toBe(true)
    stroke.points = Array.from({ length: BRUSH_LIMITS.pointsPerStroke }, (_, i) => [i * 10, 0] as [number, number])
    expect(addPoint(stroke, 1e6, 0)).toBe(false)
  })

  it('asks for a save before a stroke the server would refuse', () => {
    const one: Stroke = { mode: 'erase', radius: 4, points: [[1, 1]] }
    expect(roomForStroke(Array.from({ length: BRUSH_LIMITS.strokes - 1 }, () => one))).toBe(true)
    expect(roomForStroke(Array.from({ length: BRUSH_LIMITS.strokes }, () => one))).toBe(false)
  })

  it('sends paths normalised to the picture, the radius of its longer side', () => {
    const body = toOperation(version(4, 'brush'), [{ mode: 'restore', radius: 20, points: [[100, 50], [400, 200]] }])
    expect(body).toEqual({ type: 'brush', version: 4, strokes: [{ mode: 'restore', radius: 0.05, points: [[0.25, 0.25], [1, 1]] }] })
  })

  it('reads the fill colour of a cut-out', () => {
    expect(fillColour(version(2, 'remove_background', { background: { kind: 'colour', colour: '#00ff00' } }))).toBe('#00ff00')
    expect(fillColour(version(2, 'remove_background', { background: { kind: 'transparent' } }))).toBeNull()
  })
})

describe('history', () => {
  it('names a touch-up by its strokes', () => {
    expect(versionLabel(version(3, 'brush', { erased: 2, restored: 1 }))).toBe('Touched up: 2 erased, 1 restored')
    expect(versionLabel(version(3, 'brush', { erased: 0, restored: 4 }))).toBe('Touched up: 4 restored')
  })
})
