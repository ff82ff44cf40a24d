import { computed, shallowRef } from 'vue'
import { SKIP_WAITING } from '../sw/messages'

/**
 * The installed app's service worker (src/sw/sw.ts): registered where browsers allow one (https
 * or localhost) in a built app. `updateReady` turns true when a new version has installed beside
 * the running one; `update()` lets it take over and reloads the page into it.
 */
export function useServiceWorker({ enabled = import.meta.env.PROD }: { enabled?: boolean } = {}) {
  const waiting = shallowRef<ServiceWorker | null>(null)

  async function register(container: ServiceWorkerContainer): Promise<void> {
    // `none`: the browser asks the server for sw.js itself on every check, never its HTTP cache.
    const registration = await container.register('/sw.js', { updateViaCache: 'none' })
    // Only a worker installed while another controls the page is an update; the first one is not.
    const offer = (worker: ServiceWorker) => {
      if (container.controller) waiting.value = worker
    }
    if (registration.waiting) offer(registration.waiting)
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing
      worker?.addEventListener('statechange', () => {
        if (worker.state === 'installed') offer(worker)
      })
    })
    // An installed app can stay open for days: look for a new version whenever it comes back.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void registration.update().catch(() => undefined)
    })
  }

  if (enabled && window.isSecureContext && 'serviceWorker' in navigator) {
    register(navigator.serviceWorker).catch((error: unknown) => {
      // The app works without it (no offline shell, no share target); say why for whoever looks.
      console.warn('ImageTools: the service worker could not be registered', error)
    })
  }

  function update(): void {
    const worker = waiting.value
    if (!worker) return
    let reloading = false
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (reloading) return
      reloading = true
      window.location.reload()
    })
    worker.postMessage({ type: SKIP_WAITING })
  }

  return { updateReady: computed(() => waiting.value !== null), update }
}
