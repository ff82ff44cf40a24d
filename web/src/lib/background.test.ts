import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { imageFixture, versionFixture } from '../test/fixtures'
import {
  backgroundErrorMessage,
  DEFAULT_SETTINGS,
  defaultFormat,
  expectedSeconds,
  formatSeconds,
  formatsFor,
  maskFilename,
  MAX_FRACTION,
  outputSize,
  previousVersion,
  QUICK_OPERATION,
  runProgress,
  toOperation,
  validateSettings,
  versionContentUrl,
  type BackgroundSettings,
} from './background'
import { versionLabel } from './history'

const settings = (extra: Partial<BackgroundSettings> = {}): BackgroundSettings => ({ ...DEFAULT_SETTINGS, ...extra })
const SESSION = ['me', 'other']

describe('expected duration', () => {
  it('is base plus per-megapixel time for the current size', () => {
    const timing = { base_seconds: 0.9, per_megapixel_seconds: 0.12 }
    expect(expectedSeconds(timing, 4000, 3000)).toBeCloseTo(0.9 + 0.12 * 12)
    expect(expectedSeconds(timing, 1000, 1000)).toBeCloseTo(1.02)
  })

  it('is unknown without timing, or with timing that makes no sense', () => {
    expect(expectedSeconds(null, 4000, 3000)).toBeNull()
    expect(expectedSeconds({ base_seconds: Number.NaN, per_megapixel_seconds: 1 }, 10, 10)).toBeNull()
    expect(expectedSeconds({ base_seconds: -1, per_megapixel_seconds: 0.1 }, 10, 10)).toBeNull()
    expect(expectedSeconds({ base_seconds: 0, per_megapixel_seconds: 0 }, 10, 10)).toBeNull()
  })
})

describe('run progress', () => {
  it('moves with elapsed time against the expected time', () => {
    expect(runProgress(1000, 4)).toEqual({ fraction: 0.25, overdue: false, text: '1.0 s of about 4.0 s' })
    expect(runProgress(0, 4).fraction).toBe(0)
  })

  it('never claims to be done before the answer arrives', () => {
    const nearly = runProgress(3990, 4)
    expect(nearly.fraction).toBe(MAX_FRACTION)
    expect(nearly.overdue).toBe(false)
  })

  it('says so once it takes longer than usual, and stops pretending to know how far it is', () => {
    expect(runProgress(4000, 4)).toEqual({ fraction: null, overdue: true, text: '4.0 s · taking longer than usual' })
    expect(runProgress(75_000, 4).text).toBe('1 min 15 s · taking longer than usual')
  })

  it('shows elapsed time only when the server has no timing', () => {
    expect(runProgress(2345, null)).toEqual({ fraction: null, overdue: false, text: '2.3 s' })
  })

  it('formats seconds without overstating them', () => {
    expect(formatSeconds(0.99)).toBe('0.9 s')
    expect(formatSeconds(9.96)).toBe('9.9 s')
    expect(formatSeconds(12.7)).toBe('12 s')
    expect(formatSeconds(65)).toBe('1 min 05 s')
    expect(formatSeconds(-3)).toBe('0.0 s')
  })
})

