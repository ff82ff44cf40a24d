import { describe, expect, it } from 'vitest'
import { readSse, SseParser, type SseEvent } from './sse'

/** Feeds `pieces` one by one and collects every event. */
function parse(...pieces: string[]): SseEvent[] {
  const parser = new SseParser()
  return [...pieces.flatMap((piece) => parser.push(piece)), ...parser.end()]
}

const STREAM =
  'event: delta\ndata: {"text":"Hel"}\n\n' +
  ': keep-alive comment\n\n' +
  'event: delta\ndata: {"text":"lo"}\n\n' +
  'event: done\ndata: {"cost":0.0012}\n\n'

const EXPECTED = [
  { event: 'delta', data: '{"text":"Hel"}', id: '' },
  { event: 'delta', data: '{"text":"lo"}', id: '' },
  { event: 'done', data: '{"cost":0.0012}', id: '' },
]

function stream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  })
}

async function collect(body: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = []
  for await (const event of readSse(body)) events.push(event)
  return events
}

describe('SseParser', () => {
  it('parses named events and skips comments', () => {
    expect(parse(STREAM)).toEqual(EXPECTED)
  })

  it('gives the same events however the text is split, down to single characters', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(parse(STREAM.slice(0, cut), STREAM.slice(cut))).toEqual(EXPECTED)
    }
    expect(parse(...STREAM.split(''))).toEqual(EXPECTED)
  })

  it('accepts CRLF and lone CR line endings, including a CRLF split between chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n')
    expect(parse(crlf)).toEqual(EXPECTED)
    expect(parse(...crlf.split(''))).toEqual(EXPECTED)
    expect(parse(STREAM.replace(/\n/g, '\r'))).toEqual(EXPECTED)
    // A CR at the end of one chunk and the LF at the start of the next are one line end.
    expect(parse('data: a\r', '\n\r', '\n')).toEqual([{ event: 'message', data: 'a', id: '' }])
  })

  it('joins multi-line data with newlines and keeps spaces after the first', () => {
    expect(parse('data: first\ndata:second\ndata:  indented\ndata\n\n')).toEqual([
      { event: 'message', data: 'first\nsecond\n indented\n', id: '' },
    ])
  })

  it('does not dispatch an event without data, nor one cut off before its blank line', () => {
    expect(parse('event: delta\n\n')).toEqual([])
    expect(parse('event: done\ndata: {"saved":true}\n')).toEqual([])
    expect(parse('event: done\ndata: {"saved":true}')).toEqual([])
  })

  it('resets the event name after each event and carries the id over', () => {
    expect(parse('event: delta\nid: 7\ndata: a\n\ndata: b\n\n')).toEqual([
      { event: 'delta', data: 'a', id: '7' },
      { event: 'message', data: 'b', id: '7' },
    ])
  })

  it('ignores unknown fields and retry', () => {
    expect(parse('retry: 1000\nfoo: bar\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: '' }])
  })

  it('parses one multi-megabyte data line', () => {
    const big = 'A'.repeat(3 * 1024 * 1024)
    const text = `event: delta\ndata: ${big}\n\n`
    const pieces: string[] = []
    for (let i = 0; i < text.length; i += 65_536) pieces.push(text.slice(i, i + 65_536))
    const events = parse(...pieces)
    expect(events).toHaveLength(1)
    expect(events[0]!.data.length).toBe(big.length)
  })
})

describe('readSse', () => {
  it('decodes a byte stream, including a multi-byte character split between chunks', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"café ☕"}\n\n')
    const chunks = Array.from(bytes, (byte) => new Uint8Array([byte]))
    expect(await collect(stream(chunks))).toEqual([{ event: 'delta', data: '{"text":"café ☕"}', id: '' }])
  })

  it('drops an event the stream ended in the middle of', async () => {
    const encoder = new TextEncoder()
    const events = await collect(stream([encoder.encode('data: a\n\ndata: b')]))
    expect(events.map((e) => e.data)).toEqual(['a'])
  })

  it('cancels the body when the consumer stops reading early', async () => {
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: tick\n\n'))
      },
      cancel() {
        cancelled = true
      },
    })
    for await (const event of readSse(body)) {
      expect(event.data).toBe('tick')
      break
    }
    expect(cancelled).toBe(true)
  })
})
