/** Wire shapes of the gateway's public HTTP API (see shared DESIGN.md, "Public HTTP API"). */

export interface SessionLimits {
  max_images: number
  max_upload_mb: number
  expiry_days: number
}

/**
 * GET /api/v1/session. A session starts when the visitor first stores something (an upload, a
 * setting): before that `active` is false, the dates are null and the limits say what one allows.
 */
export interface SessionInfo {
  active: boolean
  /** ISO 8601 with offset; null before the session starts */
  created_at: string | null
  /** ISO 8601 with offset; null before the session starts */
  expires_at: string | null
  image_count: number
  limits: SessionLimits
  /** Server version */
  version: string
}

/** Every error response from the API. */
export interface ApiErrorBody {
  error: {
    code: string
    message: string
    request_id?: string
  }
}

/** One entry of /health "services"; the gateway reports how many replicas answered. */
export interface ServiceHealth {
  replicas?: number
  version?: string
}

/** GET /health: 200 when healthy, 503 with `missing` when some service has no replica. */
export interface HealthBody {
  status: 'healthy' | 'unhealthy'
  version?: string
  missing?: string[]
  services?: Record<string, ServiceHealth>
}

/** What the app makes of a /health probe. */
export type HealthResult =
  | { status: 'healthy' }
  /** The gateway answered but some services are down. */
  | { status: 'degraded'; missing: string[] }
  /** No usable answer at all: network failure, timeout, a proxy's error page. */
  | { status: 'offline' }

// Images -----------------------------------------------------------------------------------------

/** Formats an upload may be in (decided by the server from the content). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'tiff' | 'heif' | 'avif'
/** Formats the server can write. */
export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'avif'
/** Compression may also pick the smallest of them. */
export type CompressFormat = OutputFormat | 'auto'

/** How a compression came out; present on versions made by "compress". */
export interface CompressionOutcome {
  /** Whether the file fits target_kb (true when there was no target). */
  target_met: boolean
  /** Final quality; null for lossless output. */
  quality: number | null
  width: number
  height: number
  bytes: number
  format: OutputFormat
}

export interface VersionView {
  /** 1 is the original upload. */
  number: number
  /** upload, compress, resize, rotate, flip, crop, convert, strip_metadata, … */
  operation: string
  /** The operation's parameters as applied. */
  params: Record<string, unknown>
  format: ImageFormat
  width: number
  height: number
  bytes: number
  created_at: string
  compression: CompressionOutcome | null
  /** The file holds a GPS location (made while keep_location was on). */
  has_location: boolean
}

/** One image with its history, as every image endpoint returns it. */
export interface ImageView {
  id: string
  filename: string
  /** Name of the current version, with its extension. */
  download_name: string
  created_at: string
  current: VersionView
  /** Oldest first. */
  versions: VersionView[]
  can_undo: boolean
  can_redo: boolean
  /** The upload was animated; only its first frame was kept. */
  first_frame_only: boolean
  content_url: string
  thumbnail_url: string
  download_url: string
  original_url: string
  original_download_url: string
  original_bytes: number
  /** The upload, served byte for byte as the original, holds a GPS location. */
  original_has_location: boolean
}

/** GET/PUT /api/v1/privacy: whether edited copies made from now on keep the location. */
export interface PrivacySettings {
  keep_location: boolean
}

/** GET /api/v1/images */
export interface ImageList {
  images: ImageView[]
  max_images: number
}

/** A file of a multi-file upload that the server refused. */
export interface UploadFailure {
  filename: string
  code: string
  message: string
}

/** POST /api/v1/images (201) */
export interface UploadResult {
  images: ImageView[]
  errors: UploadFailure[]
}

/** POST /api/v1/images/delete, DELETE /api/v1/images */
export interface DeletedCount {
  deleted: number
}

export interface GpsPosition {
  latitude: number
  longitude: number
  altitude_m: number | null
  map_url: string
}

/** GET /api/v1/images/{id}/metadata */
export interface ImageMetadata {
  camera: string | null
  lens: string | null
  exposure: string | null
  aperture: string | null
  iso: number | null
  focal_length: string | null
  taken_at: string | null
  orientation: number | null
  software: string | null
  gps: GpsPosition | null
  has_exif: boolean
}

// Operations -------------------------------------------------------------------------------------

/** What a preset or profile stands for; also the body of a custom compression. */
export interface CompressionSettings {
  max_width: number | null
  max_height: number | null
  quality: number
  target_kb: number | null
  format: CompressFormat
  keep_aspect: boolean
}

export type Operation =
  | { type: 'compress'; preset: string }
  | { type: 'compress'; settings: CompressionSettings }
  | { type: 'resize'; width: number | null; height: number | null; keep_aspect: boolean; allow_upscale: boolean }
  | { type: 'resize'; percent: number; allow_upscale: boolean }
  | { type: 'rotate'; degrees: 90 | 180 | 270 }
  | { type: 'flip'; direction: 'horizontal' | 'vertical' }
  | { type: 'crop'; x: number; y: number; width: number; height: number }
  | { type: 'convert'; format: OutputFormat; quality: number | null; background: string }
  | { type: 'strip_metadata'; what: 'all' | 'gps' }
  | RemoveBackgroundOperation

