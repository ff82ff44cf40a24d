import { mount } from '@vue/test-utils'
import { vi } from 'vitest'
import { defineComponent, effectScope, h, type Component } from 'vue'
import { createBackgroundApi } from '../api/background'
import { ApiClient, type FetchLike } from '../api/client'
import type { BackgroundModels, ImageView } from '../api/types'
import { provideBackground, useBackgroundRemoval } from '../composables/useBackgroundRemoval'
import type { BackgroundSettings } from '../lib/background'

/** A models list as the server sends it: one installed model, measured timing. */
export const MODELS: BackgroundModels = {
  models: [{ id: 'isnet-medium', label: 'ISNet (imgly, medium)', default: true }],
  default: 'isnet-medium',
  timing: { base_seconds: 0.9, per_megapixel_seconds: 0.1 },
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}

export interface HeldRemoval {
  url: string
  body: unknown
  signal: AbortSignal
  answer: (response: Response) => void
}

/**
 * A fake gateway behind the real API client: answers the models list at once and holds each
 * removal until the test answers it, rejecting it as fetch does when its signal is aborted.
 */
export function fakeBackgroundGateway(models: () => Response = () => json(200, MODELS)) {
  const removals: HeldRemoval[] = []
  const fetch = vi.fn<FetchLike>((url, init) => {
    if (url === '/api/v1/background/models') return Promise.resolve(models())
    return new Promise<Response>((resolve, reject) => {
      const signal = init!.signal!
      signal.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')))
      removals.push({ url, body: JSON.parse(String(init!.body)), signal, answer: resolve })
    })
  })
  return { api: createBackgroundApi(new ApiClient(fetch)), fetch, removals }
}

/**
 * Mounts `component` below a real useBackgroundRemoval on the fake gateway, as App.vue provides
 * it; `images` are the session's images, `settings` what the panel remembers.
 */
export function mountWithBackground(
  component: Component,
  props: Record<string, unknown>,
  {
    images = [] as readonly ImageView[],
    gateway = fakeBackgroundGateway(),
    clock = () => Date.now(),
    settings = {} as Partial<BackgroundSettings>,
  } = {},
) {
  const scope = effectScope()
  const onResult = vi.fn<(image: ImageView) => void>()
  const removal = scope.run(() => useBackgroundRemoval(gateway.api, { onResult, clock, tickMs: 10 }))!
  // Choices remembered from an earlier editor.
  removal.settings.value = { ...removal.settings.value, ...settings }
  const Host = defineComponent({
    setup() {
      provideBackground({ removal, images: () => images })
      return () => h(component, props)
    },
  })
  const wrapper = mount(Host, { attachTo: document.body })
  return { wrapper, removal, onResult, scope, ...gateway }
}

/** Lets pending promises and the fake fetch settle. */
export const flush = () => new Promise((resolve) => setTimeout(resolve, 0))
