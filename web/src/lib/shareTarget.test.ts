import { describe, expect, it } from 'vitest'
import { landingProblem, landingUrl, planShare, readShareLanding, shareSummary, type ShareRecord } from './shareTarget'

const limits = { max_images: 5, max_upload_mb: 1, expiry_days: 7 }
const MIB = 1024 * 1024
const file = (name: string, size = 1000) => ({ name, size })
const record = (overrides: Partial<ShareRecord>): ShareRecord => ({ shared: 0, room: 5, kept: 0, refused: [], at: 0, ...overrides })

describe('planShare', () => {
  it('keeps the first files that fit and refuses the rest as the upload queue would', () => {
    const files = Array.from({ length: 7 }, (_, n) => file(`IMG_${n}.jpg`))
    const plan = planShare(files, limits, 3)
    expect(plan.keep).toEqual([0, 1])
    expect(plan.room).toBe(2)
    expect(plan.refused.map((r) => r.name)).toEqual(['IMG_2.jpg', 'IMG_3.jpg', 'IMG_4.jpg', 'IMG_5.jpg', 'IMG_6.jpg'])
    expect(plan.refused[0]!.message).toMatch(/^This session already holds 5 images/)
  })

  it('refuses a file over the size cap without letting it take a place', () => {
    const plan = planShare([file('huge.jpg', MIB + 1), file('a.jpg'), file('b.jpg')], limits, 4)
    expect(plan.keep).toEqual([1])
    expect(plan.refused.map((r) => r.message)).toEqual([
      'huge.jpg is larger than the 1 MiB limit.',
      expect.stringMatching(/^This session already holds/),
    ])
  })

  it('keeps nothing of 50 files for a full session, and at most the room of an empty one', () => {
    const files = Array.from({ length: 50 }, (_, n) => file(`${n}.jpg`))
    expect(planShare(files, limits, 5).keep).toEqual([])
    expect(planShare(files, limits, 0).keep).toEqual([0, 1, 2, 3, 4])
    expect(planShare(files, limits, 9).room).toBe(0)
  })
})

describe('shareSummary', () => {
  const full = (name: string) => ({ name, size: 1, message: planShare([file(name)], limits, 5).refused[0]!.message })

  it('says clearly when a share is trimmed to the room left', () => {
    const summary = shareSummary(record({ shared: 7, room: 2, kept: 2, refused: ['c', 'd', 'e', 'f', 'g'].map(full) }), limits)
    expect(summary).toEqual({
      message: 'You shared 7 photos, but this session has room for 2 more: the first 2 are being added.',
      error: true,
    })
  })

  it('says when the session is full, when nothing arrived, and when all is well', () => {
    expect(shareSummary(record({ shared: 3, room: 0, refused: ['a', 'b', 'c'].map(full) }), limits).message).toMatch(
      /^This session is full \(5 images\)/,
    )
    expect(shareSummary(record({ shared: 0 }), limits)).toEqual({
      message: 'Nothing arrived with that share: no photos to add.',
      error: true,
    })
    expect(shareSummary(record({ shared: 2, kept: 2 }), limits)).toEqual({ message: 'Adding 2 shared photos.', error: false })
    const tooBig = { name: 'huge.jpg', size: MIB + 1, message: 'huge.jpg is larger than the 1 MiB limit.' }
    expect(shareSummary(record({ shared: 1, refused: [tooBig] }), limits).message).toBe('None of the 1 shared file could be added.')
  })
})

describe('readShareLanding', () => {
  it('reads a stored share and the ways a share can fail, dropping only its parameter', () => {
    const id = '0b6d7a56-3f7e-4d0a-9a53-2f8f7f7c1e11'
    expect(readShareLanding(`https://photos.example/?share=${id}&x=1#top`)).toEqual({
      landing: { kind: 'stored', id },
      url: '/?x=1#top',
    })
    expect(readShareLanding('https://photos.example/?share=again')?.landing).toEqual({ kind: 'again' })
    expect(readShareLanding('https://photos.example/?share=<script>')).toEqual({ landing: null, url: '/' })
    expect(readShareLanding('https://photos.example/?other=1')).toBeNull()
  })

  it('round-trips the worker’s landing addresses and words each failure', () => {
    for (const kind of ['again', 'unreachable', 'unreadable'] as const) {
      expect(readShareLanding(`https://x.example${landingUrl({ kind })}`)?.landing).toEqual({ kind })
      expect(landingProblem({ kind })).toBeTruthy()
    }
    expect(landingProblem({ kind: 'again' })).toContain('Open ImageTools once more and share them again')
  })
})
