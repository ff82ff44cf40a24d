import { describe, expect, it } from 'vitest'
import { formatBytes, formatDimensions, formatMegapixels, mebibytes, progressPercent } from './bytes'

describe('formatBytes', () => {
  it('uses bytes, then binary KB and MB', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(820)).toBe('820 B')
    expect(formatBytes(4300)).toBe('4.2 KB')
    expect(formatBytes(10 * 1024)).toBe('10 KB')
    expect(formatBytes(482_113)).toBe('471 KB')
    expect(formatBytes(500 * 1024)).toBe('500 KB')
    expect(formatBytes(5.3 * 1024 * 1024)).toBe('5.3 MB')
    expect(formatBytes(8 * 1024 * 1024)).toBe('8 MB')
    expect(formatBytes(250 * 1024 * 1024)).toBe('250 MB')
  })

  it('says 1 MB rather than 1024 KB', () => {
    expect(formatBytes(1024 * 1024 - 100)).toBe('1 MB')
  })

  it('shows a dash for nonsense', () => {
    expect(formatBytes(-1)).toBe('—')
    expect(formatBytes(Number.NaN)).toBe('—')
  })
})

describe('dimensions and progress', () => {
  it('formats dimensions with a multiplication sign', () => {
    expect(formatDimensions(4000, 3000)).toBe('4000 × 3000')
    expect(formatMegapixels(4032, 3024)).toBe('12.2 MP')
  })

  it('turns upload progress into a whole percentage within 0–100', () => {
    expect(progressPercent(0, 100)).toBe(0)
    expect(progressPercent(421, 1000)).toBe(42)
    expect(progressPercent(1000, 1000)).toBe(100)
    expect(progressPercent(5, 0)).toBe(0)
    expect(progressPercent(200, 100)).toBe(100)
  })

  it('measures the upload limit in MiB', () => {
    expect(mebibytes(20)).toBe(20_971_520)
  })
})
