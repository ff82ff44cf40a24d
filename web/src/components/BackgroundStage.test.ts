// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { QUICK_OPERATION } from '../lib/background'
import { fakeBackgroundGateway, flush, json, MODELS, mountWithBackground } from '../test/backgroundFixtures'
import { imageFixture, versionFixture } from '../test/fixtures'
import BackgroundStage from './BackgroundStage.vue'

/** One beat of the progress clock: its interval timer is fake, so nothing waits in real time. */
const tick = async () => {
  await vi.advanceTimersToNextTimerAsync()
  await nextTick()
}

describe('BackgroundStage', () => {
  let mounted: ReturnType<typeof mountWithBackground> | null = null
  // Only intervals are faked: the fake gateway and flush() still settle on real zero-delay timeouts.
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }))
  afterEach(() => {
    mounted?.wrapper.unmount()
    mounted?.scope.stop()
    mounted = null
    vi.useRealTimers()
  })

  it('shows elapsed time against the usual duration while it runs, and cancels', async () => {
    let time = 0
    const image = imageFixture('a', { width: 1000, height: 1000 })
    mounted = mountWithBackground(BackgroundStage, { image, compare: true }, { clock: () => time })
    const { wrapper, removal, removals } = mounted
    await removal.loadModels()
    const done = removal.start(image, { ...QUICK_OPERATION })
    await flush()

    time = 500
    await tick()
    const bar = wrapper.get('[role=progressbar]')
    // 0.9 s + 0.1 s × 1 MP = 1.0 s expected.
    expect(bar.attributes('aria-valuenow')).toBe('50')
    expect(bar.attributes('aria-valuetext')).toBe('0.5 s of about 1.0 s')
    expect(wrapper.get('[data-testid=background-elapsed]').text()).toBe('0.5 s of about 1.0 s')
    expect(wrapper.get('[role=status]').text()).toBe('Removing the background of IMG_1234.jpg.')

    time = 1_700
    await tick()
    expect(wrapper.get('[data-testid=background-progress]').attributes('data-overdue')).toBe('true')
    expect(bar.attributes('aria-valuenow')).toBeUndefined()
    expect(wrapper.get('[data-testid=background-elapsed]').text()).toBe('1.7 s · taking longer than usual')
    expect(wrapper.get('[role=status]').text()).toBe('This is taking longer than usual.')

    await wrapper.get('[data-testid=background-cancel]').trigger('click')
    expect(removals[0]!.signal.aborted).toBe(true)
    expect(await done).toBeNull()
    await flush()
    expect(wrapper.find('[data-testid=background-progress]').exists()).toBe(false)
  })

  it('shows elapsed time alone when the server has not measured anything yet', async () => {
    let time = 0
    const image = imageFixture('a')
    const gateway = fakeBackgroundGateway(() => json(200, { ...MODELS, timing: null }))
    mounted = mountWithBackground(BackgroundStage, { image, compare: true }, { clock: () => time, gateway })
    await mounted.removal.loadModels()
    void mounted.removal.start(image, { ...QUICK_OPERATION })
    time = 2_000
    await tick()
    expect(mounted.wrapper.get('[data-testid=background-elapsed]').text()).toBe('2.0 s')
    expect(mounted.wrapper.get('[role=progressbar]').attributes('aria-valuenow')).toBeUndefined()
  })

  it('gives keyboard focus to Cancel when starting dropped it', async () => {
    const image = imageFixture('a')
    mounted = mountWithBackground(BackgroundStage, { image, compare: true })
    ;(document.activeElement as HTMLElement | null)?.blur()
    void mounted.removal.start(image, { ...QUICK_OPERATION })
    await flush()
    expect(document.activeElement?.getAttribute('data-testid')).toBe('background-cancel')
  })

  it('compares a background-removal result with the version it was made from', () => {
    const image = imageFixture('a', { number: 4, operation: 'remove_background', format: 'png' }, {
      versions: [versionFixture(), versionFixture({ number: 2, operation: 'rotate' }), versionFixture({ number: 4, operation: 'remove_background' })],
    })
    mounted = mountWithBackground(BackgroundStage, { image, compare: true })
    expect(mounted.wrapper.get('[data-testid=compare-before]').attributes('src')).toBe('/api/v1/images/a/content?version=2')
  })

  it('shows no comparison for other versions, or while the frame is busy with something else', () => {
    mounted = mountWithBackground(BackgroundStage, { image: imageFixture('a', { number: 2, operation: 'rotate' }), compare: true })
    expect(mounted.wrapper.find('[data-testid=compare-slider]').exists()).toBe(false)
    mounted.wrapper.unmount()
    const result = imageFixture('a', { number: 2, operation: 'remove_background' })
    mounted = mountWithBackground(BackgroundStage, { image: result, compare: false })
    expect(mounted.wrapper.find('[data-testid=compare-slider]').exists()).toBe(false)
  })
})
