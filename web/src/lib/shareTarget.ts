import type { SessionLimits } from '../api/types'
import { withoutParams } from './address'
import { plural } from './plural'
import { refuseBeforeUpload, sessionFullMessage } from './uploads'

// Sharing photos into the installed app (the manifest's share_target). The service worker takes
// the share sheet's POST, keeps what a normal upload would accept, leaves it in Cache Storage and
// sends the window to `/?share=<id>`, where the page runs the files through its upload queue.
// Everything here is shared by the worker and the page, so both apply the same caps.

/** The manifest's `share_target.action`, and the form field its files arrive in. */
export const SHARE_PATH = '/share-target'
export const SHARE_FIELD = 'photos'
/** The Cache Storage cache in which the worker leaves shared files for the page. */
export const SHARE_CACHE = 'imagetools-share'
const PARAM = 'share'
/** Shares the page never picked up (the window was closed first) are dropped after this long. */
export const SHARE_MAX_AGE_MS = 60 * 60 * 1000

/** What the worker tells the page besides the files themselves. */
export interface ShareRecord {
  /** Files in the share. */
  shared: number
  /** Images the session could still take when the share arrived. */
  room: number
  /** Files kept for upload (stored as `fileKey(id, 0…kept-1)`). */
  kept: number
  /** Files refused before upload, worded as the upload list words them. */
  refused: Refusal[]
  /** Date.now() when the worker stored it. */
  at: number
}

export interface Refusal {
  name: string
  size: number
  message: string
}

export interface SharePlan {
  /** Indices of the files to upload, in the order shared. */
  keep: number[]
  refused: Refusal[]
  room: number
}

/**
 * Which shared files go to the upload queue: each is refused or kept exactly as a picked file
 * would be (too large, or no room left once the files before it are counted).
 */
export function planShare(
  files: readonly Pick<File, 'name' | 'size'>[],
  limits: SessionLimits,
  imageCount: number,
): SharePlan {
  const room = Math.max(0, limits.max_images - imageCount)
  const keep: number[] = []
  const refused: Refusal[] = []
  files.forEach((file, index) => {
    const message = refuseBeforeUpload(file, limits, room - keep.length)
    if (message) refused.push({ name: file.name, size: file.size, message })
    else keep.push(index)
  })
  return { keep, refused, room }
}

/** What to say about a share as it lands (the upload list shows each refused file on its own). */
export function shareSummary(record: ShareRecord, limits: SessionLimits): { message: string; error: boolean } {
  const full = record.refused.filter((refusal) => refusal.message === sessionFullMessage(limits.max_images)).length
  if (record.shared === 0) return { message: 'Nothing arrived with that share: no photos to add.', error: true }
  if (full > 0 && record.room === 0) {
    return {
      message: `This session is full (${plural(limits.max_images, 'image')}), so none of the ${plural(record.shared, 'shared photo')} could be added. Delete some and share again.`,
      error: true,
    }
  }
  if (full > 0) {
    return {
      message: `You shared ${plural(record.shared, 'photo')}, but this session has room for ${record.room} more: the first ${record.kept} ${record.kept === 1 ? 'is' : 'are'} being added.`,
      error: true,
    }
  }
  if (record.kept === 0) return { message: `None of the ${plural(record.shared, 'shared file')} could be added.`, error: true }
  return { message: `Adding ${plural(record.kept, 'shared photo')}.`, error: false }
}

/** How a share landed: stored by the worker, or one of the ways it could not be. */
export type ShareLanding =
  | { kind: 'stored'; id: string }
  /** It reached the server: no worker ran yet (first launch, an update). */
  | { kind: 'again' }
  /** The worker could not ask the server for the session's limits. */
  | { kind: 'unreachable' }
  /** The share sheet's form could not be read. */
  | { kind: 'unreadable' }

const SHARE_ID = /^[0-9a-f-]{36}$/

/** The landing the address names (`?share=…`) and the address without it; null when there is none. */
export function readShareLanding(href: string): { landing: ShareLanding | null; url: string } | null {
  let url: URL
  try {
    url = new URL(href)
  } catch {
    return null
  }
  const value = url.searchParams.get(PARAM)
  if (value === null) return null
  let landing: ShareLanding | null = null
  if (value === 'again' || value === 'unreachable' || value === 'unreadable') landing = { kind: value }
  else if (SHARE_ID.test(value)) landing = { kind: 'stored', id: value }
  return { landing, url: withoutParams(url, [PARAM]) }
}

/** The address the worker sends the window to. */
export function landingUrl(landing: ShareLanding): string {
  return `/?${PARAM}=${landing.kind === 'stored' ? landing.id : landing.kind}`
}

/** Cache keys of one share: its record and each kept file. */
export function recordKey(id: string): string {
  return `${SHARE_PATH}/${id}/record`
}

export function fileKey(id: string, index: number): string {
  return `${SHARE_PATH}/${id}/${index}`
}

/** What to say when a share could not be taken in; null for a stored one. */
export function landingProblem(landing: ShareLanding): string | null {
  switch (landing.kind) {
    case 'again':
      return 'ImageTools was still getting ready, so the shared photos did not arrive. Open ImageTools once more and share them again.'
    case 'unreachable':
      return "The shared photos could not be added: the ImageTools server could not be reached. Share them again when it's back."
    case 'unreadable':
      return 'The shared photos could not be read. Please share them again.'
    case 'stored':
      return null
  }
}
