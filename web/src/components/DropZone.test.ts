// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import DropZone from './DropZone.vue'

const limits = { max_images: 5, max_upload_mb: 20, expiry_days: 7 }
const photo = () => new File([new Uint8Array([0xff, 0xd8, 0xff])], 'IMG_0001.jpg', { type: 'image/jpeg' })

/** A DataTransfer stand-in with files, as the browser gives to drag, drop and paste events. */
function transfer(files: File[]) {
  return { types: ['Files'], files, dropEffect: 'none' }
}

function dispatch(target: EventTarget, type: string, property: 'dataTransfer' | 'clipboardData', files: File[]) {
  const event = new Event(type, { bubbles: true, cancelable: true })
  Object.defineProperty(event, property, { value: transfer(files) })
  target.dispatchEvent(event)
  return event
}

describe('DropZone', () => {
  const mounted: ReturnType<typeof mount>[] = []
  const mountZone = (extra: { compact?: boolean; full?: boolean } = {}) => {
    const wrapper = mount(DropZone, { props: { limits, ...extra }, attachTo: document.body })
    mounted.push(wrapper)
    return wrapper
  }

  afterEach(() => {
    mounted.splice(0).forEach((wrapper) => wrapper.unmount())
  })

  it('tells what it accepts, from the limits', () => {
    const wrapper = mountZone()
    expect(wrapper.get('h2').text()).toBe('Drop photos here')
    expect(wrapper.text()).toContain('JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF, BMP — up to 20 MB each, 5 images per session')
    const input = wrapper.get('input[type=file]')
    expect(input.attributes('accept')).toBe('image/*')
    expect(input.attributes()).toHaveProperty('multiple')
  })

  it('emits the files chosen in the picker', async () => {
    const wrapper = mountZone()
    const input = wrapper.get<HTMLInputElement>('[data-testid=file-input]')
    const file = photo()
    Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
    await input.trigger('change')
    expect(wrapper.emitted('files')).toEqual([[[file]]])
  })

  it('emits dropped files, anywhere on the page, and highlights while dragging', async () => {
    const wrapper = mountZone()
    const file = photo()

    dispatch(document.body, 'dragenter', 'dataTransfer', [file])
    await wrapper.vm.$nextTick()
    expect(wrapper.classes()).toContain('dragging')

    const drop = dispatch(document.body, 'drop', 'dataTransfer', [file])
    await wrapper.vm.$nextTick()
    expect(drop.defaultPrevented).toBe(true) // the browser must not navigate to the photo
    expect(wrapper.classes()).not.toContain('dragging')
    expect(wrapper.emitted('files')).toEqual([[[file]]])
  })

  it('emits pasted files, but leaves pastes into text fields alone', () => {
    const wrapper = mountZone()
    const field = document.createElement('input')
    document.body.append(field)

    dispatch(field, 'paste', 'clipboardData', [photo()])
    expect(wrapper.emitted('files')).toBeUndefined()

    const file = photo()
    dispatch(document.body, 'paste', 'clipboardData', [file])
    expect(wrapper.emitted('files')).toEqual([[[file]]])
    field.remove()
  })

  it('emits nothing for an empty drop and stops listening when unmounted', () => {
    const wrapper = mountZone()
    dispatch(document.body, 'drop', 'dataTransfer', [])
    expect(wrapper.emitted('files')).toBeUndefined()

    wrapper.unmount()
    mounted.splice(0)
    dispatch(document.body, 'drop', 'dataTransfer', [photo()])
    expect(wrapper.emitted('files')).toBeUndefined()
  })

  it('becomes a slim bar above the gallery, and covers the window while files are dragged', async () => {
    const wrapper = mountZone({ compact: true })
    expect(wrapper.classes()).toContain('compact')
    expect(wrapper.get('h2').text()).toBe('Add more photos')
    dispatch(document.body, 'dragenter', 'dataTransfer', [photo()])
    await wrapper.vm.$nextTick()
    expect(wrapper.find('.drag-veil').exists()).toBe(true)
  })

  it('says when the session is full and disables the picker', () => {
    const wrapper = mountZone({ compact: true, full: true })
    expect(wrapper.get('h2').text()).toBe('This session is full')
    expect(wrapper.text()).toContain('It holds 5 images, the most a session can keep.')
    expect(wrapper.get('[data-testid=choose-files]').attributes()).toHaveProperty('disabled')
    expect(wrapper.attributes('data-full')).toBe('true')
  })
})
