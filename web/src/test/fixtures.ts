import type { ImageView, OpenRouterStatus, PreviewView, VersionView } from '../api/types'
import { DEFAULT_SETTINGS } from '../lib/compression'

/** A version as the API returns it, with overrides. */
export function versionFixture(extra: Partial<VersionView> = {}): VersionView {
  return {
    number: 1,
    operation: 'upload',
    params: {},
    format: 'jpeg',
    width: 4000,
    height: 3000,
    bytes: 2_345_678,
    created_at: '2026-11-25T20:00:00Z',
    compression: null,
    has_location: false,
    ...extra,
  }
}

/** An ImageView whose URLs follow the API's shape, for the given current version. */
export function imageFixture(id = 'img-1', current: Partial<VersionView> = {}, extra: Partial<ImageView> = {}): ImageView {
  const original = versionFixture()
  const now = versionFixture({ ...current })
  const versions = now.number === 1 ? [now] : [original, now]
  const n = now.number
  return {
    id,
    filename: 'IMG_1234.jpg',
    download_name: 'IMG_1234.jpg',
    created_at: '2026-11-25T20:00:00Z',
    current: now,
    versions,
    can_undo: n > 1,
    can_redo: false,
    first_frame_only: false,
    content_url: `/api/v1/images/${id}/content?version=${n}`,
    thumbnail_url: `/api/v1/images/${id}/thumbnail?version=${n}`,
    download_url: `/api/v1/images/${id}/content?version=${n}&download=1`,
    original_url: `/api/v1/images/${id}/content?original=true`,
    original_download_url: `/api/v1/images/${id}/content?original=true&download=1`,
    original_bytes: original.bytes,
    original_format: original.format,
    original_has_location: false,
    ...extra,
  }
}

/** An OpenRouter status as the server sends it: not connected, or connected with a user key. */
export const KEY_HASH = 'a'.repeat(64)

export const disconnectedStatus: OpenRouterStatus = {
  state: 'disconnected',
  source: null,
  label: null,
  limit: null,
  limit_remaining: null,
  usage: null,
  key_hash: null,
  revoke_url: null,
  callback_url: 'http://localhost:8081/oauth/callback',
  callback_ok: true,
  callback_problem: null,
  server_key_available: false,
}

export const connectedStatus: OpenRouterStatus = {
  ...disconnectedStatus,
  state: 'connected',
  source: 'user',
  label: 'Laptop key',
  limit: 10,
  limit_remaining: 7.25,
  usage: 2.75,
  key_hash: KEY_HASH,
  revoke_url: `https://openrouter.ai/keys/${KEY_HASH}`,
}

/** A compression preview as the API returns it (an 800×600 JPEG of ``bytes``), with overrides. */
export function previewFixture(id: string, bytes: number, extra: Partial<PreviewView> = {}): PreviewView {
  return {
    id,
    image_id: 'img-1',
    based_on: 1,
    preset: null,
    settings: DEFAULT_SETTINGS,
    format: 'jpeg',
    width: 800,
    height: 600,
    bytes,
    quality: 80,
    target_met: true,
    fitted_width: 800,
    fitted_height: 600,
    jpeg_quality: 80,
    shrunk_for_target: false,
    low_quality_for_target: false,
    expires_at: '2026-12-05T08:00:00Z',
    content_url: `/api/v1/images/img-1/previews/${id}/content`,
    ...extra,
  }
}
