import { ApiError } from '../api/client'
import type { SessionLimits } from '../api/types'
import { mebibytes } from './bytes'

/** The message for a file that is too big, worded like the server's. */
export function tooLargeMessage(name: string, maxMb: number): string {
  return `${name} is larger than the ${maxMb} MiB limit.`
}

/** The message for a file that would not fit in the session, worded like the server's. */
export function sessionFullMessage(maxImages: number): string {
  return `This session already holds ${maxImages} images, the most it can keep. Delete some to add more.`
}

/**
 * Why a file can be refused before uploading it, or null. The server is authoritative: this
 * only spares a long upload that is bound to fail.
 */
export function refuseBeforeUpload(
  file: Pick<File, 'name' | 'size'>,
  limits: SessionLimits,
  freeSlots: number,
): string | null {
  if (file.size > mebibytes(limits.max_upload_mb)) return tooLargeMessage(file.name, limits.max_upload_mb)
  if (freeSlots <= 0) return sessionFullMessage(limits.max_images)
  return null
}

/**
 * What to show on an upload row for a failed request. The server's message is used as it is;
 * only errors without the API's envelope (a proxy's 413 page, a dropped connection) get ours.
 */
export function uploadErrorMessage(error: ApiError, fileName: string, limits: SessionLimits | null): string {
  if (error.code === 'http_413') return tooLargeMessage(fileName, limits?.max_upload_mb ?? 20)
  if (error.status === 0 && error.code === 'network_error') {
    return 'The upload was interrupted: the server could not be reached.'
  }
  return error.message
}

/** Whether trying the same file again could work (the server or network had a moment). */
export function isRetryable(error: ApiError): boolean {
  return error.status === 0 || error.status === 429 || error.status >= 500
}
