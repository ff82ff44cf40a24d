/**
 * Wire shapes of the gateway's public HTTP API, under the names the app uses.
 *
 * They come from the gateway's OpenAPI document: `openapi.d.ts` is generated from it (`make api`,
 * never edited by hand), and this module only names its schemas, or narrows one where the app
 * sends a stricter form than the server accepts. An API change therefore reaches the compiler:
 * a field renamed or dropped on the server is a type error here or where it is used.
 */
import type { components } from './openapi'

type Schemas = components['schemas']

export type SessionLimits = Schemas['Limits']

/**
 * GET /api/v1/session. A session starts when the visitor first stores something (an upload, a
 * setting): before that `active` is false, the dates are null and the limits say what one allows.
 */
export type SessionInfo = Schemas['SessionView']

/** GET /api/v1/session/devices: the browsers using this session; `current` is this one. */
export type Device = Schemas['DeviceView']

/** POST /api/v1/session/join-offer: a QR link and a short code for another device, valid minutes. */
export type JoinOffer = Schemas['JoinOfferView']

/** A public link to one version of an image (never its token: that is shown once, at creation). */
export type ShareLink = Schemas['ShareLinkInfo']

/** POST /api/v1/images/{id}/share-links: the new link and its public path, shown this once. */
export type ShareLinkCreated = Schemas['ShareLinkCreatedView']

/** Every error response from the API. */
export type ApiErrorBody = Schemas['ErrorBody']

/** One entry of /health "services": replicas that answered, their versions, and what is wrong with them. */
export type ServiceHealth = Schemas['ServiceHealth']

/** GET /health: 200 when healthy; 503 naming what did not answer (`missing`) or cannot work (`problems`). */
export type HealthBody = Schemas['HealthReport']

/** What the app makes of a /health probe. */
export type HealthResult =
  | { status: 'healthy' }
  /**
   * The gateway answered but something is wrong: services that did not answer, and problems of
   * services that answered but cannot do part of their work (e.g. "image-service: … model … is
   * corrupt"), each as the server names it.
   */
  | { status: 'degraded'; missing: string[]; problems: string[] }
  /** No usable answer at all: network failure, timeout, a proxy's error page. */
  | { status: 'offline' }

// Images -----------------------------------------------------------------------------------------

/** Formats an upload may be in (decided by the server from the content). */
export type ImageFormat = Schemas['ImageFormat']
/** Formats the server can write. */
export type OutputFormat = Schemas['CompressionOutcome']['format']
/** Compression may also pick the smallest of them. */
export type CompressFormat = CompressionSettings['format']

/** How a compression came out; present on versions made by "compress". */
export type CompressionOutcome = Schemas['CompressionOutcome']

/** A compression computed but not kept (yet): what it would make, and its file. */
export type PreviewView = Schemas['PreviewView']

export type VersionView = Schemas['VersionInfo']

/** One image with its history, as every image endpoint returns it. */
export type ImageView = Schemas['ImageView']

/** GET/PUT /api/v1/privacy: whether edited copies made from now on keep the location. */
export type PrivacySettings = Schemas['PrivacySettings']

/** GET /api/v1/images */
export type ImageList = Schemas['ImageListView']

/** A file of a multi-file upload that the server refused. */
export type UploadFailure = Schemas['UploadError']

/** POST /api/v1/images (201) */
export type UploadResult = Schemas['UploadResult']

/** POST /api/v1/images/delete, DELETE /api/v1/images */
export type DeletedCount = Schemas['Deleted']

export type GpsPosition = Schemas['GpsPosition']

/** GET /api/v1/images/{id}/metadata */
export type ImageMetadata = Schemas['ImageMetadata']

// Operations -------------------------------------------------------------------------------------

/** What a preset or profile stands for (as the server sends it); also the body of a custom compression. */
export type CompressionSettings = Schemas['CompressionSettings-Output']

type Op<K extends keyof Schemas> = Schemas[K]

/**
 * The body of POST /api/v1/images/{id}/operations, as the app sends it. The server's schema
 * (OperationBody) lets `preset` and `settings`, or sizes and `percent`, appear together and
 * refuses that with a 422; the app's form names exactly one, and spells out every field.
 */
/** A compression as a preview asks for it: a preset, or custom settings. */
export type CompressRequest = Extract<Operation, { type?: 'compress' }>

