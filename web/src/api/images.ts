import { api, type ApiClient, type BlobResult, type UploadOptions } from './client'
import type {
  CompressRequest,
  DeletedCount,
  ImageList,
  ImageMetadata,
  ImageView,
  Operation,
  Preset,
  PresetList,
  PreviewView,
  PrivacySettings,
  ProfileInput,
  ShareLink,
  ShareLinkCreated,
  UploadResult,
} from './types'

const IMAGES = '/api/v1/images'

function image(id: string): string {
  return `${IMAGES}/${encodeURIComponent(id)}`
}

function profile(id: string): string {
  return `/api/v1/profiles/${encodeURIComponent(id)}`
}

/** Typed calls for images, their operations and compression presets. */
export function createImagesApi(client: ApiClient = api) {
  return {
    list: (signal?: AbortSignal) => client.get<ImageList>(IMAGES, signal),
    get: (id: string, signal?: AbortSignal) => client.get<ImageView>(image(id), signal),
    /** One file per request, so that each has its own progress and its own error. */
    upload: (file: File, options?: UploadOptions) => client.upload<UploadResult>(IMAGES, file, options),
    remove: (id: string) => client.delete<void>(image(id)),
    removeMany: (ids: readonly string[]) => client.post<DeletedCount>(`${IMAGES}/delete`, { ids }),
    clear: () => client.delete<DeletedCount>(IMAGES),

    apply: (id: string, operation: Operation) => client.post<ImageView>(`${image(id)}/operations`, operation),
    undo: (id: string) => client.post<ImageView>(`${image(id)}/undo`),
    redo: (id: string) => client.post<ImageView>(`${image(id)}/redo`),
    revert: (id: string, version: number) => client.post<ImageView>(`${image(id)}/revert`, { version }),
    metadata: (id: string, signal?: AbortSignal) => client.get<ImageMetadata>(`${image(id)}/metadata`, signal),

    /** What compressing `version` (the one on screen) would make; nothing is kept as a version. */
    preview: (id: string, version: number, compress: CompressRequest, signal?: AbortSignal) =>
      client.post<PreviewView>(`${image(id)}/previews`, { version, compress }, signal),
    /** Keeps exactly the previewed file as the new version (409 when the image moved on). */
    applyPreview: (id: string, previewId: string) =>
      client.post<ImageView>(`${image(id)}/previews/${encodeURIComponent(previewId)}/apply`),

    /** The bytes behind a content_url (for copying to the clipboard). */
    content: (url: string, signal?: AbortSignal): Promise<BlobResult> => client.blob('GET', url, { signal }),
    /** A ZIP of the given images, streamed by the server. */
    archive: (ids: readonly string[], signal?: AbortSignal): Promise<BlobResult> =>
      client.blob('POST', '/api/v1/archive', { body: { ids }, signal }),

    /** The image's live share links, newest first. */
    shareLinks: (id: string, signal?: AbortSignal) =>
      client.get<{ links: ShareLink[] }>(`${image(id)}/share-links`, signal).then((list) => list.links),
    /** A public link to `version` (default: the current one) for `hours`, never past the session's end. */
    createShareLink: (id: string, hours: number, version?: number) =>
      client.post<ShareLinkCreated>(`${image(id)}/share-links`, { expires_in_hours: hours, version }),
    revokeShareLink: (id: string, linkId: string) =>
      client.delete<void>(`${image(id)}/share-links/${encodeURIComponent(linkId)}`),

    presets: (signal?: AbortSignal) => client.get<PresetList>('/api/v1/presets', signal),
    privacy: (signal?: AbortSignal) => client.get<PrivacySettings>('/api/v1/privacy', signal),
    /** Applies to versions made from now on; earlier ones keep what they hold. */
    setPrivacy: (settings: PrivacySettings) => client.put<PrivacySettings>('/api/v1/privacy', settings),
    createProfile: (input: ProfileInput) => client.post<Preset>('/api/v1/profiles', input),
    /** For email, web and web_hq this overrides the system preset for this session. */
    updateProfile: (id: string, input: ProfileInput) => client.put<Preset>(profile(id), input),
    /** Deletes a profile, or resets an overridden system preset; returns the new list. */
    deleteProfile: (id: string) => client.delete<PresetList>(profile(id)),
  }
}

export type ImagesApi = ReturnType<typeof createImagesApi>

/** The app's image calls. Composables take an ImagesApi so that tests can pass a fake. */
export const imagesApi = createImagesApi()
