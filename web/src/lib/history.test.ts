import { describe, expect, it } from 'vitest'
import type { Preset, VersionView } from '../api/types'
import { formatClock, presetName, versionDetail, versionLabel } from './history'

function version(operation: string, params: Record<string, unknown> = {}, extra: Partial<VersionView> = {}): VersionView {
  return {
    number: 2,
    operation,
    params,
    format: 'jpeg',
    width: 800,
    height: 600,
    bytes: 482_113,
    created_at: '2026-11-25T20:01:00Z',
    compression: null,
    has_location: false,
    ...extra,
  }
}

const mine: Preset = {
  id: '7c1d',
  name: 'Newsletter',
  settings: { max_width: 1200, max_height: 1200, quality: 85, target_kb: 300, format: 'jpeg', keep_aspect: true },
  system: false,
  overridden: false,
}

describe('versionLabel', () => {
  it('names the original', () => {
    expect(versionLabel(version('upload'))).toBe('Original')
  })

  it('names compressions by their preset or profile', () => {
    expect(versionLabel(version('compress', { preset: 'email' }))).toBe('Compressed · Email')
    expect(versionLabel(version('compress', { preset: 'web_hq' }))).toBe('Compressed · Web HQ')
    expect(versionLabel(version('compress', { preset: '7c1d' }), [mine])).toBe('Compressed · Newsletter')
    expect(versionLabel(version('compress', { preset: 'gone' }))).toBe('Compressed · a deleted profile')
    expect(versionLabel(version('compress', { settings: { quality: 80 } }))).toBe('Compressed · custom settings')
  })

  it('uses the preset names the session sees, overrides included', () => {
    const renamed = { ...mine, id: 'email', name: 'Email (small)', system: true, overridden: true }
    expect(presetName({ preset: 'email' }, [renamed])).toBe('Email (small)')
  })

  it('describes rotations as people say them', () => {
    expect(versionLabel(version('rotate', { degrees: 90 }))).toBe('Rotated 90° right')
    expect(versionLabel(version('rotate', { degrees: 270 }))).toBe('Rotated 90° left')
    expect(versionLabel(version('rotate', { degrees: 180 }))).toBe('Rotated 180°')
  })

  it('describes the other operations with their key parameter', () => {
    expect(versionLabel(version('flip', { direction: 'horizontal' }))).toBe('Flipped horizontally')
    expect(versionLabel(version('flip', { direction: 'vertical' }))).toBe('Flipped vertically')
    expect(versionLabel(version('resize', { width: 800, height: null }))).toBe('Resized to 800 × 600')
    expect(versionLabel(version('resize', { percent: 50 }))).toBe('Resized to 50 %')
    expect(versionLabel(version('crop', { x: 0, y: 0, width: 800, height: 600 }))).toBe('Cropped to 800 × 600')
    expect(versionLabel(version('convert', { format: 'webp' }))).toBe('Converted to WebP')
    expect(versionLabel(version('strip_metadata', { what: 'gps' }))).toBe('Removed location')
    expect(versionLabel(version('strip_metadata', { what: 'all' }))).toBe('Removed all metadata')
  })

  it('falls back to a readable form of an operation it does not know', () => {
    expect(versionLabel(version('colour_grade'))).toBe('Colour grade')
  })

  it('quotes the instruction of an AI edit, shortened to one line', () => {
    expect(versionLabel(version('ai_edit', { model: 'google/gemini-2.5-flash-image', instruction: 'make the sky blue' }))).toBe(
      'AI edit: make the sky blue',
    )
    const long = versionLabel(version('ai_edit', { instruction: `remove   the\ncar ${'x'.repeat(200)}` }))
    expect(long.startsWith('AI edit: remove the car x')).toBe(true)
    expect(long.endsWith('…')).toBe(true)
    expect(long.length).toBe('AI edit: '.length + 80)
    expect(versionLabel(version('ai_edit'))).toBe('AI edit')
  })
})

describe('versionDetail', () => {
  it('shows format, quality, size', () => {
    const compressed = version('compress', { preset: 'email' }, {
      compression: {
        target_met: true,
        quality: 78,
        width: 800,
        height: 600,
        bytes: 482_113,
        format: 'jpeg',
        fitted_width: 800,
        fitted_height: 600,
        jpeg_quality: 78,
        shrunk_for_target: false,
        low_quality_for_target: false,
      },
    })
    expect(versionDetail(compressed)).toBe('JPEG q78 · 800 × 600 · 471 KB')
    expect(versionDetail(version('upload', {}, { format: 'heif', width: 4032, height: 3024, bytes: 2_345_678 }))).toBe(
      'HEIC · 4032 × 3024 · 2.2 MB',
    )
  })
})

describe('formatClock', () => {
  it('returns a time, and nothing for a malformed one', () => {
    expect(formatClock('2026-11-25T20:01:00Z')).toMatch(/\d{1,2}:\d{2}/)
    expect(formatClock('yesterday')).toBe('')
  })
})
