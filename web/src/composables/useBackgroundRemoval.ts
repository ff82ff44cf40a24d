import { inject, onScopeDispose, provide, ref, shallowRef, type InjectionKey } from 'vue'
import { toApiError, type ApiError } from '../api/client'
import { backgroundApi, type BackgroundApi } from '../api/background'
import type { BackgroundModels, ImageView, RemoveBackgroundOperation } from '../api/types'
import {
  backgroundErrorMessage,
  backgroundLabel,
  DEFAULT_SETTINGS,
  expectedSeconds,
  maskFilename,
  runProgress,
  type BackgroundSettings,
  type RunProgress,
} from '../lib/background'
import { saveBlob } from '../lib/download'
import { useToasts } from './useToasts'

/** A removal in flight for one image. */
export interface BackgroundRun {
  imageId: string
  /** From `clock`, in ms. */
  startedAt: number
  /** Pixels of the version being cut out: the expected duration scales with them. */
  width: number
  height: number
}

export interface BackgroundRemovalOptions {
  /** The image with its new version; the gallery swaps it in. */
  onResult?: (image: ImageView) => void
  /** Milliseconds; tests pass their own. */
  clock?: () => number
  /** How often elapsed time is refreshed while something runs. */
  tickMs?: number
}

/**
 * Background removal for the whole page: one run at most per image, from the card or the
 * editor, with its elapsed time, cancel (the aborted request makes the server drop the work),
 * the server's models and timing, and the panel's last choices. Failures become toasts worded
 * for people (busy with a retry time, model missing, or the server's message).
 */
export function useBackgroundRemoval(
  client: BackgroundApi = backgroundApi,
  { onResult, clock = () => Date.now(), tickMs = 200 }: BackgroundRemovalOptions = {},
) {
  const { notify } = useToasts()
  const runs = shallowRef<ReadonlyMap<string, BackgroundRun>>(new Map())
  const now = ref(clock())
  const models = shallowRef<BackgroundModels | null>(null)
  const modelsError = shallowRef<ApiError | null>(null)
  /** The editor panel's choices, kept while the page lives so that the next image starts from them. */
  const settings = ref<BackgroundSettings>({ ...DEFAULT_SETTINGS })
  const controllers = new Map<string, AbortController>()
  /** Runs stopped because their image went away: nobody needs to hear about those. */
  const silent = new Set<string>()
  let modelsRequest: Promise<void> | null = null
  let ticker: ReturnType<typeof setInterval> | null = null

  function setRun(id: string, run: BackgroundRun | null): void {
    const next = new Map(runs.value)
    if (run) next.set(id, run)
    else next.delete(id)
    runs.value = next
    if (next.size > 0 && ticker === null) {
      ticker = setInterval(() => (now.value = clock()), tickMs)
    } else if (next.size === 0 && ticker !== null) {
      clearInterval(ticker)
      ticker = null
    }
  }

  /** Fetches the models once (again with `force`, e.g. for fresher timing); concurrent calls share one request. */
  function loadModels(force = false): Promise<void> {
    if (modelsRequest) return modelsRequest
    if (models.value && !force) return Promise.resolve()
    modelsRequest = client
      .models()
      .then((list) => {
        models.value = list
        modelsError.value = null
      })
      .catch((caught: unknown) => {
        // A refresh that fails keeps the list we had: timing is a nicety, not a requirement.
        if (!models.value) modelsError.value = toApiError(caught)
      })
      .finally(() => {
        modelsRequest = null
      })
    return modelsRequest
  }

  function isRunning(id: string): boolean {
    return runs.value.has(id)
  }

  /** Elapsed time against this server's usual duration for the run on `id`; null when none runs. */
  function progressOf(id: string): RunProgress | null {
    const run = runs.value.get(id)
    if (!run) return null
    return runProgress(now.value - run.startedAt, expectedSeconds(models.value?.timing, run.width, run.height))
  }

  /** Removes the background of the image's current version; the image with its new version, or null. */
  async function start(image: ImageView, operation: RemoveBackgroundOperation): Promise<ImageView | null> {
    const id = image.id
    if (controllers.has(id)) return null
    const controller = new AbortController()
    controllers.set(id, controller)
    now.value = clock()
    setRun(id, { imageId: id, startedAt: now.value, width: image.current.width, height: image.current.height })
    void loadModels()
    try {
      const result = await client.remove(id, operation, controller.signal)
      onResult?.(result)
      notify(`${backgroundLabel({ background: operation.background })}: ${result.filename}`, { kind: 'success' })
      // The server folds every run into its timing: the next estimate is better for it.
      void loadModels(true)
      return result
    } catch (caught) {
      if (controller.signal.aborted) {
        if (!silent.has(id)) notify('Cancelled. The image was not changed.')
      } else {
        notify(backgroundErrorMessage(toApiError(caught)), { kind: 'error' })
      }
      return null
    } finally {
      controllers.delete(id)
      silent.delete(id)
      setRun(id, null)
    }
  }

  /**
   * Stops the run on `id`: the request is dropped and the server creates no version. `quiet` when
   * the image itself went away, so there is nothing to tell.
   */
  function cancel(id: string, { quiet = false }: { quiet?: boolean } = {}): void {
    const controller = controllers.get(id)
    if (!controller) return
    if (quiet) silent.add(id)
    controller.abort()
  }

  const downloadingMask = ref(false)

  /** Saves the mask of the image's current version (a background-removal result) as a PNG. */
  async function downloadMask(image: ImageView): Promise<void> {
    if (downloadingMask.value) return
    downloadingMask.value = true
    try {
      const { blob, filename } = await client.mask(image.id, image.current.number)
      saveBlob(blob, filename ?? maskFilename(image.download_name))
    } catch (caught) {
      notify(`Couldn't download the mask: ${toApiError(caught).message}`, { kind: 'error' })
    } finally {
      downloadingMask.value = false
    }
  }

  onScopeDispose(() => {
    for (const controller of controllers.values()) controller.abort()
    if (ticker !== null) clearInterval(ticker)
  })

  return {
    runs,
    models,
    modelsError,
    settings,
    downloadingMask,
    loadModels,
    isRunning,
    progressOf,
    start,
    cancel,
    downloadMask,
  }
}

export type BackgroundRemoval = ReturnType<typeof useBackgroundRemoval>

/** What the card's quick action and the editor's panel share. */
export interface BackgroundContext {
  removal: BackgroundRemoval
  /** The session's images, for "another image as the background". */
  images: () => readonly ImageView[]
}

const KEY: InjectionKey<BackgroundContext> = Symbol('background-removal')

/** Makes background removal available to the components below (App.vue). */
export function provideBackground(context: BackgroundContext): void {
  provide(KEY, context)
}

/** The page's background removal; null where none was provided (the feature is then not shown). */
export function injectBackground(): BackgroundContext | null {
  return inject(KEY, null)
}
