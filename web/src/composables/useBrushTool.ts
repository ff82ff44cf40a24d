import { computed, ref, shallowRef } from 'vue'
import { addPoint, roomForStroke, SIZE_RANGE, type BrushMode, type Stroke } from '../lib/brush'

/**
 * The erase/restore brush's state in the editor: the mode, the size, and the strokes painted
 * since it opened. Strokes stay in the browser (undo and redo are local) until Save sends them
 * as one operation; the saved result is a version, so the history's undo takes it back.
 */
export function useBrushTool() {
  const active = ref(false)
  const mode = ref<BrushMode>('erase')
  /** Radius in the picture's own pixels. */
  const size = ref(20)
  const strokes = shallowRef<readonly Stroke[]>([])
  const undone = shallowRef<readonly Stroke[]>([])
  const live = shallowRef<Stroke | null>(null)
  /** Bumped on every change the preview must draw. */
  const revision = ref(0)

  function reset(): void {
    strokes.value = []
    undone.value = []
    live.value = null
    revision.value++
  }

  /** Open on a picture of width × height px, with a brush about 2 % of its longer side. */
  function start(width: number, height: number): void {
    reset()
    const suggested = Math.round(Math.max(width, height) * 0.02)
    size.value = Math.min(SIZE_RANGE.max, Math.max(SIZE_RANGE.min, suggested))
    mode.value = 'erase'
    active.value = true
  }

  function cancel(): void {
    active.value = false
    reset()
  }

  const full = computed(() => !roomForStroke(strokes.value))

  /** Start a stroke at (x, y) in picture pixels; false when this save holds all it may. */
  function begin(x: number, y: number): boolean {
    if (full.value) return false
    live.value = { mode: mode.value, radius: size.value, points: [[x, y]] }
    revision.value++
    return true
  }

  function extend(x: number, y: number): void {
    if (live.value && addPoint(live.value, x, y)) revision.value++
  }

  function end(): void {
    if (!live.value) return
    strokes.value = [...strokes.value, live.value]
    undone.value = []
    live.value = null
    revision.value++
  }

  function undo(): void {
    const last = strokes.value.at(-1)
    if (!last) return
    strokes.value = strokes.value.slice(0, -1)
    undone.value = [...undone.value, last]
    revision.value++
  }

  function redo(): void {
    const next = undone.value.at(-1)
    if (!next) return
    undone.value = undone.value.slice(0, -1)
    strokes.value = [...strokes.value, next]
    revision.value++
  }

  return { active, mode, size, strokes, undone, live, revision, full, start, cancel, begin, extend, end, undo, redo }
}

export type BrushTool = ReturnType<typeof useBrushTool>
