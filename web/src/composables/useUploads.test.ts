import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { ApiError, type UploadOptions } from '../api/client'
import type { ImageView, UploadResult } from '../api/types'
import { useUploads, type UploadFn } from './useUploads'

const limits = { max_images: 5, max_upload_mb: 20, expiry_days: 7 }
const photo = (name: string, size = 1_000) => {
  const file = new File(['x'], name, { type: 'image/jpeg' })
  Object.defineProperty(file, 'size', { value: size })
  return file
}
const imageNamed = (name: string) => ({ id: `id-${name}`, filename: name }) as ImageView

/** An upload function whose calls wait until the test settles them, one by one. */
function controlledUpload() {
  const calls: { file: File; options: UploadOptions; resolve: (r: UploadResult) => void; reject: (e: unknown) => void }[] = []
  const upload = vi.fn<UploadFn>(
    (file, options) =>
      new Promise<UploadResult>((resolve, reject) => {
        calls.push({ file, options, resolve, reject })
        options.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      }),
  )
  return { upload, calls }
}

const flush = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve()
  await nextTick()
}

describe('useUploads', () => {
  let scope: ReturnType<typeof effectScope>
  let uploaded: ImageView[]
  let count: number
  beforeEach(() => {
    scope = effectScope()
    uploaded = []
    count = 0
  })
  afterEach(() => scope.stop())

  function setup(upload: UploadFn, max = limits) {
    return scope.run(() =>
      useUploads({
        upload,
        limits: () => max,
        imageCount: () => count,
        onUploaded: (images) => {
          uploaded.push(...images)
          count += images.length
        },
      }),
    )!
  }

  it('shows files refused before the queue (a trimmed share) as error rows that take no place', async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload)
    state.refuse([{ name: 'huge.jpg', size: 30_000_000, message: 'huge.jpg is larger than the 20 MiB limit.' }])
    state.add([photo('a.jpg'), photo('b.jpg')])
    await flush()
    expect(state.rows.value.map((row) => [row.name, row.state, row.error])).toEqual([
      ['huge.jpg', 'error', 'huge.jpg is larger than the 20 MiB limit.'],
      ['a.jpg', 'uploading', null],
      ['b.jpg', 'uploading', null],
    ])
    expect(calls).toHaveLength(2)
    state.dismissAllErrors()
    expect(state.rows.value.map((row) => row.name)).toEqual(['a.jpg', 'b.jpg'])
  })

  it('runs at most three uploads at once, and starts the next as one finishes', async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload, { ...limits, max_images: 10 })
    state.add(['a', 'b', 'c', 'd', 'e'].map((n) => photo(`${n}.jpg`)))
    await flush()

    expect(upload).toHaveBeenCalledTimes(3)
    expect(state.rows.value.map((r) => r.state)).toEqual(['uploading', 'uploading', 'uploading', 'queued', 'queued'])

    calls[1]!.resolve({ images: [imageNamed('b.jpg')], errors: [] })
    await flush()
    expect(upload).toHaveBeenCalledTimes(4)
    expect(calls[3]!.file.name).toBe('d.jpg')
    expect(state.rows.value.map((r) => r.name)).toEqual(['a.jpg', 'c.jpg', 'd.jpg', 'e.jpg'])

    calls[0]!.reject(new ApiError({ code: 'internal', message: 'boom', status: 500 }))
    await flush()
    expect(upload).toHaveBeenCalledTimes(5)
    // Never more than three in flight.
    expect(state.rows.value.filter((r) => r.state === 'uploading').length).toBe(3)
  })

  it('sends one file alone while there is no session, so that only one session starts', async () => {
    const { upload, calls } = controlledUpload()
    const state = scope.run(() =>
      useUploads({
        upload,
        limits: () => limits,
        imageCount: () => count,
        onUploaded: (images) => (count += images.length),
        hasSession: () => count > 0,
      }),
    )!
    state.add(['a', 'b', 'c', 'd'].map((n) => photo(`${n}.jpg`)))
    await flush()
    expect(upload).toHaveBeenCalledTimes(1)

    calls[0]!.resolve({ images: [imageNamed('a.jpg')], errors: [] })
    await flush()
    // The session exists now (the response set its cookie): the rest go together.
    expect(upload).toHaveBeenCalledTimes(4)
  })

  it('reports progress, then processing once the bytes are sent, then hands over the image', async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload)
    state.add([photo('IMG_1.jpg')])
    await flush()
    const row = () => state.rows.value[0]!

    calls[0]!.options.onProgress?.(420, 1000)
    expect(row().state).toBe('uploading')
    expect(row().percent).toBe(42)

    calls[0]!.options.onSent?.()
    expect(row().state).toBe('processing')

    calls[0]!.resolve({ images: [imageNamed('IMG_1.jpg')], errors: [] })
    await flush()
    expect(state.rows.value).toEqual([])
    expect(uploaded.map((i) => i.filename)).toEqual(['IMG_1.jpg'])
  })

  it("keeps a failed upload as an error row with the server's message, until dismissed", async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload)
    state.add([photo('bad.jpg')])
    await flush()
    calls[0]!.reject(new ApiError({ code: 'invalid_image', message: 'bad.jpg is damaged', status: 422 }))
    await flush()

    expect(state.rows.value[0]).toMatchObject({ state: 'error', error: 'bad.jpg is damaged', retryable: false })
    state.dismiss(state.rows.value[0]!.id)
    expect(state.rows.value).toEqual([])
  })

  it('shows a refusal the server returned inside a 201', async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload)
    state.add([photo('x.gif')])
    await flush()
    calls[0]!.resolve({ images: [], errors: [{ filename: 'x.gif', code: 'unsupported_media_type', message: 'not an image' }] })
    await flush()
    expect(state.rows.value[0]).toMatchObject({ state: 'error', error: 'not an image' })
  })

  it('refuses oversized files and files beyond the session limit without uploading them', async () => {
    const { upload } = controlledUpload()
    count = 3
    const state = setup(upload)
    state.add([photo('huge.jpg', 21 * 1024 * 1024), photo('a.jpg'), photo('b.jpg'), photo('c.jpg')])
    await flush()

    expect(upload.mock.calls.map(([file]) => file.name)).toEqual(['a.jpg', 'b.jpg'])
    const errors = state.rows.value.filter((r) => r.state === 'error')
    expect(errors.map((r) => [r.name, r.error])).toEqual([
      ['huge.jpg', 'huge.jpg is larger than the 20 MiB limit.'],
      ['c.jpg', 'This session already holds 5 images, the most it can keep. Delete some to add more.'],
    ])
  })

  it('offers a retry after a network failure, and the retry uploads the same file', async () => {
    const { upload, calls } = controlledUpload()
    const state = setup(upload)
    const file = photo('a.jpg')
    state.add([file])
    await flush()
    calls[0]!.reject(new ApiError({ code: 'network_error', message: 'offline', status: 0 }))
    await flush()
    const row = state.rows.value[0]!
    expect(row).toMatchObject({ state: 'error', retryable: true })

    state.retry(row.id)
    await flush()
    expect(upload).toHaveBeenCalledTimes(2)
    expect(calls[1]!.file).toBe(file)
    expect(state.rows.value[0]!.state).toBe('uploading')
  })

  it('cancels a running upload and a queued one without showing errors', async () => {
    const { upload } = controlledUpload()
    const state = setup(upload, { ...limits, max_images: 10 })
    state.add(['a', 'b', 'c', 'd'].map((n) => photo(`${n}.jpg`)))
    await flush()
    const [first, , , queued] = state.rows.value
    state.cancel(queued!.id)
    state.cancel(first!.id)
    await flush()
    expect(state.rows.value.map((r) => r.name)).toEqual(['b.jpg', 'c.jpg'])
    expect(state.rows.value.every((r) => r.state === 'uploading')).toBe(true)
  })
})
