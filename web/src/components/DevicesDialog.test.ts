// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { ApiError } from '../api/client'
import type { DevicesApi } from '../api/devices'
import type { Device, JoinOffer, SessionInfo } from '../api/types'
import { useConfirm } from '../composables/useConfirm'
import DevicesDialog from './DevicesDialog.vue'

const session: SessionInfo = {
  active: true,
  created_at: '2026-12-01T10:00:00Z',
  expires_at: '2026-12-08T10:00:00Z',
  image_count: 2,
  limits: { max_images: 5, max_upload_mb: 50, expiry_days: 7 },
  version: '0.1.0',
}
const offer: JoinOffer = {
  url: 'https://img.example.com/join#' + 'T'.repeat(43),
  qr_image: 'data:image/svg+xml;charset=utf-8,%3Csvg%3E%3C%2Fsvg%3E',
  code: 'K7M2Q-9XHT4',
  expires_at: '2026-12-05T10:05:00Z',
  expires_in: 299,
}
const desktop: Device = {
  id: 'd-1',
  name: 'Chrome on Linux',
  created_at: '2026-12-01T10:00:00Z',
  last_seen_at: '2026-12-05T10:00:00Z',
  current: true,
}
const phone: Device = { ...desktop, id: 'd-2', name: 'Chrome on Android', current: false }

describe('DevicesDialog', () => {
  let wrapper: ReturnType<typeof mount> | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    useConfirm().answer(false)
    vi.useRealTimers()
  })

  async function open(api: Partial<DevicesApi> = {}, current: SessionInfo | null = session) {
    const fake: DevicesApi = {
      list: vi.fn().mockResolvedValue([desktop, phone]),
      remove: vi.fn().mockResolvedValue(undefined),
      offer: vi.fn().mockResolvedValue(offer),
      join: vi.fn().mockResolvedValue(session),
      ...api,
    }
    const endSession = vi.fn().mockResolvedValue(undefined)
    wrapper = mount(DevicesDialog, {
      props: { open: false, session: current, endSession, api: fake },
      attachTo: document.body,
    })
    await wrapper.setProps({ open: true })
    await flushPromises()
    return { w: wrapper, fake, endSession }
  }

  it('shows the QR code and the short code with how long they work, then that they expired', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] })
    const { w, fake } = await open()
    await w.get('[data-testid=make-join-offer]').trigger('click')
    await flushPromises()
    expect(fake.offer).toHaveBeenCalledOnce()
    expect(w.get('img').attributes('src')).toBe(offer.qr_image)
    expect(w.get('img').attributes('alt')).toContain('QR code')
    expect(w.get('[data-testid=join-code]').text()).toBe('K7M2Q-9XHT4')
    vi.advanceTimersByTime(60_000)
    await nextTick()
    expect(w.get('[data-testid=join-countdown]').text()).toBe('Works once, for 3:59')
    expect(w.text()).toContain('Or open img.example.com there')

    vi.advanceTimersByTime(240_000)
    await nextTick()
    expect(w.find('[data-testid=join-countdown]').exists()).toBe(false)
    expect(w.text()).toContain('This code has expired.')
    expect(w.get('.qr').classes()).toContain('dead')
  })

  it('lists the devices, marks this one, and removes another after confirming', async () => {
    const { w, fake } = await open()
    const rows = w.findAll('[data-testid=device]')
    expect(rows.map((r) => r.find('.device-name').text())).toEqual(['Chrome on Linux This device', 'Chrome on Android'])
    expect(rows[0]!.get('button').text()).toBe('Leave')
    await rows[1]!.get('[data-testid=remove-device]').trigger('click')
    await nextTick()
    expect(useConfirm().pending.value?.title).toBe('Remove Chrome on Android?')
    useConfirm().answer(true)
    await flushPromises()
    expect(fake.remove).toHaveBeenCalledWith('d-2')
    expect(fake.list).toHaveBeenCalledTimes(2)
  })

  it('joins by code after confirming that this browser leaves its own session', async () => {
    const { w, fake } = await open()
    await w.get('[data-testid=join-code-input]').setValue('k7m2q 9xht4')
    await w.get('form').trigger('submit')
    await nextTick()
    expect(useConfirm().pending.value?.message).toContain('session with 2 photos')
    useConfirm().answer(true)
    await flushPromises()
    expect(fake.join).toHaveBeenCalledWith({ code: 'k7m2q 9xht4' }, true)
    expect(w.emitted('switched')?.[0]?.[0]).toContain('Joined')
  })

  it('joins without asking when this browser has no session, and says why a code is refused', async () => {
    const refused = new ApiError({ code: 'gone', message: 'This join link or code has expired', status: 410 })
    const { w, fake } = await open({ join: vi.fn().mockRejectedValue(refused) }, { ...session, active: false })
    expect(w.find('[data-testid=device-list]').exists()).toBe(false)
    await w.get('[data-testid=join-submit]').trigger('click')
    expect(w.get('[data-testid=join-error]').text()).toBe('Type the code shown on the other device.')
    await w.get('[data-testid=join-code-input]').setValue('ABCDE-FGHJK')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(useConfirm().pending.value).toBeNull()
    expect(fake.join).toHaveBeenCalledWith({ code: 'ABCDE-FGHJK' }, false)
    expect(w.get('[data-testid=join-error]').text()).toBe('This join link or code has expired')
    expect(w.emitted('switched')).toBeUndefined()
  })
})
