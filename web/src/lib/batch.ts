import type { BatchOperation, BatchStep, ImageView, OutputFormat } from '../api/types'
import { formatLabel } from './imageFormats'

/** The operations a batch offers, in the order the batch bar shows them. */
export const BATCH_KINDS = ['compress', 'resize', 'convert', 'strip_metadata', 'remove_background'] as const
export type BatchKind = (typeof BATCH_KINDS)[number]

export const BATCH_LABELS: Record<BatchKind, string> = {
  compress: 'Compress',
  resize: 'Resize',
  convert: 'Convert',
  strip_metadata: 'Strip metadata',
  remove_background: 'Remove background',
}

/** What the batch dialog's form holds; each kind reads only its own fields. */
export interface BatchForm {
  kind: BatchKind
  preset: string
  maxWidth: number
  maxHeight: number
  format: OutputFormat
  cutOutFormat: 'png' | 'webp'
}

/** The operation the form describes, or why it cannot run yet. */
export function batchOperation(form: BatchForm): { operation: BatchOperation | null; problem: string | null } {
  switch (form.kind) {
    case 'compress':
      if (!form.preset) return { operation: null, problem: 'Choose a preset or profile.' }
      return { operation: { type: 'compress', preset: form.preset }, problem: null }
    case 'resize': {
      const { maxWidth: width, maxHeight: height } = form
      if ([width, height].some((side) => !Number.isInteger(side) || side < 1 || side > 20_000))
        return { operation: null, problem: 'Width and height are whole pixels from 1 to 20,000.' }
      return {
        operation: { type: 'resize', width, height, keep_aspect: true, allow_upscale: false },
        problem: null,
      }
    }
    case 'convert':
      return {
        operation: { type: 'convert', format: form.format, quality: null, background: '#ffffff' },
        problem: null,
      }
    case 'strip_metadata':
      return { operation: { type: 'strip_metadata', what: 'all' }, problem: null }
    case 'remove_background':
      return {
        operation: {
          type: 'remove_background',
          model: null,
          alpha_matting: false,
          foreground_threshold: 240,
          background_threshold: 10,
          erode_size: 10,
          post_process_mask: false,
          background: { kind: 'transparent' },
          format: form.cutOutFormat,
          max_edge: null,
        },
        problem: null,
      }
  }
}

/** A sentence naming what a batch does, for its dialog and summary. */
export function describeBatch(form: BatchForm, presetName: string | null): string {
  switch (form.kind) {
    case 'compress':
      return `Compress with “${presetName ?? form.preset}”`
    case 'resize':
      return `Resize to fit ${form.maxWidth} × ${form.maxHeight} px`
    case 'convert':
      return `Convert to ${formatLabel(form.format)}`
    case 'strip_metadata':
      return 'Strip metadata (camera details and location)'
    case 'remove_background':
      return `Remove the background (transparent ${formatLabel(form.cutOutFormat)})`
  }
}

export type BatchRowState = 'waiting' | 'running' | 'done' | 'failed' | 'not_started'

/** One photo's line in the batch dialog. */
export interface BatchRow {
  id: string
  name: string
  state: BatchRowState
  /** failed: why, in words */
  reason: string | null
  /** done: the image with its new version */
  image: ImageView | null
}

export function batchRows(images: readonly ImageView[]): BatchRow[] {
  return images.map((image) => ({ id: image.id, name: image.filename, state: 'waiting', reason: null, image: null }))
}

/** The rows after one progress event. */
export function applyStep(rows: readonly BatchRow[], step: BatchStep): BatchRow[] {
  return rows.map((row) => {
    if (row.id !== step.image_id) return row
    if (step.state === 'started') return { ...row, state: 'running' }
    if (step.state === 'done') return { ...row, state: 'done', image: step.image ?? null }
    return { ...row, state: 'failed', reason: failureReason(step.error?.code ?? '', step.error?.message ?? '') }
  })
}

/** The rows once a batch ended early: the photo in flight was left as it was, the rest never ran. */
export function endRows(rows: readonly BatchRow[], cancelled: boolean): BatchRow[] {
  return rows.map((row) => {
    if (row.state === 'running')
      return { ...row, state: 'not_started', reason: cancelled ? 'Cancelled: left as it was' : 'Stopped: left as it was' }
    if (row.state === 'waiting') return { ...row, state: 'not_started', reason: 'Not started' }
    return row
  })
}

/** A batch id: random, made here (crypto.randomUUID needs a secure context, LAN http is not one). */
export function newBatchId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40 // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function failureReason(code: string, message: string): string {
  if (code === 'deleted') return 'Deleted while the batch ran'
  const text = message || 'It failed'
  return text.charAt(0).toUpperCase() + text.slice(1)
}
