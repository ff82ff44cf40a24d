import { describe, expect, it } from 'vitest'
import { versionFixture } from '../test/fixtures'
import { cameBackDifferent } from './aiResult'

describe('cameBackDifferent', () => {
  it('says a smaller PNG came back, and offers the original size and format in one resize', () => {
    const result = versionFixture({ number: 2, operation: 'ai_edit', format: 'png', width: 1536, height: 1152 })
    expect(cameBackDifferent(result, versionFixture())).toEqual({
      text: 'Came back 1536×1152 PNG; the original was 4000×3000 JPEG.',
      target: '4000×3000 JPEG',
      restore: { type: 'resize', width: 4000, height: 3000, keep_aspect: true, allow_upscale: true, format: 'jpeg' },
    })
  })

  it('says nothing when the result has the original size and format', () => {
    expect(cameBackDifferent(versionFixture({ number: 2, operation: 'ai_edit' }), versionFixture())).toBeNull()
  })

  it('keeps the result format when the original is one nothing encodes (HEIC)', () => {
    const original = versionFixture({ format: 'heif' })
    const result = versionFixture({ number: 2, format: 'png', width: 1024, height: 768 })
    expect(cameBackDifferent(result, original)?.restore).toMatchObject({ format: null, width: 4000 })
  })
})
