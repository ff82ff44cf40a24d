import { inject, provide, type InjectionKey, type Ref } from 'vue'

/**
 * What a zoom/pan viewer tells the tools laid over its picture (the compare slider): whether the
 * picture is zoomed in, in which case a one-finger or mouse drag pans rather than moving the
 * tool. (A two-finger gesture needs no word: the viewer captures both pointers.)
 */
export interface ZoomContext {
  zoomed: Readonly<Ref<boolean>>
}

const ZOOM_CONTEXT: InjectionKey<ZoomContext> = Symbol('zoom-context')

export function provideZoom(context: ZoomContext): void {
  provide(ZOOM_CONTEXT, context)
}

/** The viewer around this component, or null outside one. */
export function injectZoom(): ZoomContext | null {
  return inject(ZOOM_CONTEXT, null)
}
