import { computed, ref, shallowRef } from 'vue'
import { toApiError, type ApiError } from '../api/client'
import { imagesApi, type ImagesApi } from '../api/images'
import type { ImageView, Operation } from '../api/types'
import { archiveName, saveBlob } from '../lib/download'
import { plural } from '../lib/plural'
import { useLatestRequest } from './useLatestRequest'
import { useToasts } from './useToasts'

/**
 * The session's images, the selection, and every call that changes them. Failures are shown
 * as toasts with the server's message and leave the state as it was.
 */
export function useImages(client: ImagesApi = imagesApi, { onChanged }: { onChanged?: () => void } = {}) {
  const { notify } = useToasts()
  const images = shallowRef<readonly ImageView[]>([])
  const loaded = ref(false)
  const loadError = shallowRef<ApiError | null>(null)
  const selected = shallowRef<ReadonlySet<string>>(new Set())
  /** Images with an operation in flight: their controls are disabled. */
  const busy = shallowRef<ReadonlySet<string>>(new Set())
  const archiving = ref(false)
  const listing = useLatestRequest()
  /** Counts changes made here (uploads, operations' results, deletes) to tell a stale list. */
  let localChanges = 0

  const selectedIds = computed(() => images.value.filter((image) => selected.value.has(image.id)).map((i) => i.id))
  const allSelected = computed(() => images.value.length > 0 && selectedIds.value.length === images.value.length)

  function byId(id: string): ImageView | undefined {
    return images.value.find((image) => image.id === id)
  }

  async function load(): Promise<void> {
    // A list asked for before an upload (or another change made here) finished would make that
    // photo vanish when it arrives: such a list is stale, so ask again.
    for (let stale = true; stale; ) {
      const changesBefore = localChanges
      stale = false
      await listing.run((signal) => client.list(signal), {
        done: (list) => {
          if (localChanges !== changesBefore) {
            stale = true
            return
          }
          images.value = list.images
          loadError.value = null
          loaded.value = true
          prune()
        },
        failed: (caught) => {
          loadError.value = caught
        },
      })
    }
  }

  /** Every change made here, rather than read from the server, goes through this. */
  function setLocal(next: readonly ImageView[]): void {
    images.value = next
    localChanges += 1
  }

  /** Newly uploaded images go first (the list is newest first). */
  function add(added: readonly ImageView[]): void {
    const ids = new Set(added.map((image) => image.id))
    setLocal([...added, ...images.value.filter((image) => !ids.has(image.id))])
    onChanged?.()
  }

  function replace(image: ImageView): void {
    setLocal(images.value.map((existing) => (existing.id === image.id ? image : existing)))
  }

  function dropLocal(ids: readonly string[]): void {
    const gone = new Set(ids)
    setLocal(images.value.filter((image) => !gone.has(image.id)))
    prune()
  }

  /** Keeps the selection to images that still exist. */
  function prune(): void {
    const present = new Set(images.value.map((image) => image.id))
    const kept = [...selected.value].filter((id) => present.has(id))
    if (kept.length !== selected.value.size) selected.value = new Set(kept)
  }

  function setSelected(id: string, on: boolean): void {
    const next = new Set(selected.value)
    if (on) next.add(id)
    else next.delete(id)
    selected.value = next
  }

  function selectAll(): void {
    selected.value = new Set(images.value.map((image) => image.id))
  }

  function clearSelection(): void {
    selected.value = new Set()
  }

  function setBusy(id: string, on: boolean): void {
    const next = new Set(busy.value)
    if (on) next.add(id)
    else next.delete(id)
    busy.value = next
  }

  /** Runs a call that returns the image's new state; null (and a toast) when it fails. */
  async function change(id: string, call: () => Promise<ImageView>): Promise<ImageView | null> {
    if (busy.value.has(id)) return null
    setBusy(id, true)
    try {
      const image = await call()
      replace(image)
      return image
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      return null
    } finally {
      setBusy(id, false)
    }
  }

  const apply = (id: string, operation: Operation) => change(id, () => client.apply(id, operation))
  const undo = (id: string) => change(id, () => client.undo(id))
  const redo = (id: string) => change(id, () => client.redo(id))
  const revert = (id: string, version: number) => change(id, () => client.revert(id, version))
  const applyPreview = (id: string, previewId: string) => change(id, () => client.applyPreview(id, previewId))

  /** Deletes one image; true when it is gone. */
  async function remove(id: string): Promise<boolean> {
    try {
      await client.remove(id)
      dropLocal([id])
      onChanged?.()
      return true
    } catch (caught) {
      const error = toApiError(caught)
      // Already gone (another tab, expiry): the goal is reached.
      if (error.status === 404) {
        dropLocal([id])
        onChanged?.()
        return true
      }
      notify(error.message, { kind: 'error' })
      return false
    }
  }

  async function removeSelected(): Promise<void> {
    const ids = selectedIds.value
    if (ids.length === 0) return
    try {
      const { deleted } = await client.removeMany(ids)
      dropLocal(ids)
      notify(`Deleted ${plural(deleted, 'image')}.`, { kind: 'success' })
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      await load()
    } finally {
      onChanged?.()
    }
  }

  async function clearAll(): Promise<void> {
    try {
      const { deleted } = await client.clear()
      setLocal([])
      clearSelection()
      notify(`Deleted ${plural(deleted, 'image')}.`, { kind: 'success' })
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
      await load()
    } finally {
      onChanged?.()
    }
  }

  /** Downloads the selected images as one ZIP. */
  async function downloadSelected(): Promise<void> {
    const ids = selectedIds.value
    if (ids.length === 0 || archiving.value) return
    archiving.value = true
    try {
      const { blob, filename } = await client.archive(ids)
      saveBlob(blob, filename ?? archiveName())
    } catch (caught) {
      notify(toApiError(caught).message, { kind: 'error' })
    } finally {
      archiving.value = false
    }
  }

  /** Forgets everything (the session was deleted). */
  function reset(): void {
    setLocal([])
    clearSelection()
    loaded.value = false
  }

  return {
    images,
    loaded,
    loadError,
    selected,
    selectedIds,
    allSelected,
    busy,
    archiving,
    byId,
    load,
    add,
    replace,
    setSelected,
    selectAll,
    clearSelection,
    apply,
    undo,
    redo,
    revert,
    applyPreview,
    remove,
    removeSelected,
    clearAll,
    downloadSelected,
    reset,
  }
}

export type ImagesState = ReturnType<typeof useImages>
