import { ref, shallowRef } from 'vue'
import { aiApi, type AiApi } from '../api/ai'
import { toApiError, type ApiError } from '../api/client'
import type { AiModel, AiModels } from '../api/types'
import { useLatestRequest } from './useLatestRequest'

export type ModelKind = 'chat' | 'edit'

/**
 * The models AI chat and edits can use (from OpenRouter's catalogue, through the server) and
 * this session's choice of each. One per app: the settings dialog changes it, the editor reads it.
 */
export function useAiModels(client: AiApi = aiApi) {
  const catalogue = shallowRef<AiModels | null>(null)
  const error = shallowRef<ApiError | null>(null)
  /** The kind being saved, if any. */
  const saving = ref<ModelKind | null>(null)
  const saveError = shallowRef<ApiError | null>(null)
  const latest = useLatestRequest()

  function load(): Promise<void> {
    return latest.run((signal) => client.models(signal), {
      done: (value) => {
        catalogue.value = value
        error.value = null
      },
      failed: (caught) => {
        error.value = caught
      },
    })
  }

  /** Saves the session's choice; true when the server took it. */
  async function select(kind: ModelKind, id: string): Promise<boolean> {
    if (catalogue.value?.selected[kind] === id) return true
    saving.value = kind
    saveError.value = null
    try {
      // A load started before the save would bring back the old choice.
      latest.abort()
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
    latest.abort()
    catalogue.value = null
    error.value = null
    saveError.value = null
  }

  return { catalogue, loading: latest.loading, error, saving, saveError, load, select, selected, reset }
}

export type AiModelsState = ReturnType<typeof useAiModels>
