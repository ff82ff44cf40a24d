import { describe, expect, it } from 'vitest'
import { sizeChange } from './sizeChange'

describe('sizeChange', () => {
  it('marks a saving with a down arrow and a minus sign', () => {
    expect(sizeChange(482_113, 2_306_867)).toEqual({
      direction: 'smaller',
      text: '\u25bc \u221279 %',
      description: '79 % smaller than the original (2.2 MB)',
    })
  })

  it('marks a growth with an up arrow and a plus sign, never as a saving', () => {
    const change = sizeChange(10_020_000, 1_000_000, 'version 2')
    expect(change?.direction).toBe('larger')
    expect(change?.text).toBe('\u25b2 +902 %')
    expect(change?.description).toBe('902 % larger than version 2 (977 KB)')
  })

  it('says nothing when the change rounds to 0 % or there is no reference', () => {
    expect(sizeChange(1_004, 1_000)).toBeNull()
    expect(sizeChange(500, 0)).toBeNull()
    expect(sizeChange(Number.NaN, 1_000)).toBeNull()
  })
})
