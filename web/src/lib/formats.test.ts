import { describe, expect, it } from 'vitest'
import { acceptedFormatsLine } from './formats'

describe('acceptedFormatsLine', () => {
  it('lists the formats and the limits', () => {
    expect(acceptedFormatsLine({ max_images: 5, max_upload_mb: 20, expiry_days: 7 })).toBe(
      'JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF, BMP — up to 20 MB each, 5 images per session',
    )
  })

  it('follows the server configuration', () => {
    expect(acceptedFormatsLine({ max_images: 1, max_upload_mb: 50, expiry_days: 1 })).toBe(
      'JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF, BMP — up to 50 MB each, 1 image per session',
    )
  })
})
