/**
 * The little Markdown that chat models write anyway (paragraphs, lists, headings, code, bold,
 * italics), parsed into plain structures that a component renders as elements: no HTML string
 * is ever built, so a reply cannot inject markup. Anything else stays literal text, as does a
 * marker that is not closed yet (a reply still streaming in).
 */

export interface Inline {
  kind: 'text' | 'strong' | 'em' | 'code'
  text: string
}

export type Block =
  | { kind: 'paragraph'; lines: Inline[][] }
  | { kind: 'heading'; content: Inline[] }
  | { kind: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { kind: 'code'; text: string }

// `code` first, so that stars inside code stay stars; then **strong**, __strong__, *em*.
// Single underscores are left alone: they are far more often part_of_a_name than emphasis.
const INLINE = /`([^`\n]+)`|\*\*(?=\S)([^*\n]*?\S)\*\*|__(?=\S)([^_\n]*?\S)__|\*(?=[^\s*])([^*\n]*?[^\s*])\*/g

/** Splits one line into text, code, strong and emphasised runs. */
export function parseInline(line: string): Inline[] {
  const out: Inline[] = []
  let last = 0
  for (const match of line.matchAll(INLINE)) {
    const index = match.index ?? 0
    if (index > last) out.push({ kind: 'text', text: line.slice(last, index) })
    if (match[1] !== undefined) out.push({ kind: 'code', text: match[1] })
    else if (match[2] !== undefined || match[3] !== undefined) out.push({ kind: 'strong', text: (match[2] ?? match[3])! })
    else out.push({ kind: 'em', text: match[4]! })
    last = index + match[0].length
  }
  if (last < line.length) out.push({ kind: 'text', text: line.slice(last) })
  return out
}

const BULLET = /^\s{0,3}[-*•]\s+(.*)$/
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/
const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/
const FENCE = /^\s{0,3}```/

type ListBlock = Extract<Block, { kind: 'list' }>

/** Parses a whole reply into blocks. */
export function parseChatText(text: string): Block[] {
  const blocks: Block[] = []
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  // The paragraph or list that the next line may continue; null after a blank line or a block.
  let paragraph: Inline[][] | null = null
  let list: ListBlock | null = null

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (FENCE.test(line)) {
      const code: string[] = []
      for (i++; i < lines.length && !FENCE.test(lines[i]!); i++) code.push(lines[i]!)
      // An unclosed fence (still streaming) holds everything after it.
      blocks.push({ kind: 'code', text: code.join('\n') })
      paragraph = list = null
      continue
    }
    if (line.trim() === '') {
      paragraph = list = null
      continue
    }
    const heading = HEADING.exec(line)
    if (heading) {
      blocks.push({ kind: 'heading', content: parseInline(heading[1]!) })
      paragraph = list = null
      continue
    }
    const bullet = BULLET.exec(line)
    const numbered = bullet ? null : NUMBERED.exec(line)
    if (bullet || numbered) {
      const ordered = numbered !== null
      if (!list || list.ordered !== ordered) {
        list = { kind: 'list', ordered, start: numbered ? Number(numbered[1]) : 1, items: [] }
        blocks.push(list)
        paragraph = null
      }
      list.items.push(parseInline(bullet ? bullet[1]! : numbered![2]!))
      continue
    }
    if (list) {
      // A line right under an item continues it.
      list.items[list.items.length - 1]!.push({ kind: 'text', text: ` ${line.trim()}` })
      continue
    }
    if (!paragraph) {
      paragraph = []
      blocks.push({ kind: 'paragraph', lines: paragraph })
    }
    paragraph.push(parseInline(line))
  }
  return blocks
}
