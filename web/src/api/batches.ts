import { api, type ApiClient } from './client'
import { streamEvents, unreadable } from './stream'
import type { BatchOperation, BatchStep, BatchSummary } from './types'

/** What a batch stream yields: each photo's steps as they happen, then the summary. */
export type BatchEvent = ({ type: 'progress' } & BatchStep) | ({ type: 'done' } & BatchSummary)

export interface BatchRequest {
  /** Made here (a UUID): sending the same batch again changes nothing twice. */
  batch_id: string
  image_ids: readonly string[]
  operation: BatchOperation
}

const ENDINGS = {
  dropped: 'The connection dropped during the batch. Photos marked done were changed; the rest were not.',
  cutOff: 'The batch stopped before it finished. Photos marked done were changed; the rest were not.',
}

/**
 * Runs a batch and yields its progress as it streams. Refused batches (unknown or repeated
 * photos, a bad operation) throw ApiError before anything runs. Aborting `signal` cancels the
 * batch on the server: finished photos stay changed, the one in flight and the rest are not.
 */
export async function* streamBatch(
  client: ApiClient,
  request: BatchRequest,
  signal?: AbortSignal,
): AsyncGenerator<BatchEvent, void, undefined> {
  for await (const { event, data, status } of streamEvents(client, '/api/v1/batches', request, ENDINGS, signal)) {
    if (event === 'progress') {
      if (typeof data.image_id !== 'string' || typeof data.state !== 'string') throw unreadable(status)
      yield { type: 'progress', ...(data as unknown as BatchStep) }
    } else if (event === 'done') {
      if (!Array.isArray(data.done) || !Array.isArray(data.failed)) throw unreadable(status)
      yield { type: 'done', ...(data as unknown as BatchSummary) }
      return
    }
  }
}

/** The app's batch call. useBatch takes a BatchesApi so that tests can pass a fake. */
export function createBatchesApi(client: ApiClient = api) {
  return {
    run: (request: BatchRequest, signal?: AbortSignal) => streamBatch(client, request, signal),
  }
}

export type BatchesApi = ReturnType<typeof createBatchesApi>

export const batchesApi = createBatchesApi()
