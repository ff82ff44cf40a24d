/// <reference lib="webworker" />
// The service worker: the app shell offline, the update hand-over, and the share target.
// Built on its own into dist/sw.js (vite.config.ts, serviceWorker()), which fills in the shell's
// files and a version that changes whenever any of them does.
import type { SessionInfo } from '../api/types'
import { SHARE_FIELD, SHARE_PATH, landingUrl, planShare, type ShareLanding } from '../lib/shareTarget'
import { putShare } from '../lib/shareInbox'
import { SKIP_WAITING } from './messages'

declare const self: ServiceWorkerGlobalScope
declare const __SHELL__: string[]
declare const __SHELL_VERSION__: string

const SHELL_PREFIX = 'imagetools-shell-'
const SHELL_CACHE = `${SHELL_PREFIX}${__SHELL_VERSION__}`
const SHELL = new Set(__SHELL__)
const INDEX = '/index.html'

self.addEventListener('install', (event) => {
  // `reload`: the shell of this version from the server, never a copy the HTTP cache kept.
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(__SHELL__.map((path) => new Request(path, { cache: 'reload' })))),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE) await caches.delete(name)
      }
      // The first worker takes the open page at once, so it works offline from then on. A later
      // one only gets here after the page asked for it (the update banner), and then reloads.
      await self.clients.claim()
    })(),
  )
})

self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === SKIP_WAITING) void self.skipWaiting()
})

self.addEventListener('fetch', (event) => {
  const { request } = event
  const url = new URL(request.url)
  if (url.origin !== self.location.origin) return
  if (request.method === 'POST' && url.pathname === SHARE_PATH) {
    event.respondWith(receiveShare(request))
    return
  }
  // Only the shell's own files are answered here; everything else (the API, /health, /oauth,
  // share pages, the API docs) always goes to the network, so nothing is ever served stale.
  if (request.method !== 'GET') return
  const path = request.mode === 'navigate' && url.pathname === '/' ? INDEX : url.pathname
  if (!SHELL.has(path)) return
  event.respondWith(fromShell(path, request))
})

async function fromShell(path: string, request: Request): Promise<Response> {
  const cached = await caches.match(path, { cacheName: SHELL_CACHE })
  return cached ?? fetch(request)
}

function redirect(landing: ShareLanding): Response {
  return Response.redirect(new URL(landingUrl(landing), self.location.origin).href, 303)
}

/** The share sheet's POST: keep what a normal upload would accept, leave it for the page, open the app. */
async function receiveShare(request: Request): Promise<Response> {
  let files: File[]
  try {
    const form = await request.formData()
    // A form with no file still sends the field once, as an empty part without a name: no file.
    files = form
      .getAll(SHARE_FIELD)
      .filter((value): value is File => value instanceof File && (value.name !== '' || value.size > 0))
  } catch {
    return redirect({ kind: 'unreadable' })
  }
  let session: SessionInfo
  try {
    const response = await fetch('/api/v1/session', { credentials: 'same-origin', cache: 'no-store' })
    if (!response.ok) throw new Error(`session: ${response.status}`)
    session = (await response.json()) as SessionInfo
  } catch {
    return redirect({ kind: 'unreachable' })
  }
  const plan = planShare(files, session.limits, session.image_count)
  const kept = plan.keep.map((index) => files[index]!)
  const id = crypto.randomUUID()
  try {
    await putShare(caches, id, kept, {
      shared: files.length,
      room: plan.room,
      kept: kept.length,
      refused: plan.refused,
      at: Date.now(),
    })
  } catch {
    // Storage refused (full, or the browser clearing it): the app still opens and says so.
    return redirect({ kind: 'unreadable' })
  }
  return redirect({ kind: 'stored', id })
}
