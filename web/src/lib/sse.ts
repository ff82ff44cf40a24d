/**
 * A server-sent events reader for fetch() streams (EventSource cannot POST or send headers).
 * It follows the HTML spec's parsing rules: lines end in CRLF, LF or CR; `data:` lines of one
 * event are joined with "\n"; a blank line dispatches; lines starting with ":" are comments;
 * one optional space after the colon is dropped. Chunks may split anything, even a CRLF pair or
 * a multi-byte character.
 */

export interface SseEvent {
  /** The `event:` field; "message" when the event named none. */
  event: string
  data: string
  /** The last `id:` seen so far (it carries over to later events), "" when none. */
  id: string
}

/** An incremental parser: feed it decoded text as it arrives, get whole events back. */
export class SseParser {
  private buffer = ''
  /** The previous chunk ended in CR: an LF at the start of the next one belongs to it. */
  private pendingCr = false
  private eventName = ''
  private data: string[] = []
  private hasData = false
  private lastId = ''

  /** Parses `text` and returns the events it completed (possibly none). */
  push(text: string): SseEvent[] {
    if (text === '') return []
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1)
    this.pendingCr = false
    this.buffer += text
    const events: SseEvent[] = []
    let start = 0
    for (;;) {
      const cr = this.buffer.indexOf('\r', start)
      const lf = this.buffer.indexOf('\n', start)
      if (cr === -1 && lf === -1) break
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
      const line = this.buffer.slice(start, end)
      if (this.buffer[end] === '\r') {
        if (end + 1 === this.buffer.length) {
          // Maybe the first half of a CRLF split across chunks.
          this.pendingCr = true
          start = end + 1
        } else {
          start = this.buffer[end + 1] === '\n' ? end + 2 : end + 1
        }
      } else {
        start = end + 1
      }
      const event = this.line(line)
      if (event) events.push(event)
    }
    this.buffer = this.buffer.slice(start)
    return events
  }

  /**
   * The stream ended. Per the spec an event not followed by a blank line is discarded, so a
   * cut-off stream never yields a half-received event.
   */
  end(): SseEvent[] {
    this.buffer = ''
    this.reset()
    return []
  }

  private reset(): void {
    this.eventName = ''
    this.data = []
    this.hasData = false
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (!this.hasData) {
        this.reset()
        return null
      }
      const event = { event: this.eventName || 'message', data: this.data.join('\n'), id: this.lastId }
      this.reset()
      return event
    }
    if (line.startsWith(':')) return null
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.eventName = value
        break
      case 'data':
        this.data.push(value)
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      default:
      // `retry` and unknown fields: nothing this app uses.
    }
    return null
  }
}

/**
 * The events of a response body, as they complete. Stops when the stream ends; an abort of the
 * fetch's signal rejects the pending read with the AbortError, which is rethrown.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const parser = new SseParser()
  let finished = false
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        finished = true
        yield* parser.push(decoder.decode())
        yield* parser.end()
        return
      }
      yield* parser.push(decoder.decode(value, { stream: true }))
    }
  } finally {
    // A consumer that stops early (break, throw) must not leave the connection open.
    if (!finished) await reader.cancel().catch(() => undefined)
  }
}
