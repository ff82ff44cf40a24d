import { describe, expect, it } from 'vitest'
import type { CompressionOutcome, Preset } from '../api/types'
import { compressionSummary, settingsSummary, targetKbOf } from './compression'

const email: Preset = {
  id: 'email',
  name: 'Email',
  settings: { max_width: 800, max_height: 800, quality: 85, target_kb: 500, format: 'jpeg', keep_aspect: true },
  system: true,
  overridden: false,
}

const outcome = (extra: Partial<CompressionOutcome> = {}): CompressionOutcome => ({
  target_met: true,
  quality: 78,
  width: 800,
  height: 600,
  bytes: 482 * 1024,
  format: 'jpeg',
  fitted_width: 800,
  fitted_height: 600,
  jpeg_quality: 78,
  shrunk_for_target: false,
  low_quality_for_target: false,
  ...extra,
})

describe('settingsSummary', () => {
  it('reads like the preset list in the brief', () => {
    expect(settingsSummary(email.settings)).toBe('800×800 · ≤500 KB · JPEG')
    expect(settingsSummary({ ...email.settings, max_height: null, target_kb: null, format: 'auto' })).toBe(
      '≤800 px wide · q85 · best format',
    )
  })
})

describe('targetKbOf', () => {
  it('finds the target in custom settings or in the preset used', () => {
    expect(targetKbOf({ settings: { target_kb: 300 } }, [])).toBe(300)
    expect(targetKbOf({ preset: 'email' }, [email])).toBe(500)
    expect(targetKbOf({ preset: 'unknown' }, [email])).toBeNull()
    expect(targetKbOf({}, [email])).toBeNull()
  })
})

describe('compressionSummary', () => {
  it('says the target was met', () => {
    expect(compressionSummary(outcome(), 500)).toEqual({
      text: '482 KB · 800×600 · JPEG q78',
      verdict: 'target met',
      met: true,
      compromises: [],
    })
  })

  it('has no verdict without a target, and no quality for lossless output', () => {
    expect(compressionSummary(outcome({ quality: null, format: 'png' }), null)).toEqual({
      text: '482 KB · 800×600 · PNG',
      verdict: null,
      met: true,
      compromises: [],
    })
  })

  it('explains a missed target', () => {
    const summary = compressionSummary(outcome({ target_met: false, quality: 10, bytes: 612 * 1024 }), 500)
    expect(summary.met).toBe(false)
    expect(summary.text).toBe('612 KB · 800×600 · JPEG q10')
    expect(summary.verdict).toContain('the 500 KB target')
  })

  it('says what a met target cost: the shrink from the box, and a quality below 60', () => {
    const tiny = outcome({ width: 238, height: 178, fitted_width: 1280, fitted_height: 960, bytes: 3000, quality: 30, jpeg_quality: 30, shrunk_for_target: true, low_quality_for_target: true })
    const summary = compressionSummary(tiny, 3)
    expect(summary.verdict).toBe('target met')
    expect(summary.compromises).toEqual([
      'To reach 3 KB the photo was shrunk to 238×178 (the box allowed 1280×960).',
      'To reach 3 KB the quality went down to 30: compression artefacts may show.',
    ])
  })

  it('gives AVIF quality on the JPEG scale', () => {
    const avif = outcome({ format: 'avif', quality: 40, jpeg_quality: 55, low_quality_for_target: true })
    expect(compressionSummary(avif, 100).compromises).toEqual([
      'To reach 100 KB the quality went down to 55 on the JPEG scale: compression artefacts may show.',
    ])
  })
})
