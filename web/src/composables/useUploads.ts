import { computed, onScopeDispose, reactive, ref } from 'vue'
import { toApiError } from '../api/client'
import type { UploadOptions } from '../api/client'
import type { ImageView, SessionLimits, UploadResult } from '../api/types'
import { progressPercent } from '../lib/bytes'
import { isRetryable, refuseBeforeUpload, uploadErrorMessage } from '../lib/uploads'

/** queued → uploading (bytes going up) → processing (server working) → gone, or error. */
export type UploadState = 'queued' | 'uploading' | 'processing' | 'error'

export interface UploadRow {
  id: number
  name: string
  size: number
  state: UploadState
  /** 0–100 while uploading. */
  percent: number
  error: string | null
  /** Worth offering "Try again" (network trouble, a server hiccup). */
  retryable: boolean
}

export type UploadFn = (file: File, options: UploadOptions) => Promise<UploadResult>

export interface UploadsOptions {
  upload: UploadFn
  /** The session's limits; null until the session has loaded (files then wait). */
  limits: () => SessionLimits | null
  /** Images the session holds now, to refuse files that cannot fit before sending them. */
  imageCount: () => number
  /** Each uploaded image, as soon as its request succeeds. */
  onUploaded: (images: ImageView[]) => void
  /** Requests at once; the browser allows six per host and the page needs some too. */
  concurrency?: number
  /**
   * Whether this browser has a session yet. Without one the first stored file starts it (and sets
   * the cookie), so files go one at a time until then: parallel ones would each start their own.
   */
  hasSession?: () => boolean
}

/** A queue of per-file uploads, at most `concurrency` at a time, each with its own row. */
export function useUploads({
  upload,
  limits,
  imageCount,
  onUploaded,
  concurrency = 3,
  hasSession = () => true,
}: UploadsOptions) {
  const rows = ref<UploadRow[]>([])
  const files = new Map<number, File>()
  const controllers = new Map<number, AbortController>()
  let nextId = 1
  let running = 0

  const active = computed(() => rows.value.filter((row) => row.state !== 'error').length)
  const busy = computed(() => active.value > 0)

  function findRow(id: number): UploadRow | undefined {
    return rows.value.find((row) => row.id === id)
  }

  function removeRow(id: number): void {
    rows.value = rows.value.filter((row) => row.id !== id)
    files.delete(id)
  }

  function fail(row: UploadRow, message: string, retryable: boolean): void {
    row.state = 'error'
    row.error = message
    row.retryable = retryable
    row.percent = 0
  }

  /** Free slots, counting the files already on their way. */
  function freeSlots(limit: SessionLimits): number {
    const pending = rows.value.filter((row) => row.state !== 'error').length
    return limit.max_images - imageCount() - pending
  }

  function enqueue(file: File, row: UploadRow): void {
    const limit = limits()
    const refusal = limit ? refuseBeforeUpload(file, limit, freeSlots(limit)) : null
    rows.value.push(row)
    const live = rows.value[rows.value.length - 1]!
    if (refusal) fail(live, refusal, false)
    else files.set(row.id, file)
  }

  /** Queues files in the order given; each one is refused or uploaded on its own. */
  function add(list: readonly File[]): void {
    for (const file of list) {
      enqueue(
        file,
        reactive({ id: nextId++, name: file.name, size: file.size, state: 'queued', percent: 0, error: null, retryable: false }),
      )
    }
    pump()
  }

  function pump(): void {
    while (running < (hasSession() ? concurrency : 1)) {
      const next = rows.value.find((row) => row.state === 'queued')
      if (!next) return
      void start(next)
    }
  }

  async function start(row: UploadRow): Promise<void> {
    const file = files.get(row.id)
    if (!file) {
      removeRow(row.id)
      return
    }
    running += 1
    row.state = 'uploading'
    row.percent = 0
    const controller = new AbortController()
    controllers.set(row.id, controller)
    try {
      const result = await upload(file, {
        signal: controller.signal,
        onProgress: (loaded, total) => {
          if (row.state === 'uploading') row.percent = progressPercent(loaded, total)
        },
        onSent: () => {
          row.percent = 100
          row.state = 'processing'
        },
      })
      if (result.images.length > 0) onUploaded(result.images)
      const refused = result.errors[0]
      if (refused) fail(row, refused.message, false)
      else removeRow(row.id)
    } catch (caught) {
      if (controller.signal.aborted) {
        removeRow(row.id)
      } else {
        const error = toApiError(caught)
        fail(row, uploadErrorMessage(error, file.name, limits()), isRetryable(error))
      }
    } finally {
      controllers.delete(row.id)
      running -= 1
      pump()
    }
  }

  /** Rows for files refused before they reached this queue (a share the service worker trimmed), like its own refusals. */
  function refuse(list: readonly { name: string; size: number; message: string }[]): void {
    for (const { name, size, message } of list) {
      rows.value.push(reactive({ id: nextId++, name, size, state: 'error', percent: 0, error: message, retryable: false }))
    }
  }

  /** Hides an error row. */
  function dismiss(id: number): void {
    const row = findRow(id)
    if (row?.state === 'error') removeRow(id)
  }

  /** Stops an upload that is waiting or running; its row goes away. */
  function cancel(id: number): void {
    const row = findRow(id)
    if (!row) return
    if (row.state === 'queued') removeRow(id)
    else controllers.get(id)?.abort()
  }

  /** Sends a failed file again (only for errors that are worth retrying). */
  function retry(id: number): void {
    const row = findRow(id)
    if (!row || row.state !== 'error' || !files.has(id)) return
    row.state = 'queued'
    row.error = null
    row.retryable = false
    pump()
  }

  function dismissAllErrors(): void {
    for (const row of rows.value.filter((r) => r.state === 'error')) removeRow(row.id)
  }

  onScopeDispose(() => {
    for (const controller of controllers.values()) controller.abort()
  })

  return { rows, busy, active, add, refuse, dismiss, cancel, retry, dismissAllErrors }
}
