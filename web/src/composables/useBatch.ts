import { computed, ref, shallowRef } from 'vue'
import { batchesApi, type BatchesApi } from '../api/batches'
import { toApiError } from '../api/client'
import type { BatchOperation, ImageView } from '../api/types'
import { applyStep, batchRows, endRows, newBatchId, type BatchRow } from '../lib/batch'

export type BatchOutcome = 'complete' | 'cancelled' | 'stopped'

/**
 * One batch at a time for the page: its rows (one per photo, updated as the server reports),
 * cancel (an abort: the server keeps finished photos and stores nothing of the one in flight),
 * and the outcome. Each finished photo's image goes to `onResult` as it arrives; `onEnded` runs
 * when the batch is over, however it ended (photos may have been deleted elsewhere meanwhile).
 */
export function useBatch(
  options: { onResult: (image: ImageView) => void; onEnded: () => void },
  client: BatchesApi = batchesApi,
) {
  const rows = shallowRef<BatchRow[]>([])
  const running = ref(false)
  const outcome = ref<BatchOutcome | null>(null)
  /** Why the batch did not run (refused) or stopped (the connection dropped). */
  const problem = ref<string | null>(null)
  let controller: AbortController | null = null

  const doneIds = computed(() => rows.value.filter((row) => row.state === 'done').map((row) => row.id))
  const failed = computed(() => rows.value.filter((row) => row.state === 'failed'))
  const current = computed(() => rows.value.findIndex((row) => row.state === 'running'))
  const finishedCount = computed(() => rows.value.filter((row) => row.state === 'done' || row.state === 'failed').length)

  async function run(images: readonly ImageView[], operation: BatchOperation): Promise<void> {
    if (running.value) return
    rows.value = batchRows(images)
    outcome.value = null
    problem.value = null
    running.value = true
    const abort = (controller = new AbortController())
    const request = { batch_id: newBatchId(), image_ids: images.map((image) => image.id), operation }
    try {
      for await (const event of client.run(request, abort.signal)) {
        if (event.type === 'progress') {
          rows.value = applyStep(rows.value, event)
          if (event.state === 'done' && event.image) options.onResult(event.image)
        } else {
          outcome.value = 'complete'
        }
      }
    } catch (caught) {
      const cancelled = abort.signal.aborted
      rows.value = endRows(rows.value, cancelled)
      outcome.value = cancelled ? 'cancelled' : 'stopped'
      if (!cancelled) problem.value = toApiError(caught).message
    } finally {
      running.value = false
      controller = null
      options.onEnded()
    }
  }

  function cancel(): void {
    controller?.abort()
  }

  return { rows, running, outcome, problem, doneIds, failed, current, finishedCount, run, cancel }
}

export type Batch = ReturnType<typeof useBatch>
