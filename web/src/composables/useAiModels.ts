import { onScopeDispose, ref, shallowRef } from 'vue'
import { aiApi, type AiApi } from '../api/ai'
import { toApiError, type ApiError } from '../api/client'
import type { AiModel, AiModels } from '../api/types'

export type ModelKind = 'chat' | 'edit'

/**
 * The models AI chat and edits can use (from OpenRouter's catalogue, through the server) and
 * this session's choice of each. One per app: the settings dialog changes it, the editor reads it.
 */
export function useAiModels(client: AiApi = aiApi) {
  const catalogue = shallowRef<AiModels | null>(null)
  const loading = ref(false)
  const error = shallowRef<ApiError | null>(null)
  /** The kind being saved, if any. */
  const saving = ref<ModelKind | null>(null)
  const saveError = shallowRef<ApiError | null>(null)
  let inFlight: AbortController | null = null

  async function load(): Promise<void> {
    inFlight?.abort()
    const controller = new AbortController()
    inFlight = controller
    loading.value = true
    try {
      catalogue.value = await client.models(controller.signal)
      error.value = null
    } catch (caught) {
      if (controller.signal.aborted) return
      error.value = toApiError(caught)
    } finally {
      if (inFlight === controller) {
        inFlight = null
        loading.value = false
      }
    }
  }

  /** Saves the session's choice; true when the server took it. */
  async function select(kind: ModelKind, id: string): Promise<boolean> {
    if (catalogue.value?.selected[kind] === id) return true
    saving.value = kind
    saveError.value = null
    try {
      // A load started before the save would bring back the old choice.
      inFlight?.abort()
      catalogue.value = await client.selectModels({ [kind]: id })
      return true
    } catch (caught) {
      saveError.value = toApiError(caught)
      return false
    } finally {
      saving.value = null
    }
  }

  /** The chosen model of a kind, when the list has it. */
  function selected(kind: ModelKind): AiModel | null {
    const list = catalogue.value
    if (!list) return null
    return list[kind].find((model) => model.id === list.selected[kind]) ?? null
  }

  /** Forgets the list (disconnected: it may differ with the next key). */
  function reset(): void {
    inFlight?.abort()
    catalogue.value = null
    error.value = null
    saveError.value = null
  }

  onScopeDispose(() => inFlight?.abort())

  return { catalogue, loading, error, saving, saveError, load, select, selected, reset }
}

export type AiModelsState = ReturnType<typeof useAiModels>
