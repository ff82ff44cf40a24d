import { computed, ref, watch } from 'vue'
import { aspectRatio, centredRect, fitAspect, roundRect, type AspectChoice, type Rect, type Size } from '../lib/crop'

/**
 * The editor's crop mode: the rectangle (in pixels of the current version), its aspect choice,
 * and leaving the mode. `bounds` is the current version's size; `version` its number, since a
 * new version from elsewhere (undo, a shortcut) makes the rectangle meaningless.
 */
export function useCropTool(bounds: () => Size, version: () => number) {
  const active = ref(false)
  const aspect = ref<AspectChoice>('free')
  const portrait = ref(false)
  const rect = ref<Rect>({ x: 0, y: 0, width: 1, height: 1 })
  const ratio = computed(() => aspectRatio(aspect.value, portrait.value))
  const pixels = computed(() => roundRect(rect.value, bounds()))

  function start(): void {
    const size = bounds()
    aspect.value = 'free'
    portrait.value = size.height > size.width
    // Inset from the edges, so that the handles are visible and Apply crops something.
    rect.value = centredRect(size, null, 0.8)
    active.value = true
  }

  function setAspect(choice: AspectChoice): void {
    aspect.value = choice
    rect.value = fitAspect(rect.value, ratio.value, bounds())
  }

  function swapOrientation(): void {
    portrait.value = !portrait.value
    rect.value = fitAspect(rect.value, ratio.value, bounds())
  }

  function cancel(): void {
    active.value = false
  }

  watch(version, cancel)

  return { active, aspect, portrait, rect, ratio, pixels, start, setAspect, swapOrientation, cancel }
}
