// The deployment guide (docs/DEPLOYMENT.md) as a page the app serves itself, so that what the app
// tells an operator (About's plain-http note) can link to the section it means. Built with the
// app: the guide on the server always matches the version running.
import { readFileSync } from 'node:fs'
import { Marked, type Tokens } from 'marked'

/** GitHub's heading anchors, so the same #fragment works here and on a code host. */
export function slugger(): (text: string) => string {
  const seen = new Map<string, number>()
  return (text) => {
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    return count === 0 ? base : `${base}-${count}`
  }
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The guide as a whole HTML document; links to other repository files become plain text. */
export function renderGuide(markdown: string): string {
  const slug = slugger()
  const marked = new Marked({
    gfm: true,
    renderer: {
      heading(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Heading) {
        const inner = this.parser.parseInline(token.tokens)
        return `<h${token.depth} id="${slug(token.text)}">${inner}</h${token.depth}>\n`
      },
      link(this: { parser: { parseInline(tokens: Tokens.Generic[]): string } }, token: Tokens.Link) {
        const inner = this.parser.parseInline(token.tokens)
        // Only in-page anchors and absolute URLs lead anywhere from this page.
        if (!/^(#|https?:\/\/)/.test(token.href)) return inner
        return `<a href="${escapeHtml(token.href)}">${inner}</a>`
      },
      html(token: Tokens.HTML | Tokens.Tag) {
        return escapeHtml(token.text)
      },
    },
  })
  const body = marked.parse(markdown, { async: false })
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<title>Deploying ImageTools</title><link rel="stylesheet" href="/docs/guide.css"></head>' +
    `<body><main>${body}</main></body></html>\n`
  )
}

export function renderGuideFile(path: string): string {
  return renderGuide(readFileSync(path, 'utf8'))
}
