// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import AppHeader from './AppHeader.vue'

const session = {
  active: true,
  created_at: '2026-11-25T20:00:00+00:00',
  expires_at: '2026-12-02T20:00:00+00:00',
  image_count: 2,
  limits: { max_images: 5, max_upload_mb: 20, expiry_days: 7 },
  version: '0.1.0',
}

describe('AppHeader', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-25T20:00:05+00:00') })
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('shows the image counter with a spoken label, and the expiry', () => {
    const wrapper = mount(AppHeader, { props: { session } })
    const counter = wrapper.get('[data-testid=image-counter]')
    expect(counter.text()).toBe('2 / 5')
    expect(counter.attributes('aria-label')).toBe('Images: 2 of 5')
    expect(wrapper.get('[data-testid=session-expiry]').text()).toBe('expires in 7 days')
  })

  it('keeps the expiry current as time passes', async () => {
    const wrapper = mount(AppHeader, { props: { session: { ...session, expires_at: '2026-11-25T21:00:00+00:00' } } })
    expect(wrapper.get('[data-testid=session-expiry]').text()).toBe('expires in 1 hour')
    await vi.advanceTimersByTimeAsync(30 * 60_000)
    expect(wrapper.get('[data-testid=session-expiry]').text()).toBe('expires in 30 minutes')
  })

  it('says how long photos are kept before the first upload starts a session', () => {
    const none = { ...session, active: false, created_at: null, expires_at: null, image_count: 0 }
    const wrapper = mount(AppHeader, { props: { session: none } })
    expect(wrapper.get('[data-testid=image-counter]').text()).toBe('0 / 5')
    const kept = wrapper.get('[data-testid=session-expiry]')
    expect(kept.text()).toBe('photos kept 7 days')
    expect(kept.attributes('title')).toBe('Photos you add are kept for 7 days, then deleted')
    expect(wrapper.find('time').exists()).toBe(false)
  })

  it('has no counter before the session is known, but always the About button', async () => {
    const wrapper = mount(AppHeader, { props: { session: null } })
    expect(wrapper.find('[data-testid=image-counter]').exists()).toBe(false)
    await wrapper.get('[data-testid=about-button]').trigger('click')
    expect(wrapper.emitted('about')).toHaveLength(1)
  })

  it('has the AI button next to About', async () => {
    const wrapper = mount(AppHeader, { props: { session: null } })
    const ai = wrapper.get('[data-testid=ai-button]')
    expect(ai.text()).toBe('AI')
    await ai.trigger('click')
    expect(wrapper.emitted('ai')).toHaveLength(1)
  })
})
