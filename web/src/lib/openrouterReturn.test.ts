import { describe, expect, it } from 'vitest'
import { connectFailedMessage, readOpenRouterReturn } from './openrouterReturn'

const origin = 'http://localhost:8081'

describe('readOpenRouterReturn', () => {
  it('leaves an ordinary address alone', () => {
    expect(readOpenRouterReturn(`${origin}/`)).toBeNull()
    expect(readOpenRouterReturn(`${origin}/?tab=images#top`)).toBeNull()
    expect(readOpenRouterReturn('not a url')).toBeNull()
  })

  it('reads a successful connection and removes the parameter', () => {
    expect(readOpenRouterReturn(`${origin}/?openrouter=connected`)).toEqual({
      result: { outcome: 'connected' },
      url: '/',
    })
  })

  it('reads a failure with its URL-encoded reason', () => {
    const reason = encodeURIComponent('You denied access & closed the page.')
    expect(readOpenRouterReturn(`${origin}/?openrouter=failed&reason=${reason}`)).toEqual({
      result: { outcome: 'failed', reason: 'You denied access & closed the page.' },
      url: '/',
    })
    // Form encoding (+ for spaces) is read too.
    expect(readOpenRouterReturn(`${origin}/?openrouter=failed&reason=Code+expired`)?.result).toEqual({
      outcome: 'failed',
      reason: 'Code expired',
    })
  })

  it('reads a failure without a reason', () => {
    expect(readOpenRouterReturn(`${origin}/?openrouter=failed`)?.result).toEqual({ outcome: 'failed', reason: null })
    expect(readOpenRouterReturn(`${origin}/?openrouter=failed&reason=%20%20`)?.result).toEqual({
      outcome: 'failed',
      reason: null,
    })
  })

  it('keeps other parameters exactly as written, and the path and hash', () => {
    expect(readOpenRouterReturn(`${origin}/app/?a=1&openrouter=failed&b=x%20y&reason=Nope#editor`)).toEqual({
      result: { outcome: 'failed', reason: 'Nope' },
      url: '/app/?a=1&b=x%20y#editor',
    })
    expect(readOpenRouterReturn(`${origin}/?openrouter=connected&lang=de`)?.url).toBe('/?lang=de')
  })

  it('removes an unknown value without reporting anything', () => {
    expect(readOpenRouterReturn(`${origin}/?openrouter=maybe&x=1`)).toEqual({ result: null, url: '/?x=1' })
  })

  it('keeps a crafted reason to one short line of text', () => {
    const long = 'a'.repeat(500)
    const read = readOpenRouterReturn(`${origin}/?openrouter=failed&reason=${long}`)
    const reason = read?.result?.outcome === 'failed' ? read.result.reason : null
    expect(reason).toHaveLength(200)
    expect(reason?.endsWith('…')).toBe(true)

    const multiline = encodeURIComponent('line one\n\n\tline two\u0007')
    expect(readOpenRouterReturn(`${origin}/?openrouter=failed&reason=${multiline}`)?.result).toEqual({
      outcome: 'failed',
      reason: 'line one line two',
    })
  })
})

describe('connectFailedMessage', () => {
  it('quotes the reason after fixed wording', () => {
    expect(connectFailedMessage('Authorization code expired')).toBe(
      "Couldn't connect OpenRouter: Authorization code expired",
    )
    expect(connectFailedMessage(null)).toBe("Couldn't connect OpenRouter. Please try again.")
  })
})
