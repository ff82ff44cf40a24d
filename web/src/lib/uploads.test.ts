import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { isRetryable, refuseBeforeUpload, uploadErrorMessage } from './uploads'

const limits = { max_images: 5, max_upload_mb: 20, expiry_days: 7 }
const file = (name: string, size: number) => {
  const f = new File(['x'], name)
  Object.defineProperty(f, 'size', { value: size })
  return f
}

describe('refuseBeforeUpload', () => {
  it('refuses files over the limit in MiB, with the server wording', () => {
    expect(refuseBeforeUpload(file('big.jpg', 20 * 1024 * 1024 + 1), limits, 5)).toBe('big.jpg is larger than the 20 MiB limit.')
    expect(refuseBeforeUpload(file('ok.jpg', 20 * 1024 * 1024), limits, 5)).toBeNull()
  })

  it('refuses a file that cannot fit in the session', () => {
    expect(refuseBeforeUpload(file('a.jpg', 10), limits, 0)).toMatch(/^This session already holds 5 images/)
  })
})

describe('uploadErrorMessage', () => {
  it("keeps the server's own message", () => {
    const error = new ApiError({ code: 'unsupported_media_type', message: 'notes.txt is not an accepted image type', status: 415 })
    expect(uploadErrorMessage(error, 'notes.txt', limits)).toBe('notes.txt is not an accepted image type')
  })

  it("words a proxy's bare 413 like the server would", () => {
    const error = new ApiError({ code: 'http_413', message: 'That is too large for the server to accept.', status: 413 })
    expect(uploadErrorMessage(error, 'big.jpg', limits)).toBe('big.jpg is larger than the 20 MiB limit.')
  })

  it('says when the connection dropped', () => {
    const error = new ApiError({ code: 'network_error', message: "Can't reach", status: 0 })
    expect(uploadErrorMessage(error, 'a.jpg', limits)).toMatch(/interrupted/)
  })
})

describe('isRetryable', () => {
  it('retries network trouble and server hiccups, not refusals', () => {
    const status = (s: number) => new ApiError({ code: 'x', message: 'x', status: s })
    expect(isRetryable(status(0))).toBe(true)
    expect(isRetryable(status(503))).toBe(true)
    expect(isRetryable(status(429))).toBe(true)
    expect(isRetryable(status(413))).toBe(false)
    expect(isRetryable(status(409))).toBe(false)
    expect(isRetryable(status(422))).toBe(false)
  })
})
