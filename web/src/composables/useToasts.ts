import { computed, readonly, shallowRef } from 'vue'

export type ToastKind = 'info' | 'success' | 'error'

export interface Toast {
  id: number
  kind: ToastKind
  message: string
}

export interface NotifyOptions {
  kind?: ToastKind
  /** 0 keeps the toast until dismissed. Errors default to staying: they may need reading twice. */
  timeoutMs?: number
}

// One notification area per page, so the state is module-wide rather than per component.
const toasts = shallowRef<readonly Toast[]>([])
const timers = new Map<number, ReturnType<typeof setTimeout>>()
let nextId = 1

/** At most this many on screen; the oldest go first. */
const MAX_VISIBLE = 4

function clearTimer(id: number): void {
  clearTimeout(timers.get(id))
  timers.delete(id)
}

function dismiss(id: number): void {
  clearTimer(id)
  toasts.value = toasts.value.filter((toast) => toast.id !== id)
}

function notify(message: string, { kind = 'info', timeoutMs }: NotifyOptions = {}): number {
  const id = nextId++
  const next = [...toasts.value, { id, kind, message }]
  const overflow = Math.max(0, next.length - MAX_VISIBLE)
  for (const dropped of next.slice(0, overflow)) clearTimer(dropped.id)
  toasts.value = next.slice(overflow)

  const timeout = timeoutMs ?? (kind === 'error' ? 0 : 6_000)
  if (timeout > 0) timers.set(id, setTimeout(() => dismiss(id), timeout))
  return id
}

// A modal <dialog> sits in the browser's top layer, above any z-index, and makes the rest of
// the page inert: toasts shown while one is open must live inside it to be seen and dismissed.
const layers = shallowRef<readonly HTMLElement[]>([])

/** Shows toasts inside `element` (an open modal dialog) until `popLayer` is called for it. */
function pushLayer(element: HTMLElement): void {
  layers.value = [...layers.value.filter((el) => el !== element), element]
}

function popLayer(element: HTMLElement): void {
  layers.value = layers.value.filter((el) => el !== element)
}

/** Where toasts render now: the topmost open modal, or null for their place in the page. */
const layer = computed(() => layers.value[layers.value.length - 1] ?? null)

export function useToasts() {
  return { toasts: readonly(toasts), notify, dismiss, layer, pushLayer, popLayer }
}
