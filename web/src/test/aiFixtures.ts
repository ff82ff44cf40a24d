import type { AiModel, AiModels, ChatDone, ChatHistory, ChatMessage } from '../api/types'

/** A model as GET /api/v1/ai/models lists it; prices are USD per token / per image, as strings. */
export function modelFixture(id: string, name: string, prompt = '0.00000015', completion = '0.0000006', image = '0'): AiModel {
  return { id, name, context_length: 128_000, pricing: { prompt, completion, image } }
}

export const modelsFixture: AiModels = {
  chat: [
    modelFixture('openai/gpt-4o-mini', 'OpenAI: GPT-4o-mini'),
    modelFixture('google/gemini-2.5-flash', 'Google: Gemini 2.5 Flash', '0.0000003', '0.0000025'),
  ],
  edit: [
    modelFixture('google/gemini-2.5-flash-image', 'Google: Gemini 2.5 Flash Image', '0.0000003', '0.00003', '0.039'),
  ],
  selected: { chat: 'openai/gpt-4o-mini', edit: 'google/gemini-2.5-flash-image' },
}

export function messageFixture(id: string, role: ChatMessage['role'], content: string, cost: number | null = null): ChatMessage {
  return {
    id,
    role,
    content,
    model: role === 'assistant' ? 'openai/gpt-4o-mini' : null,
    cost,
    created_at: '2026-11-25T20:00:00Z',
  }
}

export const historyFixture: ChatHistory = {
  messages: [
    messageFixture('m1', 'user', "What's in this photo?"),
    messageFixture('m2', 'assistant', 'A red car by the sea.', 0.0004),
  ],
  total_cost: 0.0004,
}

export const chatDone: ChatDone = {
  user_message: messageFixture('m3', 'user', 'Write alt text'),
  assistant_message: messageFixture('m4', 'assistant', 'A red car.', 0.0012),
  cost: 0.0012,
  total_cost: 0.0016,
}
