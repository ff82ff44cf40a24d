import { computed, inject, provide, type ComputedRef, type InjectionKey } from 'vue'
import type { AiApi } from '../api/ai'
import type { ImageView } from '../api/types'
import type { AiModelsState } from './useAiModels'
import type { OpenRouterConnection } from './useOpenRouter'

/**
 * What the editor's AI panels need from the app: the one OpenRouter connection and model
 * choice, a way to open the AI settings dialog, and the gallery's hook for a new image state.
 * Provided once by App, so the editor itself does not have to pass any of it along.
 */
export interface AiContext {
  connection: OpenRouterConnection
  models: AiModelsState
  openSettings: () => void
  /** An AI edit made a new version: the gallery shows it (and the editor with it). */
  replaceImage: (image: ImageView) => void
  /** An AI edit of this image started or ended: the editor stays locked meanwhile. */
  setEditing?: (imageId: string, running: boolean) => void
  /** Tests pass a fake; the app's real calls otherwise. */
  client?: AiApi
}

const AI_CONTEXT: InjectionKey<AiContext> = Symbol('ai-context')

export function provideAi(context: AiContext): void {
  provide(AI_CONTEXT, context)
}

export function useAiContext(): AiContext {
  const context = inject(AI_CONTEXT, null)
  if (!context) throw new Error('useAiContext() needs provideAi() in an ancestor')
  return context
}

/** Whether AI calls have a key to use: the person's own, or the server's shared one. */
export function aiReady(connection: OpenRouterConnection): ComputedRef<boolean> {
  return computed(() => connection.status.value?.state === 'connected')
}
