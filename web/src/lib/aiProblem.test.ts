import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { aiProblem, DEFAULT_RETRY_SECONDS } from './aiProblem'

function error(status: number, code = 'x', retryAfter: number | null = null): ApiError {
  return new ApiError({ code, message: `m${status}`, status, retryAfter })
}

describe('aiProblem', () => {
  it('sorts errors by what the person can do about them', () => {
    expect(aiProblem(error(409, 'openrouter_not_connected')).kind).toBe('not_connected')
    expect(aiProblem(error(402, 'payment_required'))).toEqual({ kind: 'credits', message: 'm402' })
    expect(aiProblem(error(429, 'rate_limited', 7))).toEqual({ kind: 'rate_limited', message: 'm429', retryAfter: 7 })
    expect(aiProblem(error(502)).kind).toBe('retryable')
    expect(aiProblem(error(504)).kind).toBe('retryable')
    expect(aiProblem(error(0, 'network_error')).kind).toBe('retryable')
    expect(aiProblem(error(422, 'upstream_refused')).kind).toBe('refused')
    expect(aiProblem(error(404, 'not_found')).kind).toBe('refused')
    // The image changed while the edit ran: not a connection problem.
    expect(aiProblem(error(409, 'conflict')).kind).toBe('refused')
  })

  it('reads an error event in the middle of a 200 stream by its code', () => {
    expect(aiProblem(error(200, 'payment_required')).kind).toBe('credits')
    expect(aiProblem(error(200, 'rate_limited', 2))).toMatchObject({ kind: 'rate_limited', retryAfter: 2 })
    expect(aiProblem(error(200, 'upstream_error')).kind).toBe('retryable')
  })

  it('waits a default time after a 429 that did not say how long', () => {
    expect(aiProblem(error(429))).toMatchObject({ retryAfter: DEFAULT_RETRY_SECONDS })
  })
})
