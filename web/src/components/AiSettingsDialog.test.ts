// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { ApiError } from '../api/client'
import type { OpenRouterApi } from '../api/openrouter'
import type { OpenRouterStatus } from '../api/types'
import { useConfirm } from '../composables/useConfirm'
import { useOpenRouter } from '../composables/useOpenRouter'
import AiSettingsDialog from './AiSettingsDialog.vue'
import { connectedStatus, disconnectedStatus, KEY_HASH } from '../test/fixtures'

const hash = KEY_HASH
const disconnected = disconnectedStatus
const connected = connectedStatus

describe('AiSettingsDialog', () => {
  const scope = effectScope()
  let wrapper: ReturnType<typeof mount> | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  async function open(status: OpenRouterStatus | Error, client: Partial<OpenRouterApi> = {}) {
    const fake: OpenRouterApi = {
      status: status instanceof Error ? vi.fn().mockRejectedValue(status) : vi.fn().mockResolvedValue(status),
      connect: vi.fn().mockResolvedValue({ authorize_url: 'https://openrouter.ai/auth?x=1' }),
      disconnect: vi.fn().mockResolvedValue({ ...disconnected, revoke_url: connected.revoke_url }),
      ...client,
    }
    const navigate = vi.fn()
    const connection = scope.run(() => useOpenRouter(fake, { navigate }))!
    wrapper = mount(AiSettingsDialog, { props: { open: false, connection }, attachTo: document.body })
    await wrapper.setProps({ open: true })
    await flushPromises()
    return { w: wrapper, fake, navigate }
  }

  it('offers to connect when disconnected, and goes to OpenRouter', async () => {
    const { w, fake, navigate } = await open(disconnected)
    expect(w.get('[data-testid=openrouter-state]').text()).toBe('Not connected')
    expect(w.text()).toContain('never reaches the browser')
    expect(w.find('[data-testid=openrouter-disconnect]').exists()).toBe(false)
    expect(w.find('[data-testid=openrouter-server-key]').exists()).toBe(false)
    expect(w.find('[data-testid=callback-problem]').exists()).toBe(false)
    expect(w.get('[data-testid=callback-url]').text()).toBe('http://localhost:8081/oauth/callback')

    await w.get('[data-testid=openrouter-connect]').trigger('click')
    await flushPromises()
    expect(fake.connect).toHaveBeenCalledOnce()
    expect(navigate).toHaveBeenCalledWith('https://openrouter.ai/auth?x=1')
    expect(w.get('[data-testid=openrouter-connect]').text()).toBe('Opening OpenRouter…')
  })

  it('shows why connecting failed', async () => {
    const refused = new ApiError({ code: 'rate_limited', message: 'Too many attempts.', status: 429 })
    const { w } = await open(disconnected, { connect: vi.fn().mockRejectedValue(refused) })
    await w.get('[data-testid=openrouter-connect]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=openrouter-action-error]').text()).toBe("Couldn't start connecting: Too many attempts.")
    expect(w.get('[data-testid=openrouter-connect]').attributes('disabled')).toBeUndefined()
  })

  it('shows the connected key with its credit, and disconnects after confirming', async () => {
    const { w, fake } = await open(connected)
    const state = w.get('[data-testid=openrouter-state]')
    expect(state.text()).toBe('Connected')
    expect(state.attributes('data-state')).toBe('connected')
    expect(w.get('[data-testid=openrouter-label]').text()).toBe('Laptop key')
    expect(w.get('[data-testid=openrouter-credit]').text()).toBe('$7.25 of $10.00 left')
    expect(w.get('[data-testid=openrouter-usage]').text()).toBe('$2.75 used')
    expect(w.find('[data-testid=openrouter-connect]').exists()).toBe(false)

    await w.get('[data-testid=openrouter-disconnect]').trigger('click')
    await nextTick()
    expect(useConfirm().pending.value?.title).toBe('Disconnect OpenRouter?')
    useConfirm().answer(true)
    await flushPromises()

    expect(fake.disconnect).toHaveBeenCalledOnce()
    expect(w.get('[data-testid=openrouter-state]').text()).toBe('Not connected')
    expect(w.get('[data-testid=openrouter-disconnected]').text()).toContain(
      'Disconnected. This app cannot revoke the key itself: revoke it at OpenRouter',
    )
    const revoke = w.get('[data-testid=openrouter-revoke]')
    expect(revoke.attributes('href')).toBe(`https://openrouter.ai/keys/${hash}`)
    expect(revoke.attributes('target')).toBe('_blank')
    expect(revoke.attributes('rel')).toBe('noopener noreferrer')
    expect(w.find('[data-testid=openrouter-connect]').exists()).toBe(true)
  })

  it('does nothing when the disconnect is not confirmed', async () => {
    const { w, fake } = await open(connected)
    await w.get('[data-testid=openrouter-disconnect]').trigger('click')
    await nextTick()
    useConfirm().answer(false)
    await flushPromises()
    expect(fake.disconnect).not.toHaveBeenCalled()
    expect(w.get('[data-testid=openrouter-state]').text()).toBe('Connected')
  })

  it('says "No spending limit" for a key without one', async () => {
    const { w } = await open({ ...connected, limit: null, limit_remaining: null })
    expect(w.get('[data-testid=openrouter-credit]').text()).toBe('No spending limit')
  })

  it("labels the server's shared key and still offers to connect", async () => {
    const { w } = await open({ ...disconnected, state: 'connected', source: 'server', server_key_available: true })
    expect(w.get('[data-testid=openrouter-state]').text()).toBe("Using this server's shared key")
    expect(w.get('[data-testid=openrouter-server-key]').text()).toContain(
      "AI features work without connecting, billed to the server's owner",
    )
    expect(w.find('[data-testid=openrouter-connect]').exists()).toBe(true)
    expect(w.find('[data-testid=openrouter-credit]').exists()).toBe(false)
  })

  it('mentions the shared key next to Connect when the server has one', async () => {
    const { w } = await open({ ...disconnected, server_key_available: true })
    expect(w.find('[data-testid=openrouter-server-key]').exists()).toBe(true)
    expect(w.find('[data-testid=openrouter-connect]').exists()).toBe(true)
  })

  it('asks to reconnect when OpenRouter rejected the stored key', async () => {
    const { w } = await open({ ...connected, state: 'invalid', limit: null, limit_remaining: null, usage: null })
    expect(w.get('[data-testid=openrouter-state]').attributes('data-state')).toBe('invalid')
    expect(w.get('[data-testid=openrouter-invalid]').text()).toBe(
      'OpenRouter rejected the stored key (it may have been revoked). Reconnect to keep using AI features.',
    )
    expect(w.find('[data-testid=openrouter-connect]').exists()).toBe(true)
  })

  it('warns when OpenRouter will refuse the callback URL', async () => {
    const problem =
      'OpenRouter only accepts https or localhost callback URLs; this server uses http://192.168.1.5:8082/oauth/callback.'
    const { w } = await open({
      ...disconnected,
      callback_url: 'http://192.168.1.5:8082/oauth/callback',
      callback_ok: false,
      callback_problem: problem,
    })
    const box = w.get('[data-testid=callback-problem]')
    expect(box.text()).toContain(problem)
    expect(box.text()).toContain('OPENROUTER_APP_URL')
    expect(w.get('[data-testid=callback-url]').text()).toBe('http://192.168.1.5:8082/oauth/callback')
  })

  it('shows a failed status check with its request ID, and retries', async () => {
    const down = new ApiError({ code: 'service_unavailable', message: 'AI features are unavailable.', status: 503, requestId: 'req-1' })
    const { w, fake } = await open(down)
    expect(w.get('[data-testid=openrouter-error]').text()).toContain('AI features are unavailable.')
    expect(w.get('[data-testid=openrouter-error]').text()).toContain('req-1')
    expect(w.find('[data-testid=openrouter-state]').exists()).toBe(false)

    vi.mocked(fake.status).mockResolvedValueOnce(disconnected)
    await w.get('[data-testid=openrouter-retry]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=openrouter-error]').exists()).toBe(false)
    expect(w.get('[data-testid=openrouter-state]').text()).toBe('Not connected')
  })
})
