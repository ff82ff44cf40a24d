// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useToasts } from '../composables/useToasts'
import { fakeBackgroundGateway, flush, json, MODELS, mountWithBackground } from '../test/backgroundFixtures'
import { imageFixture } from '../test/fixtures'
import BackgroundPanel from './BackgroundPanel.vue'

const me = imageFixture('me', { width: 2000, height: 1000 })
const other = imageFixture('other')
const third = imageFixture('third')

describe('BackgroundPanel', () => {
  let mounted: ReturnType<typeof mountWithBackground> | null = null
  const setup = (options: Parameters<typeof mountWithBackground>[2] = {}) => {
    mounted = mountWithBackground(BackgroundPanel, { image: me }, { images: [me, other, third], ...options })
    return mounted
  }
  const sent = (m: ReturnType<typeof setup>) => m.removals.at(-1)?.body

  beforeEach(() => {
    const { toasts, dismiss } = useToasts()
    toasts.value.forEach((t) => dismiss(t.id))
  })
  afterEach(() => {
    mounted?.wrapper.unmount()
    mounted?.scope.stop()
    mounted = null
  })

  it('removes the background with the defaults: server model, transparent WebP at the original size', async () => {
    const m = setup()
    await flush()
    // One installed model: nothing to choose.
    expect(m.wrapper.find('[data-testid=background-model]').exists()).toBe(false)
    // 0.9 s + 0.1 s × 2 MP.
    expect(m.wrapper.get('[data-testid=background-expected]').text()).toBe('Usually about 1.1 s for this image on this server.')
    expect(m.wrapper.get('[data-testid=background-format-jpeg]').attributes('disabled')).toBeDefined()

    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(m.removals[0]!.url).toBe('/api/v1/images/me/operations')
    expect(sent(m)).toMatchObject({ type: 'remove_background', model: null, background: { kind: 'transparent' }, format: 'webp', max_edge: null })
    expect(m.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(true)
  })

  it('lists only the installed models, when there is a choice, and sends the one picked', async () => {
    const two = { ...MODELS, models: [...MODELS.models, { id: 'u2net', label: 'U²-Net', default: false }] }
    const m = setup({ gateway: fakeBackgroundGateway(() => json(200, two)) })
    await flush()
    const picker = m.wrapper.get<HTMLSelectElement>('[data-testid=background-model]')
    expect(picker.findAll('option').map((o) => o.text())).toEqual(['ISNet (imgly, medium) — default', 'U²-Net'])
    expect(picker.element.value).toBe('isnet-medium')
    await picker.setValue('u2net')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ model: 'u2net' })
  })

  it('fills the background with a swatch colour, and then allows JPEG', async () => {
    const m = setup()
    await m.wrapper.get('[data-testid=background-kind-colour]').trigger('click')
    const swatches = m.wrapper.findAll('[data-testid=background-swatch]')
    expect(swatches.length).toBeGreaterThanOrEqual(4)
    const black = swatches.find((s) => s.attributes('data-colour') === '#000000')!
    await black.trigger('click')
    expect(black.attributes('aria-pressed')).toBe('true')
    expect(m.wrapper.get<HTMLInputElement>('[data-testid=background-colour]').element.value).toBe('#000000')
    await m.wrapper.get('[data-testid=background-format-jpeg]').trigger('click')
    expect(m.wrapper.get('[data-testid=background-apply]').text()).toBe('Replace background')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ background: { kind: 'colour', colour: '#000000' }, format: 'jpeg' })
  })

  it("picks each background's default format: JPEG for a fill, WebP for a cut-out; PNG on request", async () => {
    const m = setup()
    await m.wrapper.get('[data-testid=background-kind-blur]').trigger('click')
    expect(m.wrapper.get('[data-testid=background-format-jpeg]').attributes('aria-pressed')).toBe('true')
    await m.wrapper.get('[data-testid=background-kind-transparent]').trigger('click')
    expect(m.wrapper.get('[data-testid=background-format-webp]').attributes('aria-pressed')).toBe('true')
    await m.wrapper.get('[data-testid=background-format-png]').trigger('click')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ background: { kind: 'transparent' }, format: 'png' })
  })

  it('offers the output size by long edge, with the dimensions it will produce', async () => {
    const m = setup()
    await m.wrapper.get('[data-testid=background-size-1024]').trigger('click')
    expect(m.wrapper.get('[data-testid=background-size-1024]').attributes('aria-pressed')).toBe('true')
    // The photo is 2000 × 1000: its long edge shrinks to 1024.
    expect(m.wrapper.get('[data-testid=background-output-size]').text()).toContain('The result will be 1024 × 512 px')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ max_edge: 1024 })
  })

  it('blurs the original background by the chosen radius', async () => {
    const m = setup()
    await m.wrapper.get('[data-testid=background-kind-blur]').trigger('click')
    await m.wrapper.get('[data-testid=background-blur-radius]').setValue('45')
    expect(m.wrapper.text()).toContain('45 px')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ background: { kind: 'blur', radius: 45 } })
  })

  it("offers the session's other images as the background, the first one picked", async () => {
    const m = setup()
    await m.wrapper.get('[data-testid=background-kind-image]').trigger('click')
    const options = m.wrapper.findAll('[data-testid=background-image-option]')
    expect(options.map((o) => o.attributes('data-image-id'))).toEqual(['other', 'third'])
    expect(options[0]!.get('img').attributes('src')).toBe(other.thumbnail_url)
    expect(options[0]!.attributes('aria-pressed')).toBe('true')
    await options[1]!.trigger('click')
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({ background: { kind: 'image', image_id: 'third' } })
  })

  it('never keeps the edited image itself as its background when the remembered choice was it', () => {
    mounted = mountWithBackground(BackgroundPanel, { image: me }, { images: [me, other], settings: { kind: 'image', imageId: 'me' } })
    const options = mounted.wrapper.findAll('[data-testid=background-image-option]')
    expect(options.map((o) => [o.attributes('data-image-id'), o.attributes('aria-pressed')])).toEqual([['other', 'true']])
    expect(mounted.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(false)
  })

  it('says to upload another image when the session has no other', async () => {
    mounted = mountWithBackground(BackgroundPanel, { image: me }, { images: [me] })
    await mounted.wrapper.get('[data-testid=background-kind-image]').trigger('click')
    expect(mounted.wrapper.text()).toContain('Upload another image to use it as the background.')
    expect(mounted.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(true)
  })

  it('tunes alpha matting under Advanced, refusing thresholds the server would refuse', async () => {
    const m = setup()
    const fg = m.wrapper.get<HTMLInputElement>('[data-testid=background-fg-threshold]')
    expect(fg.element.disabled).toBe(true)
    await m.wrapper.get('[data-testid=background-alpha-matting]').setValue(true)
    expect(fg.element.disabled).toBe(false)

    await m.wrapper.get('[data-testid=background-bg-threshold]').setValue('250')
    expect(m.wrapper.text()).toContain('Must be below the foreground threshold.')
    expect(m.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(true)

    await m.wrapper.get('[data-testid=background-bg-threshold]').setValue('20')
    await m.wrapper.get('[data-testid=background-erode-size]').setValue('5')
    await m.wrapper.get('[data-testid=background-post-process]').setValue(true)
    await m.wrapper.get('form').trigger('submit')
    await flush()
    expect(sent(m)).toMatchObject({
      alpha_matting: true,
      foreground_threshold: 240,
      background_threshold: 20,
      erode_size: 5,
      post_process_mask: true,
    })
  })

  it('says why nothing can run when the server has no model, and checks again on request', async () => {
    let answer = () => json(503, { error: { code: 'service_unavailable', message: 'model file failed its checksum' } })
    const m = setup({ gateway: fakeBackgroundGateway(() => answer()) })
    await flush()
    expect(m.wrapper.get('[data-testid=background-unavailable]').text()).toContain(
      'Model not available: model file failed its checksum',
    )
    expect(m.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(true)

    answer = () => json(200, MODELS)
    await m.wrapper.get('[data-testid=background-unavailable] button').trigger('click')
    await flush()
    expect(m.wrapper.find('[data-testid=background-unavailable]').exists()).toBe(false)
    expect(m.wrapper.get<HTMLButtonElement>('[data-testid=background-apply]').element.disabled).toBe(false)
  })

  it('offers the mask and states the size only for a background-removal result', async () => {
    const m = setup()
    expect(m.wrapper.find('[data-testid=background-download-mask]').exists()).toBe(false)
    expect(m.wrapper.find('[data-testid=background-result-size]').exists()).toBe(false)
    m.wrapper.unmount()
    const result = imageFixture('me', { number: 2, operation: 'remove_background', format: 'png' })
    mounted = mountWithBackground(BackgroundPanel, { image: result }, { images: [result] })
    expect(mounted.wrapper.get('[data-testid=background-download-mask]').text()).toBe('Download mask')
    expect(mounted.wrapper.get('[data-testid=background-result-size]').text()).toMatch(/^This result: PNG, \d+ × \d+ px, [\d.]+ MB$/)
  })
})
