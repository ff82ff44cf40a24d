// @vitest-environment happy-dom
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/client'
import { chatDone, historyFixture, messageFixture } from '../test/aiFixtures'
import { fakeAiApi } from '../test/fakeAi'
import AiChatPanel from './AiChatPanel.vue'

describe('AiChatPanel', () => {
  let wrapper: VueWrapper | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    vi.useRealTimers()
  })

  async function open(history = historyFixture) {
    const { api, reply } = fakeAiApi()
    api.history.mockResolvedValue(history)
    wrapper = mount(AiChatPanel, {
      props: { imageId: 'img-1', model: 'openai/gpt-4o-mini', modelName: () => 'GPT-4o-mini', client: api },
      attachTo: document.body,
    })
    await flushPromises()
    return { w: wrapper, api, reply }
  }

  async function type(w: VueWrapper, text: string, shiftKey = false) {
    const input = w.get('[data-testid=chat-input]')
    await input.setValue(text)
    await input.trigger('keydown', { key: 'Enter', shiftKey })
    await flushPromises()
  }

  it('shows the saved conversation with each reply’s cost and the total', async () => {
    const { w } = await open()
    const messages = w.findAll('[data-testid=chat-message]')
    expect(messages.map((m) => m.attributes('data-role'))).toEqual(['user', 'assistant'])
    expect(messages[1]!.text()).toContain('A red car by the sea.')
    expect(w.get('[data-testid=chat-message-cost]').text()).toBe('$0.0004')
    expect(w.get('[data-testid=chat-total]').text()).toBe('Conversation: $0.0004')
  })

  it('sends on Enter, shows tokens as they stream, then the saved reply with its cost', async () => {
    const { w, api, reply } = await open()
    await type(w, 'Write alt text')
    expect(api.chat).toHaveBeenCalledWith('img-1', { message: 'Write alt text', model: 'openai/gpt-4o-mini' }, expect.any(AbortSignal))
    expect((w.get('[data-testid=chat-input]').element as HTMLTextAreaElement).value).toBe('')
    expect(w.get('[data-testid=chat-pending]').attributes('data-state')).toBe('streaming')
    expect(w.find('[data-testid=chat-send]').exists()).toBe(false)

    reply.delta('A red ')
    await flushPromises()
    expect(w.get('[data-testid=chat-pending-text]').text()).toBe('A red')
    reply.delta('car.')
    await flushPromises()
    expect(w.get('[data-testid=chat-pending-text]').text()).toBe('A red car.')

    reply.done(chatDone)
    await flushPromises()
    expect(w.find('[data-testid=chat-pending]').exists()).toBe(false)
    expect(w.findAll('[data-testid=chat-message]')).toHaveLength(4)
    expect(w.findAll('[data-testid=chat-message-cost]').map((c) => c.text())).toEqual(['$0.0004', '$0.0012'])
    expect(w.get('[data-testid=chat-total]').text()).toBe('Conversation: $0.0016')
  })

  it('makes a new line on Shift+Enter instead of sending', async () => {
    const { w, api } = await open()
    await type(w, 'first line', true)
    expect(api.chat).not.toHaveBeenCalled()
  })

  it('stops a reply: the partial text stays, marked as not saved', async () => {
    const { w, reply } = await open()
    await type(w, 'Describe it')
    reply.delta('It is a')
    await flushPromises()
    await w.get('[data-testid=chat-stop]').trigger('click')
    await flushPromises()
    expect(reply.signal?.aborted).toBe(true)
    expect(w.get('[data-testid=chat-pending]').attributes('data-state')).toBe('stopped')
    expect(w.get('[data-testid=chat-pending-text]').text()).toBe('It is a')
    expect(w.get('[data-testid=chat-stopped]').text()).toContain('Stopped, not saved.')
    expect(w.find('[data-testid=chat-send]').exists()).toBe(true)
    // Only the saved turns count.
    expect(w.findAll('[data-testid=chat-message][data-saved=true]')).toHaveLength(2)
  })

  it('offers suggestions on an empty conversation, and sends one with a click', async () => {
    const { w, api } = await open({ messages: [], total_cost: null })
    const chips = w.findAll('[data-testid=chat-suggestion]')
    expect(chips.map((c) => c.text())).toEqual(["What's in this photo?", 'Write alt text', 'Suggest a caption'])
    await chips[0]!.trigger('click')
    await flushPromises()
    expect(api.chat.mock.calls[0]![1]).toMatchObject({ message: "What's in this photo?" })
  })

  it('on a 429, counts down and keeps Send disabled until the wait is over', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const { w, api } = await open()
    api.chat.mockImplementationOnce(async function* () {
      throw new ApiError({ code: 'rate_limited', message: 'Rate limit exceeded', status: 429, retryAfter: 2 })
    })
    await type(w, 'hi')
    const problem = w.get('[data-testid=ai-problem]')
    expect(problem.attributes('data-kind')).toBe('rate_limited')
    expect(w.get('[data-testid=ai-countdown]').text()).toBe('You can try again in 2 s.')
    await w.get('[data-testid=chat-input]').setValue('hello again')
    const send = () => w.get('[data-testid=chat-send]')
    expect(send().attributes('disabled')).toBeDefined()
    expect(send().text()).toBe('Wait 2 s')

    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(send().text()).toBe('Wait 1 s')
    expect(send().attributes('disabled')).toBeDefined()
    vi.advanceTimersByTime(1000)
    await flushPromises()
    expect(send().text()).toBe('Send')
    expect(send().attributes('disabled')).toBeUndefined()
    expect(w.get('[data-testid=ai-retry]').attributes('disabled')).toBeUndefined()
  })

  it('on a 402, says credits ran out and links to OpenRouter’s credits page', async () => {
    const { w, api } = await open()
    api.chat.mockImplementationOnce(async function* () {
      throw new ApiError({ code: 'payment_required', message: 'Insufficient credits. Add more using https://openrouter.ai/credits', status: 402 })
    })
    await type(w, 'hi')
    const problem = w.get('[data-testid=ai-problem]')
    expect(problem.attributes('data-kind')).toBe('credits')
    expect(problem.text()).toContain('Out of OpenRouter credits')
    expect(problem.text()).toContain('Insufficient credits.')
    expect(w.get('[data-testid=ai-credits-link]').attributes('href')).toBe('https://openrouter.ai/credits')
    // Retrying the same request cannot help until credits are added.
    expect(w.find('[data-testid=ai-retry]').exists()).toBe(false)
    // Dismissing puts the message back into the composer.
    await w.get('[data-testid=ai-problem-dismiss]').trigger('click')
    expect((w.get('[data-testid=chat-input]').element as HTMLTextAreaElement).value).toBe('hi')
  })

  it('after an error in the middle of the stream, offers to try again', async () => {
    const { w, api, reply } = await open()
    await type(w, 'hi')
    reply.delta('Half')
    reply.fail(new ApiError({ code: 'upstream_error', message: 'Provider disconnected', status: 200 }))
    await flushPromises()
    expect(w.get('[data-testid=chat-pending]').attributes('data-state')).toBe('failed')
    expect(w.get('[data-testid=ai-problem]').attributes('data-kind')).toBe('retryable')
    await w.get('[data-testid=ai-retry]').trigger('click')
    await flushPromises()
    expect(api.chat).toHaveBeenCalledTimes(2)
    expect(w.find('[data-testid=ai-problem]').exists()).toBe(false)
  })

  it('renders the Markdown models write as elements, never as HTML', async () => {
    const reply = '**Alt text:** a *red* car\n\n- by the sea\n- at dusk\n\n<img src=x onerror=alert(1)>'
    const { w } = await open({ messages: [messageFixture('m1', 'assistant', reply, 0.001)], total_cost: 0.001 })
    const message = w.get('[data-testid=chat-message]')
    expect(message.get('strong').text()).toBe('Alt text:')
    expect(message.get('em').text()).toBe('red')
    expect(message.findAll('li').map((li) => li.text())).toEqual(['by the sea', 'at dusk'])
    expect(message.find('img').exists()).toBe(false)
    expect(message.text()).toContain('<img src=x onerror=alert(1)>')
  })

  it('copies a reply to the clipboard', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const { w } = await open()
    await w.get('[data-testid=chat-copy]').trigger('click')
    await flushPromises()
    expect(writeText).toHaveBeenCalledWith('A red car by the sea.')
    expect(w.get('[data-testid=chat-copy]').text()).toBe('Copied')
  })
})