// Background removal ------------------------------------------------------------------------------

/** What goes behind the cut-out subject. */
export type BackgroundFill =
  | { kind: 'transparent' }
  | { kind: 'colour'; colour: string }
  /** The original background, blurred by this radius (1..100 px). */
  | { kind: 'blur'; radius: number }
  /** Another image of this session (its current version), scaled to cover. */
  | { kind: 'image'; image_id: string }

/** Cuts the subject out with a model running on the server; the result is a new version. */
export interface RemoveBackgroundOperation {
  type: 'remove_background'
  /** An id from GET /api/v1/background/models; null for the server's default. */
  model: string | null
  alpha_matting: boolean
  /** Matting only: how sure (0..255) the mask must be to count as subject / as background. */
  foreground_threshold: number
  background_threshold: number
  /** Matting only: how far (px) the uncertain edge band reaches. */
  erode_size: number
  post_process_mask: boolean
  background: BackgroundFill
  /** JPEG only with a filled background: it has no transparency. */
  format: 'png' | 'webp' | 'jpeg'
}

/** One installed background-removal model. */
export interface BackgroundModel {
  id: string
  label: string
  default: boolean
}

/** Durations this server measured: a run takes about base + per_megapixel × megapixels. */
export interface BackgroundTiming {
  base_seconds: number
  per_megapixel_seconds: number
}

/** GET /api/v1/background/models: only models whose file is installed. */
export interface BackgroundModels {
  models: BackgroundModel[]
  default: string
  /** null until the server has measured anything. */
  timing: BackgroundTiming | null
}

// Presets and profiles -----------------------------------------------------------------------------

export interface Preset {
  /** "email", "web", "web_hq" for the system presets; a UUID for the session's own profiles. */
  id: string
  name: string
  settings: CompressionSettings
  /** A built-in preset (it can be overridden for the session and reset, not deleted). */
  system: boolean
  /** A system preset this session has changed. */
  overridden: boolean
}

/** GET /api/v1/presets, DELETE /api/v1/profiles/{id} */
export interface PresetList {
  presets: Preset[]
}

/** POST /api/v1/profiles, PUT /api/v1/profiles/{id} */
export interface ProfileInput {
  name: string
  settings: CompressionSettings
}

/** Whether AI features can call OpenRouter, and with whose key. */
export type OpenRouterState = 'disconnected' | 'connected' | 'invalid'

/** Whose key: the person's own (connected with OAuth) or the server owner's shared one. */
export type OpenRouterKeySource = 'user' | 'server'

/** GET /api/v1/openrouter/status. The key itself never reaches the browser. */
export interface OpenRouterStatus {
  state: OpenRouterState
  source: OpenRouterKeySource | null
  /** A masked form of the key, e.g. "sk-or-v1-abc...xyz". */
  label: string | null
  /** The key's spending limit in USD; null when it has none. */
  limit: number | null
  limit_remaining: number | null
  /** USD spent with the key so far. */
  usage: number | null
  /** Lowercase hex SHA-256 of the key, OpenRouter's id for it. */
  key_hash: string | null
  /** OpenRouter's page for the key, where it can be revoked (this app cannot). */
  revoke_url: string | null
  /** Where OpenRouter sends the browser back to after approval. */
  callback_url: string
  /** False when OpenRouter will refuse callback_url (plain http on anything but localhost). */
  callback_ok: boolean
  /** Why callback_url won't work and what to set instead; null when callback_ok. */
  callback_problem: string | null
  /** The server has its own key, so AI features work without connecting (billed to the server's owner). */
  server_key_available: boolean
}

/** POST /api/v1/openrouter/connect: where to send the browser to approve the connection. */
export interface OpenRouterConnectStart {
  authorize_url: string
}

// AI chat and edit (OpenRouter) -------------------------------------------------------------------

/** Prices in USD per token (prompt, completion) and per image, as decimal strings like OpenRouter's. */
export interface AiModelPricing {
  prompt: string
  completion: string
  image: string
}

export interface AiModel {
  id: string
  name: string
  context_length: number | null
  pricing: AiModelPricing
}

/** GET and PUT /api/v1/ai/models: vision models for chat, image-output models for editing. */
export interface AiModels {
  chat: AiModel[]
  edit: AiModel[]
  selected: { chat: string; edit: string }
}

/** PUT /api/v1/ai/models */
export interface AiModelChoice {
  chat?: string
  edit?: string
}

export interface ChatMessage {
  id: string
  role: 'user' | 'assistant'
  content: string
  model: string | null
  /** USD, from OpenRouter's usage.cost; null when it did not say. */
  cost: number | null
  created_at: string
}

/** GET and DELETE /api/v1/images/{id}/chat */
export interface ChatHistory {
  messages: ChatMessage[]
  total_cost: number | null
}

/** The body of the `done` event: the turn is saved. */
export interface ChatDone {
  user_message: ChatMessage
  assistant_message: ChatMessage
  cost: number | null
  total_cost: number | null
}

/** The body of a mid-stream `error` event. */
export interface ChatStreamError {
  error: { code: string; message: string; retry_after?: number }
}

/** POST /api/v1/images/{id}/ai-edit */
export interface AiEditResult {
  image: ImageView
  text: string | null
  cost: number | null
}
