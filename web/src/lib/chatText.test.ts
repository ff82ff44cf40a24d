import { describe, expect, it } from 'vitest'
import { parseChatText, parseInline } from './chatText'

describe('parseInline', () => {
  it('finds code, bold and italics, and leaves the rest as text', () => {
    expect(parseInline('A **red** car, *probably* a `Fiat 500`.')).toEqual([
      { kind: 'text', text: 'A ' },
      { kind: 'strong', text: 'red' },
      { kind: 'text', text: ' car, ' },
      { kind: 'em', text: 'probably' },
      { kind: 'text', text: ' a ' },
      { kind: 'code', text: 'Fiat 500' },
      { kind: 'text', text: '.' },
    ])
    expect(parseInline('__Alt text:__ a dog')).toEqual([
      { kind: 'strong', text: 'Alt text:' },
      { kind: 'text', text: ' a dog' },
    ])
  })

  it('keeps unclosed markers (a reply still streaming), snake_case, maths and code stars literal', () => {
    expect(parseInline('A **red')).toEqual([{ kind: 'text', text: 'A **red' }])
    expect(parseInline('file_name_here')).toEqual([{ kind: 'text', text: 'file_name_here' }])
    expect(parseInline('2 * 3 * 4')).toEqual([{ kind: 'text', text: '2 * 3 * 4' }])
    expect(parseInline('`a*b*c`')).toEqual([{ kind: 'code', text: 'a*b*c' }])
  })

  it('never turns text into markup', () => {
    expect(parseInline('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }])
  })
})

describe('parseChatText', () => {
  it('splits paragraphs on blank lines and keeps line breaks inside them', () => {
    expect(parseChatText('One\ntwo\n\nThree')).toEqual([
      { kind: 'paragraph', lines: [[{ kind: 'text', text: 'One' }], [{ kind: 'text', text: 'two' }]] },
      { kind: 'paragraph', lines: [[{ kind: 'text', text: 'Three' }]] },
    ])
  })

  it('reads bullet and numbered lists, with continuation lines', () => {
    const blocks = parseChatText('Captions:\n1. A harbour\n2. Boats at dawn\n   in the mist\n\n- short\n* sweet')
    expect(blocks).toEqual([
      { kind: 'paragraph', lines: [[{ kind: 'text', text: 'Captions:' }]] },
      {
        kind: 'list',
        ordered: true,
        start: 1,
        items: [
          [{ kind: 'text', text: 'A harbour' }],
          [
            { kind: 'text', text: 'Boats at dawn' },
            { kind: 'text', text: ' in the mist' },
          ],
        ],
      },
      { kind: 'list', ordered: false, start: 1, items: [[{ kind: 'text', text: 'short' }], [{ kind: 'text', text: 'sweet' }]] },
    ])
  })

  it('reads headings and fenced code, even a fence not closed yet', () => {
    expect(parseChatText('## Alt text\n```\n<b>x</b>\n```')).toEqual([
      { kind: 'heading', content: [{ kind: 'text', text: 'Alt text' }] },
      { kind: 'code', text: '<b>x</b>' },
    ])
    expect(parseChatText('```\nstill')).toEqual([{ kind: 'code', text: 'still' }])
  })

  it('accepts CRLF and ignores empty input', () => {
    expect(parseChatText('a\r\nb')).toEqual([{ kind: 'paragraph', lines: [[{ kind: 'text', text: 'a' }], [{ kind: 'text', text: 'b' }]] }])
    expect(parseChatText('')).toEqual([])
  })
})
