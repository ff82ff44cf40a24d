import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { renderGuide, slugger } from './deploymentGuide'

describe('the deployment guide page', () => {
  it('gives headings the anchors GitHub gives them', () => {
    const slug = slugger()
    expect(slug('Behind a reverse proxy')).toBe('behind-a-reverse-proxy')
    expect(slug('https, OpenRouter and the callback URL')).toBe('https-openrouter-and-the-callback-url')
    expect(slug('`make backup` and restores')).toBe('make-backup-and-restores')
    expect(slug('Behind a reverse proxy')).toBe('behind-a-reverse-proxy-1')
  })

  it('has the section the app links to', () => {
    const guide = readFileSync(join(__dirname, '..', '..', 'docs', 'DEPLOYMENT.md'), 'utf8')
    expect(renderGuide(guide)).toContain('<h2 id="behind-a-reverse-proxy">Behind a reverse proxy</h2>')
  })

  it('keeps in-page and absolute links, and turns repository paths into text', () => {
    const html = renderGuide('[up](#quick-start) [nginx](https://nginx.org/) [compose](../docker-compose.yml)')
    expect(html).toContain('<a href="#quick-start">up</a>')
    expect(html).toContain('<a href="https://nginx.org/">nginx</a>')
    expect(html).toContain(' compose</p>')
  })

  it('never passes raw HTML through', () => {
    expect(renderGuide('<script>alert(1)</script>\n')).not.toContain('<script>')
  })
})