export type Operation =
  | (Op<'CompressOp'> & { preset: string; settings?: never })
  | (Op<'CompressOp'> & { preset?: never; settings: CompressionSettings })
  // `format` only when an AI edit is brought back to the original's size and format.
  | (Required<Omit<Op<'ResizeOp'>, 'percent' | 'format'>> & Pick<Op<'ResizeOp'>, 'format'> & { percent?: never })
  | (Required<Pick<Op<'ResizeOp'>, 'type' | 'allow_upscale'>> & { percent: number })
  | Op<'RotateOp'>
  | Op<'FlipOp'>
  | Op<'CropOp'>
  | Required<Op<'ConvertOp'>>
  | Required<Op<'StripMetadataOp'>>
  | RemoveBackgroundOperation
  | BrushOperation

/** Erase/restore strokes on the mask of a cut-out (normalised 0..1 paths); the result is a new version. */
export type BrushOperation = Op<'BrushOp'>
export type BrushStroke = Schemas['BrushStroke']

// Background removal ------------------------------------------------------------------------------

/** Cuts the subject out with a model running on the server; the result is a new version. */
export type RemoveBackgroundOperation = Required<Op<'RemoveBackgroundOp'>>

/** What goes behind the cut-out subject. */
export type BackgroundFill = RemoveBackgroundOperation['background']

/** One installed background-removal model. */
export type BackgroundModel = Schemas['BackgroundModel']

/** Durations this server measured: a run takes about base + per_megapixel × megapixels. */
export type BackgroundTiming = Schemas['BackgroundTiming']

/** GET /api/v1/background/models: only models whose file is installed. */
export type BackgroundModels = Schemas['BackgroundModels']

// Presets and profiles -----------------------------------------------------------------------------

export type Preset = Schemas['Preset']

/** GET /api/v1/presets, DELETE /api/v1/profiles/{id} */
export type PresetList = Schemas['PresetList']

/** POST /api/v1/profiles, PUT /api/v1/profiles/{id} */
export type ProfileInput = Schemas['ProfileBody']

/** GET /api/v1/openrouter/status. The key itself never reaches the browser. */
export type OpenRouterStatus = Schemas['Status']

/** Whether AI features can call OpenRouter, and with whose key. */
export type OpenRouterState = OpenRouterStatus['state']

/** Whose key: the person's own (connected with OAuth) or the server owner's shared one. */
export type OpenRouterKeySource = NonNullable<OpenRouterStatus['source']>

/** POST /api/v1/openrouter/connect: where to send the browser to approve the connection. */
export type OpenRouterConnectStart = Schemas['ConnectReply']

// AI chat and edit (OpenRouter) -------------------------------------------------------------------

/** Prices in USD per token (prompt, completion) and per image, as decimal strings like OpenRouter's. */
export type AiModelPricing = Schemas['Pricing']

export type AiModel = Schemas['Model']

/** GET and PUT /api/v1/ai/models: vision models for chat, image-output models for editing. */
export type AiModels = Schemas['Models']

/** PUT /api/v1/ai/models */
export type AiModelChoice = Schemas['ModelsBody']

export type ChatMessage = Schemas['Message']

/** GET and DELETE /api/v1/images/{id}/chat */
export type ChatHistory = Schemas['Conversation']

// The chat reply is a stream of server-sent events; the document names each one's body in the
// route's `x-events` (OpenAPI 3.1 has no field for it), and ai.ts checks them as they arrive.

/** The body of the `done` event: the turn is saved. */
export type ChatDone = Schemas['ChatDone']

/** The body of a streamed answer's mid-stream `error` event (`retry_after` is null when any time will do). */
export type StreamError = Schemas['StreamError']

/** POST /api/v1/images/{id}/ai-edit */
export type AiEditResult = Schemas['EditReply']

/** What POST /api/v1/batches applies to every photo: the app's form of the operations a batch takes. */
export type BatchOperation = Extract<
  Operation,
  { type?: 'compress' | 'resize' | 'convert' | 'strip_metadata' | 'remove_background' }
>

/** A batch's `progress` event: one photo started, done (with its image) or failed (with why). */
export type BatchStep = Schemas['BatchStep']

/** A batch's `done` event: what was changed and what failed. */
export type BatchSummary = Schemas['BatchSummary']
