// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import type { ImagesApi } from '../api/images'
import type { ImageMetadata, PrivacySettings } from '../api/types'
import { imageFixture } from '../test/fixtures'
import MetadataPanel from './MetadataPanel.vue'

const NO_METADATA: ImageMetadata = {
  camera: null,
  lens: null,
  exposure: null,
  aperture: null,
  iso: null,
  focal_length: null,
  taken_at: null,
  orientation: null,
  software: null,
  gps: null,
  has_exif: false,
}

function fakeClient(keep: boolean, setPrivacy: (settings: PrivacySettings) => Promise<PrivacySettings>) {
  return {
    metadata: vi.fn(async () => NO_METADATA),
    privacy: vi.fn(async () => ({ keep_location: keep })),
    setPrivacy: vi.fn(setPrivacy),
  } as unknown as ImagesApi
}

describe('MetadataPanel privacy', () => {
  it('shows the session choice and changes it on the server', async () => {
    const client = fakeClient(false, async (settings) => settings)
    const wrapper = mount(MetadataPanel, { props: { image: imageFixture(), apply: async () => {}, client } })
    await flushPromises()
    const toggle = wrapper.get<HTMLInputElement>('[data-testid=keep-location]')
    expect(toggle.element.checked).toBe(false)
    expect(wrapper.find('[data-testid=original-location]').exists()).toBe(false)
    await toggle.setValue(true)
    await flushPromises()
    expect(client.setPrivacy).toHaveBeenCalledWith({ keep_location: true })
    expect(toggle.element.checked).toBe(true)
  })

  it('puts the toggle back and says why when the server refuses', async () => {
    const client = fakeClient(true, async () => {
      throw new Error('offline')
    })
    const image = imageFixture('a', {}, { original_has_location: true })
    const wrapper = mount(MetadataPanel, { props: { image, apply: async () => {}, client } })
    await flushPromises()
    const toggle = wrapper.get<HTMLInputElement>('[data-testid=keep-location]')
    await toggle.setValue(false)
    await flushPromises()
    expect(toggle.element.checked).toBe(true)
    expect(wrapper.text()).toContain('offline')
    expect(wrapper.get('[data-testid=original-location]').text()).toContain('original download')
  })
})
