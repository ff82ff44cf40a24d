// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { ImageView } from '../api/types'
import { imageFixture } from '../test/fixtures'
import EditorPreview from './EditorPreview.vue'

// happy-dom decodes data: URLs on the spot and fails URLs it cannot parse, like a broken image.
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='
const THUMB = `${PIXEL}#thumb`
const BROKEN = 'http://[broken'

function image(current: Parameters<typeof imageFixture>[1], urls: Partial<ImageView>): ImageView {
  return imageFixture('img-1', current, { content_url: PIXEL, thumbnail_url: THUMB, ...urls })
}

describe('EditorPreview', () => {
  let wrapper: ReturnType<typeof mount> | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  async function show(view: ImageView, props: { working?: boolean; exact?: boolean } = {}) {
    wrapper = mount(EditorPreview, {
      props: { image: view, working: false, exact: false, ...props },
      slots: { default: '<span class="tool" :data-loading="String(params.loading)" :data-shown="String(params.shown)" />' },
    })
    await flushPromises()
    return wrapper
  }

  it('shows the current version at full size and says a picture is on screen', async () => {
    const w = await show(image({ number: 2, width: 400, height: 300 }, {}))
    const picture = w.get('[data-testid=editor-preview]')
    expect(picture.attributes('src')).toBe(PIXEL)
    expect(picture.attributes('data-version')).toBe('2')
    expect(w.emitted('ready')).toEqual([[true]])
    expect(w.get('.tool').attributes()).toMatchObject({ 'data-loading': 'false', 'data-shown': 'true' })
    expect(w.text()).not.toContain('smaller copy')
  })

  it('shows the thumbnail, with a note, for a format browsers cannot draw', async () => {
    const w = await show(image({ format: 'heif' }, {}))
    expect(w.get('[data-testid=editor-preview]').attributes('src')).toBe(THUMB)
    expect(w.text()).toContain("Preview from a smaller copy: browsers can't display HEIC.")
  })

  it('falls back to the thumbnail when the full picture fails, and says so when both fail', async () => {
    const w = await show(image({}, { content_url: BROKEN }))
    expect(w.get('[data-testid=editor-preview]').attributes('src')).toBe(THUMB)

    await w.setProps({ image: image({ number: 2 }, { content_url: `${BROKEN}2`, thumbnail_url: BROKEN }) })
    await flushPromises()
    expect(w.text()).toContain('The preview could not be loaded.')
  })

  it('says "Working…" over the picture while an operation runs', async () => {
    const w = await show(image({}, {}), { working: true })
    expect(w.get('[role=status]').text()).toBe('Working…')
  })

  it('takes the shape of the current version while a tool works on its pixels', async () => {
    const w = await show(image({ width: 400, height: 200 }, {}))
    // A rotation: the new version's picture has not loaded yet.
    await w.setProps({ image: image({ number: 2, width: 200, height: 400 }, { content_url: `${BROKEN}3`, thumbnail_url: BROKEN }) })
    expect(w.get('.picture-frame').attributes('style')).toContain('--ar: 2')
    await w.setProps({ exact: true })
    expect(w.get('.picture-frame').attributes('style')).toContain('--ar: 0.5')
  })
})
