import { describe, expect, it } from 'vitest'
import { connectedStatus, disconnectedStatus } from '../test/fixtures'
import { describeConnection } from './openrouterConnection'

describe('describeConnection', () => {
  it('shows credit and offers Disconnect, not Connect, for a working key of their own', () => {
    const view = describeConnection(connectedStatus)
    expect(view.badge).toEqual({ text: 'Connected', tone: 'success' })
    expect(view.credit).toEqual({ left: '$7.25 of $10.00 left', used: '$2.75 used' })
    expect(view.ownKey).toBe(true)
    expect(view.canConnect).toBe(false)
  })

  it('lets a rejected key of their own be removed and replaced, without credit', () => {
    const view = describeConnection({ ...connectedStatus, state: 'invalid' })
    expect(view.badge.tone).toBe('warning')
    expect(view.credit).toBeNull()
    expect(view.ownKey).toBe(true)
    expect(view.canConnect).toBe(true)
  })

  it("names the server's shared key, and offers connecting one of their own", () => {
    const view = describeConnection({ ...disconnectedStatus, state: 'connected', source: 'server', server_key_available: true })
    expect(view.badge).toEqual({ text: "Using this server's shared key", tone: 'shared' })
    expect(view.sharedNote).toBe(true)
    expect(view.ownKey).toBe(false)
    expect(view.canConnect).toBe(true)
  })

  it('has nothing to remove or note without any key', () => {
    const view = describeConnection(disconnectedStatus)
    expect(view.badge.text).toBe('Not connected')
    expect(view.ownKey).toBe(false)
    expect(view.sharedNote).toBe(false)
    expect(view.canConnect).toBe(true)
  })
})
