import { shallowRef } from 'vue'
import { toApiError } from '../api/client'
import { imagesApi, type ImagesApi } from '../api/images'
import type { Preset, ProfileInput } from '../api/types'
import { useToasts } from './useToasts'

/** System presets merged with the session's own profiles, and their create/edit/delete. */
export function usePresets(client: ImagesApi = imagesApi) {
  const { notify } = useToasts()
  const presets = shallowRef<readonly Preset[]>([])

  async function load(): Promise<void> {
    try {
      presets.value = (await client.presets()).presets
    } catch (caught) {
      notify(`Couldn't load the compression presets: ${toApiError(caught).message}`, { kind: 'error' })
    }
  }

  function upsert(preset: Preset): void {
    const exists = presets.value.some((p) => p.id === preset.id)
    presets.value = exists ? presets.value.map((p) => (p.id === preset.id ? preset : p)) : [...presets.value, preset]
  }

  /** Saves a new profile; returns it, or null after showing why it failed. */
  async function create(input: ProfileInput): Promise<Preset | null> {
    try {
      const preset = await client.createProfile(input)
      upsert(preset)
      notify(`Saved the profile “${preset.name}”.`, { kind: 'success' })
      return preset
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      return null
    }
  }

  /** Changes a profile, or overrides a system preset for this session. */
  async function update(id: string, input: ProfileInput): Promise<Preset | null> {
    try {
      const preset = await client.updateProfile(id, input)
      upsert(preset)
      notify(`Saved “${preset.name}”.`, { kind: 'success' })
      return preset
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      return null
    }
  }

  /** Deletes a profile, or resets a system preset to its default. */
  async function remove(id: string): Promise<boolean> {
    const before = presets.value.find((p) => p.id === id)
    try {
      presets.value = (await client.deleteProfile(id)).presets
      if (before) notify(before.system ? `“${before.name}” is back to its default.` : `Deleted “${before.name}”.`, { kind: 'success' })
      return true
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      return false
    }
  }

  return { presets, load, create, update, remove }
}

export type PresetsState = ReturnType<typeof usePresets>
