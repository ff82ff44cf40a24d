// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { ApiClient, type FetchLike } from '../api/client'
import type { HealthBody } from '../api/types'
import { useHealth } from '../composables/useHealth'
import OfflineBanner from './OfflineBanner.vue'

const CORRUPT =
  'image-service: background-removal model isnet-general-use at var/models/isnet-general-use.onnx is corrupt: ' +
  'sha256 0f3a…, expected 9b1c…'

function report(missing: string[], problems: string[]): HealthBody {
  return {
    status: 'unhealthy',
    version: '0.1.0',
    services: {
      gateway: { replicas: 1, versions: ['0.1.0'], model: null, models: null, engine: null, problems: [] },
      'image-service': { replicas: 1, versions: ['0.1.0'], model: null, models: null, engine: null, problems },
    },
    missing,
    problems,
  }
}

/** The banner as the app shows it: fed by useHealth, which asks /health through the API client. */
function mountBanner(answer: () => Response) {
  const fetch = vi.fn<FetchLike>(async () => answer())
  const Harness = defineComponent({
    setup() {
      const health = useHealth({ client: new ApiClient(fetch) })
      return () =>
        h(OfflineBanner, {
          degraded: health.status.value === 'degraded',
          missing: health.missing.value,
          problems: health.problems.value,
          retryInSeconds: health.retryInSeconds.value,
          checking: health.checking.value,
        })
    },
  })
  return mount(Harness)
}

function unhealthy(body: HealthBody): Response {
  return new Response(JSON.stringify(body), { status: 503, headers: { 'Content-Type': 'application/json' } })
}

describe('OfflineBanner', () => {
  let wrapper: ReturnType<typeof mount> | null = null
  afterEach(() => wrapper?.unmount())

  it('names the part that is broken when a service answers with a problem, and says the rest works', async () => {
    wrapper = mountBanner(() => unhealthy(report([], [CORRUPT])))
    await flushPromises()

    const banner = wrapper.get('[data-testid=offline-banner]')
    expect(banner.text()).toContain('Part of ImageTools is not working; everything else still does')
    expect(banner.text()).not.toContain('Some services are unavailable')
    expect(wrapper.get('[data-testid=health-problems]').findAll('li').map((li) => li.text())).toEqual([CORRUPT])
  })

  it('names the services that did not answer, and their problems beside them', async () => {
    wrapper = mountBanner(() => unhealthy(report(['session-service'], [CORRUPT])))
    await flushPromises()

    expect(wrapper.text()).toContain('Some services are unavailable: session-service')
    expect(wrapper.get('[data-testid=health-problems]').text()).toBe(CORRUPT)
  })

  it('lists no problems when the server cannot be reached at all', async () => {
    wrapper = mountBanner(() => new Response('Bad Gateway', { status: 502 }))
    await flushPromises()

    expect(wrapper.text()).toContain("Can't reach the ImageTools server")
    expect(wrapper.find('[data-testid=health-problems]').exists()).toBe(false)
  })
})