describe('settings and operation', () => {
  it('by default asks for a transparent PNG from the server default model', () => {
    expect(validateSettings(settings(), 'me', SESSION)).toEqual({})
    expect(QUICK_OPERATION).toEqual({
      type: 'remove_background',
      model: null,
      alpha_matting: false,
      foreground_threshold: 240,
      background_threshold: 10,
      erode_size: 10,
      post_process_mask: false,
      background: { kind: 'transparent' },
      format: 'webp',
      max_edge: null,
    })
  })

  it('builds each kind of background as the API spells it', () => {
    expect(toOperation(settings({ kind: 'colour', colour: '#FFAA00', format: 'jpeg' }))).toMatchObject({
      background: { kind: 'colour', colour: '#ffaa00' },
      format: 'jpeg',
    })
    expect(toOperation(settings({ kind: 'blur', blurRadius: 35 })).background).toEqual({ kind: 'blur', radius: 35 })
    expect(toOperation(settings({ kind: 'image', imageId: 'other' })).background).toEqual({ kind: 'image', image_id: 'other' })
    expect(toOperation(settings({ model: 'u2net', postProcessMask: true }))).toMatchObject({ model: 'u2net', post_process_mask: true })
  })

  it('sends matting values only when matting is on', () => {
    const tuned = { foregroundThreshold: 200, backgroundThreshold: 30, erodeSize: 4 }
    expect(toOperation(settings({ ...tuned, alphaMatting: true }))).toMatchObject({
      alpha_matting: true,
      foreground_threshold: 200,
      background_threshold: 30,
      erode_size: 4,
    })
    expect(toOperation(settings({ ...tuned, alphaMatting: false }))).toMatchObject({
      alpha_matting: false,
      foreground_threshold: 240,
      background_threshold: 10,
      erode_size: 10,
    })
  })

  it('defaults a fill to JPEG and a cut-out to WebP, and sizes the result by its long edge', () => {
    expect(defaultFormat('colour')).toBe('jpeg')
    expect(defaultFormat('image')).toBe('jpeg')
    expect(defaultFormat('transparent')).toBe('webp')
    expect(outputSize(4000, 3000, 2048)).toEqual({ width: 2048, height: 1536 })
    expect(outputSize(3000, 4000, 1024)).toEqual({ width: 768, height: 1024 })
    expect(outputSize(800, 600, 1024)).toEqual({ width: 800, height: 600 })
    expect(outputSize(4000, 3000, null)).toEqual({ width: 4000, height: 3000 })
    expect(toOperation(settings({ maxEdge: 1024 }))).toMatchObject({ max_edge: 1024 })
  })

  it('offers JPEG only when the background is filled', () => {
    expect(formatsFor('transparent')).toEqual(['png', 'webp'])
    expect(formatsFor('blur')).toContain('jpeg')
    expect(validateSettings(settings({ format: 'jpeg' }), 'me', SESSION)).toHaveProperty('format')
    expect(validateSettings(settings({ kind: 'colour', format: 'jpeg' }), 'me', SESSION)).toEqual({})
  })

  it('names each field that cannot be sent', () => {
    expect(validateSettings(settings({ kind: 'colour', colour: 'red' }), 'me', SESSION)).toHaveProperty('colour')
    expect(validateSettings(settings({ kind: 'blur', blurRadius: 0 }), 'me', SESSION)).toHaveProperty('blurRadius')
    expect(validateSettings(settings({ kind: 'blur', blurRadius: 101 }), 'me', SESSION)).toHaveProperty('blurRadius')
    expect(validateSettings(settings({ kind: 'blur', blurRadius: 2.5 }), 'me', SESSION)).toHaveProperty('blurRadius')
    expect(validateSettings(settings({ kind: 'blur', blurRadius: 100 }), 'me', SESSION)).toEqual({})
    expect(validateSettings(settings({ model: 'gone' }), 'me', SESSION, ['isnet-medium'])).toHaveProperty('model')
    expect(validateSettings(settings({ model: 'isnet-medium' }), 'me', SESSION, ['isnet-medium'])).toEqual({})
  })

  it('wants another image of this session as an image background', () => {
    expect(validateSettings(settings({ kind: 'image', imageId: null }), 'me', SESSION).imageId).toMatch(/other images/)
    expect(validateSettings(settings({ kind: 'image', imageId: 'me' }), 'me', SESSION).imageId).toMatch(/its own/)
    expect(validateSettings(settings({ kind: 'image', imageId: 'deleted' }), 'me', SESSION)).toHaveProperty('imageId')
    expect(validateSettings(settings({ kind: 'image', imageId: 'other' }), 'me', SESSION)).toEqual({})
  })

  it('checks matting thresholds only when matting is on, and keeps background below foreground', () => {
    const bad = { foregroundThreshold: 300, backgroundThreshold: -1, erodeSize: 500 }
    expect(validateSettings(settings(bad), 'me', SESSION)).toEqual({})
    expect(Object.keys(validateSettings(settings({ ...bad, alphaMatting: true }), 'me', SESSION)).sort()).toEqual([
      'backgroundThreshold',
      'erodeSize',
      'foregroundThreshold',
    ])
    expect(validateSettings(settings({ alphaMatting: true, erodeSize: 64 }), 'me', SESSION)).toEqual({})
    expect(validateSettings(settings({ alphaMatting: true, erodeSize: 65 }), 'me', SESSION)).toHaveProperty('erodeSize')
    const crossed = validateSettings(settings({ alphaMatting: true, foregroundThreshold: 100, backgroundThreshold: 100 }), 'me', SESSION)
    expect(crossed.backgroundThreshold).toMatch(/below the foreground/)
  })
})

