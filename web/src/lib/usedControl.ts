import { nextTick } from 'vue'

/**
 * The control the person used last (clicked, tapped, or pressed Enter/Space on): toasts keep
 * clear of it, and an operation gives focus back to it when it ends. An operation disables its
 * control while it runs (the browser then drops focus to the page) or even replaces it (the
 * card's Remove BG becomes a progress bar); a control that is replaced names its successor with
 * the same `data-focus-key`.
 */

const CONTROL = 'button, a[href], input, select, textarea, [role="button"], [role="tab"], [tabindex]'

interface Used {
  element: HTMLElement
  /** Where it was when used, for when it has gone since. */
  box: { top: number; bottom: number }
}

let used: Used | null = null
let listening = false

function remember(event: Event): void {
  const control = event.target instanceof Element ? event.target.closest<HTMLElement>(CONTROL) : null
  if (!control) return
  const { top, bottom } = control.getBoundingClientRect()
  used = { element: control, box: { top, bottom } }
}

/** Starts watching for used controls (once per page; App's toast host calls it). */
export function trackUsedControls(): void {
  if (listening) return
  listening = true
  // Capture phase: seen before a handler disables or replaces the control. Keyboard activation
  // of a button is a click too; a select or a slider reports a change.
  document.addEventListener('click', remember, true)
  document.addEventListener('change', remember, true)
}

/** Where the last used control is on screen now (or was, if it has gone), or null. */
export function usedControlBox(): { top: number; bottom: number } | null {
  if (!used) return null
  if (!used.element.isConnected) return used.box
  const { top, bottom } = used.element.getBoundingClientRect()
  return { top, bottom }
}

function usable(element: Element | null): element is HTMLElement {
  return (
    element instanceof HTMLElement &&
    element.isConnected &&
    !element.matches(':disabled') &&
    !element.closest('[inert], [hidden]') &&
    element.getClientRects().length > 0
  )
}

/**
 * Runs `work` (an operation started from a control) and then puts focus back on that control,
 * or on its successor, unless the person has meanwhile moved focus somewhere usable. When
 * neither can take focus now (a Send left disabled by an emptied box), `fallback` gets it.
 */
export async function returningFocus<T>(work: () => Promise<T>, fallback?: () => HTMLElement | null): Promise<T> {
  const active = document.activeElement
  const origin =
    active instanceof HTMLElement && active !== document.body ? active : used?.element.isConnected ? used.element : null
  const key = origin?.dataset.focusKey ?? null
  try {
    return await work()
  } finally {
    await nextTick()
    const now = document.activeElement
    const movedOn = now !== null && now !== document.body && now !== origin && usable(now)
    if (origin && !movedOn) {
      const target = origin.isConnected
        ? origin
        : key
          ? document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)
          : null
      const next = usable(target) ? target : (fallback?.() ?? null)
      if (usable(next)) next.focus({ preventScroll: true })
    }
  }
}
