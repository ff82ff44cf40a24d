import { describe, expect, it, vi } from 'vitest'
import type { BatchEvent, BatchesApi, BatchRequest } from '../api/batches'
import { ApiError } from '../api/client'
import type { ImageView } from '../api/types'
import { imageFixture } from '../test/fixtures'
import { useBatch } from './useBatch'

const images = [imageFixture('a', {}, { filename: 'a.jpg' }), imageFixture('b', {}, { filename: 'b.jpg' })]
const RESIZE = { type: 'resize', width: 10, height: 10, keep_aspect: true, allow_upscale: false } as const

/** A batch server that sends `events`, then waits for `release` (or the abort) before it ends. */
function fakeServer(events: BatchEvent[], release: Promise<void> = Promise.resolve()) {
  const requests: BatchRequest[] = []
  const api: BatchesApi = {
    async *run(request, signal) {
      requests.push(request)
      for (const event of events) yield event
      await Promise.race([
        release,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new DOMException('', 'AbortError')))),
      ])
    },
  }
  return { api, requests }
}

const started = (id: string): BatchEvent => ({ type: 'progress', image_id: id, position: 0, state: 'started', image: null, error: null })

describe('useBatch', () => {
  it('hands each finished photo over as it arrives and ends with the summary', async () => {
    const changed: ImageView = imageFixture('a', { number: 2 }, { filename: 'a.jpg' })
    const { api, requests } = fakeServer([
      started('a'),
      { type: 'progress', image_id: 'a', position: 0, state: 'done', image: changed, error: null },
      { type: 'progress', image_id: 'b', position: 1, state: 'failed', image: null, error: { code: 'deleted', message: 'gone' } },
      { type: 'done', batch_id: 'x', done: ['a'], failed: [{ image_id: 'b', code: 'deleted', message: 'gone' }] },
    ])
    const onResult = vi.fn()
    const onEnded = vi.fn()
    const batch = useBatch({ onResult, onEnded }, api)
    await batch.run(images, RESIZE)
    expect(requests[0]).toMatchObject({ image_ids: ['a', 'b'], operation: RESIZE })
    expect(onResult).toHaveBeenCalledWith(changed)
    expect(batch.outcome.value).toBe('complete')
    expect(batch.doneIds.value).toEqual(['a'])
    expect(batch.rows.value.map((row) => [row.state, row.reason])).toEqual([
      ['done', null],
      ['failed', 'Deleted while the batch ran'],
    ])
    expect(onEnded).toHaveBeenCalledOnce()
  })

  it('cancel aborts the stream: the photo in flight and the rest are marked unchanged', async () => {
    const { api } = fakeServer([started('a')], new Promise(() => {}))
    const batch = useBatch({ onResult: vi.fn(), onEnded: vi.fn() }, api)
    const running = batch.run(images, RESIZE)
    await vi.waitFor(() => expect(batch.rows.value[0]?.state).toBe('running'))
    batch.cancel()
    await running
    expect(batch.outcome.value).toBe('cancelled')
    expect(batch.problem.value).toBeNull()
    expect(batch.rows.value.map((row) => row.state)).toEqual(['not_started', 'not_started'])
  })

  it('a refused batch says why and changes nothing', async () => {
    const api: BatchesApi = {
      async *run() {
        throw new ApiError({ code: 'not_found', message: 'no such image in this session: b', status: 404 })
      },
    }
    const batch = useBatch({ onResult: vi.fn(), onEnded: vi.fn() }, api)
    await batch.run(images, RESIZE)
    expect(batch.outcome.value).toBe('stopped')
    expect(batch.problem.value).toBe('no such image in this session: b')
    expect(batch.rows.value.map((row) => row.state)).toEqual(['not_started', 'not_started'])
  })
})
