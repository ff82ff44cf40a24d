import { describe, expect, it } from 'vitest'
import type { BatchStep, ImageView } from '../api/types'
import { applyStep, batchOperation, batchRows, endRows, newBatchId, type BatchForm } from './batch'

const FORM: BatchForm = { kind: 'resize', preset: 'web', maxWidth: 800, maxHeight: 600, format: 'webp', cutOutFormat: 'png' }
const images = [
  { id: 'a', filename: 'a.jpg' },
  { id: 'b', filename: 'b.jpg' },
  { id: 'c', filename: 'c.jpg' },
] as unknown as ImageView[]

function step(image_id: string, state: BatchStep['state'], error: BatchStep['error'] = null): BatchStep {
  return { image_id, position: 0, state, image: null, error }
}

describe('batchOperation', () => {
  it('fits a resize inside the box without enlarging', () => {
    expect(batchOperation(FORM).operation).toEqual({
      type: 'resize',
      width: 800,
      height: 600,
      keep_aspect: true,
      allow_upscale: false,
    })
  })

  it('names what is missing instead of sending a bad batch', () => {
    expect(batchOperation({ ...FORM, maxWidth: 0 }).problem).toMatch(/whole pixels/)
    expect(batchOperation({ ...FORM, kind: 'compress', preset: '' }).problem).toMatch(/preset/)
    expect(batchOperation({ ...FORM, kind: 'compress' }).operation).toEqual({ type: 'compress', preset: 'web' })
    expect(batchOperation({ ...FORM, kind: 'remove_background', cutOutFormat: 'webp' }).operation).toMatchObject({
      background: { kind: 'transparent' },
      format: 'webp',
    })
  })
})

describe('rows', () => {
  it('follow the progress, with the reason of a failure in words', () => {
    let rows = batchRows(images)
    rows = applyStep(rows, step('a', 'started'))
    expect(rows.map((r) => r.state)).toEqual(['running', 'waiting', 'waiting'])
    rows = applyStep(rows, step('a', 'done'))
    rows = applyStep(rows, step('b', 'failed', { code: 'deleted', message: 'the photo was deleted while the batch ran' }))
    expect(rows.map((r) => [r.state, r.reason])).toEqual([
      ['done', null],
      ['failed', 'Deleted while the batch ran'],
      ['waiting', null],
    ])
  })

  it('after a cancel: the photo in flight and the rest are marked unchanged, finished ones stay', () => {
    let rows = applyStep(applyStep(batchRows(images), step('a', 'done')), step('b', 'started'))
    rows = endRows(rows, true)
    expect(rows.map((r) => [r.state, r.reason])).toEqual([
      ['done', null],
      ['not_started', 'Cancelled: left as it was'],
      ['not_started', 'Not started'],
    ])
  })
})

it('makes version 4 UUIDs', () => {
  expect(newBatchId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  expect(newBatchId()).not.toBe(newBatchId())
})
