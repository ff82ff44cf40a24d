// @vitest-environment happy-dom
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '../api/client'
import type { OpenRouterApi } from '../api/openrouter'
import type { AiModels, OpenRouterStatus } from '../api/types'
import { useAiModels } from '../composables/useAiModels'
import { useOpenRouter } from '../composables/useOpenRouter'
import { modelFixture, modelsFixture } from '../test/aiFixtures'
import { fakeAiApi } from '../test/fakeAi'
import { connectedStatus, disconnectedStatus } from '../test/fixtures'
import AiSettingsDialog from './AiSettingsDialog.vue'

describe('model choice in the AI settings dialog', () => {
  const scope = effectScope()
  let wrapper: VueWrapper | null = null
  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
  })

  async function open(status: OpenRouterStatus, catalogue: AiModels = modelsFixture) {
    const openRouter: OpenRouterApi = {
      status: vi.fn().mockResolvedValue(status),
      connect: vi.fn(),
      disconnect: vi.fn(),
    }
    const { api } = fakeAiApi()
    api.models.mockResolvedValue(catalogue)
    const connection = scope.run(() => useOpenRouter(openRouter))!
    const models = scope.run(() => useAiModels(api))!
    wrapper = mount(AiSettingsDialog, { props: { open: false, connection, models }, attachTo: document.body })
    await wrapper.setProps({ open: true })
    await flushPromises()
    return { w: wrapper, api }
  }

  it('is not shown without a key', async () => {
    const { w, api } = await open(disconnectedStatus)
    expect(w.find('[data-testid=ai-models]').exists()).toBe(false)
    expect(api.models).not.toHaveBeenCalled()
  })

  it('lists chat and edit models with their prices, and saves a choice', async () => {
    const { w, api } = await open(connectedStatus)
    const chat = w.get('[data-testid=ai-model-chat]')
    expect(w.get('[data-testid=ai-model-current-chat]').text()).toBe('OpenAI: GPT-4o-mini')
    expect(chat.text()).toContain('$0.15 / M in · $0.60 / M out · 128K context')
    expect(w.get('[data-testid=ai-model-edit]').text()).toContain('$0.039 / image')
    const options = chat.findAll('[data-testid=ai-model-option]')
    expect(options.map((o) => (o.element as HTMLInputElement).checked)).toEqual([true, false])

    await chat.get('[data-model-id="google/gemini-2.5-flash"]').setValue(true)
    await flushPromises()
    expect(api.selectModels).toHaveBeenCalledWith({ chat: 'google/gemini-2.5-flash' })
    expect(w.get('[data-testid=ai-model-current-chat]').text()).toBe('Google: Gemini 2.5 Flash')
  })

  it('says why a choice was not saved and shows the one that holds', async () => {
    const { w, api } = await open(connectedStatus)
    api.selectModels.mockRejectedValueOnce(new ApiError({ code: 'validation_error', message: 'Unknown model.', status: 422 }))
    await w.get('[data-model-id="google/gemini-2.5-flash"]').setValue(true)
    await flushPromises()
    expect(w.get('[data-testid=ai-models-save-error]').text()).toBe("Couldn't save the model: Unknown model.")
    const checked = w.findAll('[data-testid=ai-model-chat] [data-testid=ai-model-option]').map((o) => (o.element as HTMLInputElement).checked)
    expect(checked).toEqual([true, false])
  })

  it('makes a long list searchable', async () => {
    const many = Array.from({ length: 12 }, (_, i) => modelFixture(`vendor/model-${i}`, `Vendor: Model ${i}`))
    const catalogue = { ...modelsFixture, chat: [...modelsFixture.chat, ...many] }
    const { w } = await open(connectedStatus, catalogue)
    const search = w.get('[data-testid=ai-model-search-chat]')
    expect(w.find('[data-testid=ai-model-search-edit]').exists()).toBe(false)
    await search.setValue('gemini flash')
    const shown = w.findAll('[data-testid=ai-model-chat] [data-testid=ai-model-option]')
    expect(shown.map((o) => o.attributes('data-model-id'))).toEqual(['google/gemini-2.5-flash'])
    await search.setValue('nothing like it')
    expect(w.get('[data-testid=ai-model-chat]').text()).toContain('No model matches')
  })

  it('reports a list that failed to load, with a retry', async () => {
    const openRouter: OpenRouterApi = { status: vi.fn().mockResolvedValue(connectedStatus), connect: vi.fn(), disconnect: vi.fn() }
    const { api } = fakeAiApi()
    api.models.mockRejectedValueOnce(new ApiError({ code: 'upstream_error', message: 'OpenRouter did not answer.', status: 502 }))
    const connection = scope.run(() => useOpenRouter(openRouter))!
    const models = scope.run(() => useAiModels(api))!
    wrapper = mount(AiSettingsDialog, { props: { open: false, connection, models }, attachTo: document.body })
    await wrapper.setProps({ open: true })
    await flushPromises()
    expect(wrapper.get('[data-testid=ai-models-error]').text()).toContain('OpenRouter did not answer.')
    await wrapper.get('[data-testid=ai-models-retry]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid=ai-model-chat]').exists()).toBe(true)
  })
})
