// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { Preset, PreviewView } from '../api/types'
import type { Estimate } from '../composables/usePreviews'
import { DEFAULT_SETTINGS } from '../lib/compression'
import { previewFixture } from '../test/fixtures'
import CompressPresetList from './CompressPresetList.vue'

const preset = (id: string): Preset => ({ id, name: id, settings: DEFAULT_SETTINGS, system: true, overridden: false })

function done(bytes: number, extra: Partial<PreviewView> = {}): Estimate {
  return { state: 'done', preview: previewFixture(`p-${bytes}`, bytes, { based_on: 3, ...extra }) }
}

describe('CompressPresetList', () => {
  it('shows each preview row\'s size change against the version on screen, and a target\'s cost', () => {
    const estimates = new Map<string, Estimate>([
      ['small', done(100_000)],
      ['big', done(900_000, { width: 238, height: 178, fitted_width: 1280, fitted_height: 960, shrunk_for_target: true })],
    ])
    const wrapper = mount(CompressPresetList, {
      props: {
        presets: [preset('small'), preset('big')],
        appliedId: undefined,
        profiles: { remove: async () => true },
        estimates,
        shown: { number: 3, bytes: 400_000 },
      },
    })
    const rows = wrapper.findAll('li')
    expect(rows[0]!.get('[data-testid=size-change]').attributes('data-direction')).toBe('smaller')
    const larger = rows[1]!.get('[data-testid=size-change]')
    expect(larger.attributes('data-direction')).toBe('larger')
    expect(larger.attributes('title')).toBe('125 % larger than version 3 (391 KB)')
    expect(rows[1]!.get('[data-testid=preset-estimate-big]').text()).toContain('\u26a0 shrunk from 1280×960')
  })
})
