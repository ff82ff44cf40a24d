import { describe, expect, it } from 'vitest'
import { toastEdge } from './toastPlacement'

describe('toastEdge', () => {
  it('keeps toasts at the bottom when nothing was used or the control is in the upper half', () => {
    expect(toastEdge(null, 800)).toBe('bottom')
    expect(toastEdge({ top: 10, bottom: 50 }, 800)).toBe('bottom')
    expect(toastEdge({ top: 380, bottom: 410 }, 800)).toBe('bottom')
  })

  it('moves them to the top when the control used sits in the lower half', () => {
    expect(toastEdge({ top: 400, bottom: 440 }, 800)).toBe('top')
    expect(toastEdge({ top: 790, bottom: 834 }, 844)).toBe('top')
  })
})