describe('error wording', () => {
  const error = (status: number, code: string, message: string, retryAfter: number | null = null) =>
    new ApiError({ status, code, message, retryAfter })

  it('says the server is busy and when to try again', () => {
    expect(backgroundErrorMessage(error(429, 'rate_limited', 'queue full', 7))).toBe('The server is busy, try again in 7 s.')
    expect(backgroundErrorMessage(error(429, 'rate_limited', 'queue full', 0))).toBe('The server is busy, try again in 1 s.')
    expect(backgroundErrorMessage(error(429, 'http_429', 'Too many', null))).toBe('The server is busy, try again in a moment.')
  })

  it('says the model is not available, with the server reason once', () => {
    expect(backgroundErrorMessage(error(503, 'service_unavailable', 'model file is corrupt'))).toBe(
      'Model not available: model file is corrupt',
    )
    expect(backgroundErrorMessage(error(503, 'service_unavailable', 'Model not available: not installed'))).toBe(
      'Model not available: not installed',
    )
    expect(
      backgroundErrorMessage(error(503, 'service_unavailable', 'background removal is unavailable: isnet-medium.onnx is missing')),
    ).toBe('Model not available: isnet-medium.onnx is missing')
  })

  it("uses the server's message for everything else, and a proxy's 503 is not blamed on the model", () => {
    expect(backgroundErrorMessage(error(422, 'validation_error', 'background.radius: too large'))).toBe('background.radius: too large')
    expect(backgroundErrorMessage(error(503, 'http_503', 'The server had a problem (HTTP 503).'))).toBe(
      'The server had a problem (HTTP 503).',
    )
  })
})

describe('versions', () => {
  it('finds the version the current one was made from, across gaps left by undo', () => {
    const image = imageFixture('a', { number: 5, operation: 'remove_background' }, {
      versions: [versionFixture(), versionFixture({ number: 3, operation: 'rotate' }), versionFixture({ number: 5, operation: 'remove_background' })],
    })
    expect(previousVersion(image)?.number).toBe(3)
    expect(previousVersion(imageFixture('a'))).toBeNull()
  })

  it('addresses another version through the content URL', () => {
    const image = imageFixture('a', { number: 4 }, { content_url: '/api/v1/images/a/content?version=4&download=1' })
    expect(versionContentUrl(image, 2)).toBe('/api/v1/images/a/content?version=2')
    expect(versionContentUrl(imageFixture('x', { number: 2 }), 1)).toBe('/api/v1/images/x/content?version=1')
  })

  it('names the mask after the image', () => {
    expect(maskFilename('IMG_1234.webp')).toBe('IMG_1234-mask.png')
    expect(maskFilename('.hidden')).toBe('.hidden-mask.png')
    expect(maskFilename('')).toBe('image-mask.png')
  })

  it('labels the history step by what went behind the subject', () => {
    const step = (background: unknown) => versionLabel(versionFixture({ number: 2, operation: 'remove_background', params: { background } }))
    expect(step({ kind: 'transparent' })).toBe('Background removed')
    expect(step(undefined)).toBe('Background removed')
    expect(step({ kind: 'colour', colour: '#ffffff' })).toBe('Background replaced with a colour')
    expect(step({ kind: 'blur', radius: 20 })).toBe('Background blurred')
    expect(step({ kind: 'image', image_id: 'b' })).toBe('Background replaced with an image')
  })
})
