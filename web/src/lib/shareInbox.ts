import { SHARE_CACHE, SHARE_MAX_AGE_MS, fileKey, recordKey, type ShareRecord } from './shareTarget'

// Shared files travel from the service worker to the page through Cache Storage, which both
// can open: the worker puts a share (its record and each kept file), the page takes it once.

const NAME_HEADER = 'X-File-Name'
const RECORD_SUFFIX = '/record'

/** Stores the kept files and the record of share `id`, dropping shares nobody picked up. */
export async function putShare(storage: CacheStorage, id: string, files: readonly File[], record: ShareRecord): Promise<void> {
  const cache = await storage.open(SHARE_CACHE)
  await dropStale(cache, record.at)
  await Promise.all(
    files.map((file, index) =>
      cache.put(
        fileKey(id, index),
        new Response(file, {
          headers: { 'Content-Type': file.type || 'application/octet-stream', [NAME_HEADER]: encodeURIComponent(file.name) },
        }),
      ),
    ),
  )
  // The record goes last: a page that finds it finds every file.
  await cache.put(recordKey(id), Response.json(record))
}

/** The record and files of share `id`, removed from the cache; null when there is no such share. */
export async function takeShare(storage: CacheStorage, id: string): Promise<{ record: ShareRecord; files: File[] } | null> {
  const cache = await storage.open(SHARE_CACHE)
  const stored = await cache.match(recordKey(id))
  if (!stored) return null
  const record = (await stored.json()) as ShareRecord
  const files: File[] = []
  for (let index = 0; index < record.kept; index += 1) {
    const response = await cache.match(fileKey(id, index))
    if (!response) continue
    const name = decodeURIComponent(response.headers.get(NAME_HEADER) ?? 'image')
    files.push(new File([await response.blob()], name, { type: response.headers.get('Content-Type') ?? '' }))
    await cache.delete(fileKey(id, index))
  }
  await cache.delete(recordKey(id))
  return { record, files }
}

async function dropStale(cache: Cache, now: number): Promise<void> {
  for (const request of await cache.keys()) {
    if (!request.url.endsWith(RECORD_SUFFIX)) continue
    const record = (await (await cache.match(request))?.json()) as ShareRecord | undefined
    if (record && now - record.at < SHARE_MAX_AGE_MS) continue
    const prefix = request.url.slice(0, -RECORD_SUFFIX.length)
    for (const entry of await cache.keys()) if (entry.url.startsWith(`${prefix}/`)) await cache.delete(entry)
  }
}
