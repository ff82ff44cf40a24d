import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '../api/client'
import { modelsFixture } from '../test/aiFixtures'
import { fakeAiApi } from '../test/fakeAi'
import { useAiModels } from './useAiModels'

describe('useAiModels', () => {
  let scope: ReturnType<typeof effectScope>
  beforeEach(() => {
    scope = effectScope()
  })
  afterEach(() => scope.stop())

  it('loads both lists and names the chosen models', async () => {
    const { api } = fakeAiApi()
    const models = scope.run(() => useAiModels(api))!
    await models.load()
    expect(models.catalogue.value).toEqual(modelsFixture)
    expect(models.selected('chat')?.name).toBe('OpenAI: GPT-4o-mini')
    expect(models.selected('edit')?.id).toBe('google/gemini-2.5-flash-image')
  })

  it('saves a choice with PUT and takes the server answer', async () => {
    const { api } = fakeAiApi()
    const models = scope.run(() => useAiModels(api))!
    await models.load()
    expect(await models.select('chat', 'google/gemini-2.5-flash')).toBe(true)
    expect(api.selectModels).toHaveBeenCalledWith({ chat: 'google/gemini-2.5-flash' })
    expect(models.selected('chat')?.id).toBe('google/gemini-2.5-flash')
    // Choosing what is already chosen costs no request.
    expect(await models.select('chat', 'google/gemini-2.5-flash')).toBe(true)
    expect(api.selectModels).toHaveBeenCalledOnce()
  })

  it('keeps the old choice when the server refuses the new one', async () => {
    const { api } = fakeAiApi()
    api.selectModels.mockRejectedValueOnce(new ApiError({ code: 'validation_error', message: 'Unknown model.', status: 422 }))
    const models = scope.run(() => useAiModels(api))!
    await models.load()
    expect(await models.select('edit', 'nope/none')).toBe(false)
    expect(models.saveError.value?.message).toBe('Unknown model.')
    expect(models.selected('edit')?.id).toBe('google/gemini-2.5-flash-image')
    expect(models.saving.value).toBeNull()
  })

  it('reports a failed load and forgets everything on reset', async () => {
    const { api } = fakeAiApi()
    api.models.mockRejectedValueOnce(new ApiError({ code: 'openrouter_not_connected', message: 'Connect first.', status: 409 }))
    const models = scope.run(() => useAiModels(api))!
    await models.load()
    expect(models.error.value?.status).toBe(409)
    await models.load()
    expect(models.error.value).toBeNull()
    models.reset()
    expect(models.catalogue.value).toBeNull()
    expect(models.selected('chat')).toBeNull()
  })
})
