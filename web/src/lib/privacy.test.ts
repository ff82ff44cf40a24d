import { describe, expect, it } from 'vitest'
import { imageFixture } from '../test/fixtures'
import { archiveLocationNotice } from './privacy'

describe('archiveLocationNotice', () => {
  const plain = imageFixture('a')
  const located = imageFixture('b', { number: 2, has_location: true })
  const alsoLocated = imageFixture('c', { has_location: true })
  const originalOnly = imageFixture('d', {}, { original_has_location: true })

  it('says nothing when no selected current version holds a location', () => {
    expect(archiveLocationNotice([plain, located, originalOnly], new Set(['a', 'd']))).toBeNull()
  })

  it('counts the selected files that hold one', () => {
    const images = [plain, located, alsoLocated]
    expect(archiveLocationNotice(images, new Set(['a', 'b']))).toBe(
      '1 file in this ZIP holds the location where it was taken.',
    )
    expect(archiveLocationNotice(images, new Set(['a', 'b', 'c']))).toMatch(/^2 files in this ZIP hold/)
  })
})
