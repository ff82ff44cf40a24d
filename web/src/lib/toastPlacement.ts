/** The screen edge toasts stack against. */
export type ToastEdge = 'top' | 'bottom'

/** The part of a control's box that matters here (a DOMRect will do). */
export interface VerticalBox {
  top: number
  bottom: number
}

/**
 * Toasts go to the screen edge away from the control that was just used, so that they never
 * cover it (the card's Remove BG, the chat's Send, a tool in the phone's bottom sheet): at the
 * bottom as usual, unless that control sits in the lower half of the window.
 */
export function toastEdge(control: VerticalBox | null, viewportHeight: number): ToastEdge {
  if (!control || viewportHeight <= 0) return 'bottom'
  const middle = (control.top + control.bottom) / 2
  return middle > viewportHeight / 2 ? 'top' : 'bottom'
}
