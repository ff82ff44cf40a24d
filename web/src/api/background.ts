import { api, type ApiClient, type BlobResult } from './client'
import type { BackgroundModels, ImageView, RemoveBackgroundOperation } from './types'

function image(id: string): string {
  return `/api/v1/images/${encodeURIComponent(id)}`
}

/** Typed calls for background removal (API.md, "Background removal"). */
export function createBackgroundApi(client: ApiClient = api) {
  return {
    /** The installed models and this server's measured timing; 503 when no model could be loaded. */
    models: (signal?: AbortSignal) => client.get<BackgroundModels>('/api/v1/background/models', signal),
    /**
     * Runs the removal and returns the image with its new version. Aborting `signal` drops the
     * request, and the server then creates no version.
     */
    remove: (id: string, operation: RemoveBackgroundOperation, signal?: AbortSignal) =>
      client.post<ImageView>(`${image(id)}/operations`, operation, signal),
    /** The greyscale mask (PNG, full resolution) of a background-removal version; the current one by default. */
    mask: (id: string, version?: number, signal?: AbortSignal): Promise<BlobResult> =>
      client.blob('GET', `${image(id)}/mask${version === undefined ? '' : `?version=${version}`}`, { signal }),
  }
}

export type BackgroundApi = ReturnType<typeof createBackgroundApi>

/** The app's background calls. The composable takes a BackgroundApi so that tests can pass a fake. */
export const backgroundApi = createBackgroundApi()
