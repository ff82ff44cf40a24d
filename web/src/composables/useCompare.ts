import { inject, provide, ref, shallowRef, type InjectionKey, type Ref, type ShallowRef } from 'vue'
import type { ImageView, PreviewView } from '../api/types'

export type CompareMode = 'split' | 'side'
/** What a side of the compare view shows: a kept version, or the compression preview. */
export type CompareSide = number | 'preview'

/**
 * The editor's compare view, shared by the preview area (which shows it) and the tools that
 * feed it (the compression controls put their live preview there): open or not, split or side
 * by side, which version is "before" and which "after".
 */
export interface CompareState {
  open: Ref<boolean>
  mode: Ref<CompareMode>
  before: Ref<number>
  after: Ref<CompareSide>
  /** The live compression preview, shown as "after" when chosen. */
  preview: ShallowRef<PreviewView | null>
  /** A newer preview is being computed (the one shown is stale or absent). */
  previewBusy: Ref<boolean>
  /** Keep a preview's file as the image's new version. */
  applyPreview: (previewId: string) => Promise<ImageView | null>
}

const COMPARE: InjectionKey<CompareState> = Symbol('compare')

export function createCompare(applyPreview: CompareState['applyPreview']): CompareState {
  return {
    open: ref(false),
    mode: ref<CompareMode>('split'),
    before: ref(1),
    after: ref<CompareSide>(1),
    preview: shallowRef(null),
    previewBusy: ref(false),
    applyPreview,
  }
}

/** Opens the view on the current version against the one before it (or the original). */
export function compareCurrent(state: CompareState, image: ImageView): void {
  const current = image.current.number
  const earlier = image.versions.filter((v) => v.number < current).map((v) => v.number)
  state.after.value = current
  state.before.value = earlier.at(-1) ?? current
  state.open.value = true
}

/** Opens the view on the current version against its compression preview. */
export function comparePreview(state: CompareState, image: ImageView): void {
  state.before.value = image.current.number
  state.after.value = 'preview'
  state.open.value = true
}

export function provideCompare(state: CompareState): void {
  provide(COMPARE, state)
}

/** The editor's compare view, or null outside an editor. */
export function injectCompare(): CompareState | null {
  return inject(COMPARE, null)
}
