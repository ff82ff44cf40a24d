import { describe, expect, it } from 'vitest'
import { expiryChoices, linkSummary, shareUrl } from './shareLinks'

const NOW = new Date('2026-12-05T12:00:00Z')
const inHours = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000).toISOString()

describe('expiryChoices', () => {
  it('offers 1 hour, 1 day and 7 days while the session outlives them', () => {
    expect(expiryChoices(inHours(24 * 7 + 1), NOW).map((c) => [c.hours, c.label])).toEqual([
      [1, '1 hour'],
      [24, '1 day'],
      [168, '7 days'],
    ])
  })

  it('caps the choices at the session end, as one "until the session ends" choice', () => {
    const choices = expiryChoices(inHours(30), NOW)
    expect(choices.map((c) => [c.hours, c.label, c.untilSessionEnds])).toEqual([
      [1, '1 hour', false],
      [24, '1 day', false],
      [168, 'Until the session ends', true],
    ])
    expect(expiryChoices(inHours(0.5), NOW)).toEqual([{ hours: 1, label: 'Until the session ends', untilSessionEnds: true }])
  })

  it('offers everything before a session exists', () => {
    expect(expiryChoices(null, NOW)).toHaveLength(3)
  })
})

describe('share links', () => {
  it('builds the full address on this origin', () => {
    expect(shareUrl('/s/abc', 'https://photos.example')).toBe('https://photos.example/s/abc')
  })

  it('summarises a link by version and time left', () => {
    expect(linkSummary(3, inHours(0.25), NOW)).toBe('Version 3 · 15 minutes left')
    expect(linkSummary(3, inHours(0.999), NOW)).toBe('Version 3 · 1 hour left')
    expect(linkSummary(1, inHours(23.6), NOW)).toBe('Version 1 · 24 hours left')
    expect(linkSummary(2, inHours(24 * 6.9), NOW)).toBe('Version 2 · 7 days left')
  })
})
