// @vitest-environment happy-dom
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, effectScope, h } from 'vue'
import type { AiApi } from '../api/ai'
import { ApiError } from '../api/client'
import type { OpenRouterApi } from '../api/openrouter'
import type { AiEditResult, OpenRouterStatus } from '../api/types'
import { provideAi } from '../composables/aiContext'
import { useAiModels } from '../composables/useAiModels'
import { useOpenRouter } from '../composables/useOpenRouter'
import { fakeAiApi } from '../test/fakeAi'
import { connectedStatus, disconnectedStatus, imageFixture } from '../test/fixtures'
import AiPanel from './AiPanel.vue'

const edited: AiEditResult = {
  image: imageFixture('img-1', { number: 2, operation: 'ai_edit', params: { instruction: 'invert it' }, format: 'png' }),
  text: 'I inverted the colours.',
  cost: 0.0391,
}

describe('AiPanel', () => {
  const scope = effectScope()
  let wrapper: VueWrapper | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  async function open(status: OpenRouterStatus, edit?: AiApi['edit']) {
    const statusCall = vi.fn<OpenRouterApi['status']>().mockResolvedValue(status)
    const openRouter: OpenRouterApi = {
      status: statusCall,
      connect: vi.fn(),
      disconnect: vi.fn(),
    }
    const { api } = fakeAiApi(edit ? { edit } : {})
    const connection = scope.run(() => useOpenRouter(openRouter))!
    const models = scope.run(() => useAiModels(api))!
    const openSettings = vi.fn()
    const replaceImage = vi.fn()
    const setEditing = vi.fn()
    const Host = defineComponent({
      setup() {
        provideAi({ connection, models, openSettings, replaceImage, setEditing, client: api })
        return () => h(AiPanel, { image: imageFixture('img-1'), busy: false })
      },
    })
    wrapper = mount(Host, { attachTo: document.body })
    await flushPromises()
    return { w: wrapper, api, openSettings, replaceImage, setEditing, status: statusCall }
  }

  it('asks to connect when there is no key, and opens the AI settings', async () => {
    const { w, api, openSettings } = await open(disconnectedStatus)
    expect(w.get('[data-testid=ai-connect-cta]').text()).toContain('Connect your OpenRouter account')
    expect(w.find('[data-testid=ai-chat]').exists()).toBe(false)
    expect(api.models).not.toHaveBeenCalled()
    await w.get('[data-testid=ai-open-settings]').trigger('click')
    expect(openSettings).toHaveBeenCalledOnce()
  })

  it('works with the server’s shared key too, and says so', async () => {
    const shared: OpenRouterStatus = { ...disconnectedStatus, state: 'connected', source: 'server', server_key_available: true }
    const { w } = await open(shared)
    expect(w.find('[data-testid=ai-connect-cta]').exists()).toBe(false)
    expect(w.get('[data-testid=ai-panel-settings]').text()).toContain('Shared key')
    expect(w.find('[data-testid=ai-chat]').exists()).toBe(true)
  })

  it('when connected, names the chosen models and edits the image into a new version', async () => {
    const { w, api, replaceImage } = await open(connectedStatus, vi.fn<AiApi['edit']>().mockResolvedValue(edited))
    expect(w.get('[data-testid=ai-chat-model]').text()).toBe('GPT-4o-mini')
    expect(w.get('[data-testid=ai-edit-model]').text()).toBe('Gemini 2.5 Flash Image')

    await w.get('[data-testid=ai-edit-input]').setValue('invert it')
    await w.get('[data-testid=ai-edit-apply]').trigger('click')
    await flushPromises()
    expect(api.edit).toHaveBeenCalledWith(
      'img-1',
      { instruction: 'invert it', model: 'google/gemini-2.5-flash-image' },
      expect.any(AbortSignal),
    )
    expect(replaceImage).toHaveBeenCalledWith(edited.image)
    const result = w.get('[data-testid=ai-edit-result]')
    expect(result.text()).toContain('Version 2')
    expect(w.get('[data-testid=ai-edit-text]').text()).toBe('I inverted the colours.')
    expect(w.get('[data-testid=ai-edit-cost]').text()).toBe('Cost $0.04')
    // The result line states format, dimensions and size; a format change is said, with the way back.
    expect(w.get('[data-testid=ai-edit-detail]').text()).toContain('PNG · 4000 × 3000 · 2.2 MB')
    expect(w.get('[data-testid=ai-edit-came-back]').text()).toContain('Came back 4000×3000 PNG; the original was 4000×3000 JPEG.')
    expect(w.get('[data-testid=ai-edit-restore]').text()).toBe('Back to 4000×3000 JPEG')
  })

  it('checks the connection again when the server says there is no key, then asks to connect', async () => {
    const refused = new ApiError({ code: 'openrouter_not_connected', message: 'Connect OpenRouter first.', status: 409 })
    const { w, status } = await open(connectedStatus, vi.fn<AiApi['edit']>().mockRejectedValue(refused))
    status.mockResolvedValue(disconnectedStatus)
    await w.get('[data-testid=ai-edit-input]').setValue('invert it')
    await w.get('[data-testid=ai-edit-apply]').trigger('click')
    await flushPromises()
    expect(status).toHaveBeenCalledTimes(2)
    expect(w.find('[data-testid=ai-edit]').exists()).toBe(false)
    expect(w.find('[data-testid=ai-connect-cta]').exists()).toBe(true)
  })

  it('shows progress with Cancel while an edit runs; cancelling leaves the image alone', async () => {
    const edit = vi.fn<AiApi['edit']>().mockImplementation(
      (_id, _body, signal) =>
        new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError'))),
        ),
    )
    const { w, replaceImage, setEditing } = await open(connectedStatus, edit)
    await w.get('[data-testid=ai-edit-input]').setValue('remove the car')
    await w.get('[data-testid=ai-edit-apply]').trigger('click')
    await flushPromises()
    expect(w.get('[data-testid=ai-edit-progress]').text()).toContain('Editing with AI')
    // The rest of the editor is locked meanwhile: another change would make the server refuse the edit.
    expect(setEditing.mock.calls).toEqual([['img-1', true]])
    await w.get('[data-testid=ai-edit-cancel]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid=ai-edit-progress]').exists()).toBe(false)
    expect(w.get('[data-testid=ai-edit-cancelled]').text()).toBe('Cancelled. The image is unchanged.')
    expect(replaceImage).not.toHaveBeenCalled()
    expect(setEditing.mock.calls).toEqual([
      ['img-1', true],
      ['img-1', false],
    ])
  })
})
