// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { historyShortcut, isTextEntry } from './keyboard'

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
})

describe('historyShortcut', () => {
  it('undoes with Ctrl+Z or Cmd+Z', () => {
    expect(historyShortcut(key('z', { ctrlKey: true }))).toBe('undo')
    expect(historyShortcut(key('z', { metaKey: true }))).toBe('undo')
  })

  it('redoes with Shift (the key reads "Z" then) and with Ctrl+Y', () => {
    expect(historyShortcut(key('Z', { ctrlKey: true, shiftKey: true }))).toBe('redo')
    expect(historyShortcut(key('z', { metaKey: true, shiftKey: true }))).toBe('redo')
    expect(historyShortcut(key('y', { ctrlKey: true }))).toBe('redo')
  })

  it('ignores plain keys and other combinations', () => {
    expect(historyShortcut(key('z'))).toBeNull()
    expect(historyShortcut(key('z', { ctrlKey: true, altKey: true }))).toBeNull()
    expect(historyShortcut(key('a', { ctrlKey: true }))).toBeNull()
  })
})

describe('isTextEntry', () => {
  it('is true where typing edits text', () => {
    const make = (type: string) => Object.assign(document.createElement('input'), { type })
    expect(isTextEntry(make('text'))).toBe(true)
    expect(isTextEntry(make('number'))).toBe(true)
    expect(isTextEntry(document.createElement('textarea'))).toBe(true)
    expect(isTextEntry(document.createElement('select'))).toBe(true)
  })

  it('is false for buttons, checkboxes, sliders and the page', () => {
    const make = (type: string) => Object.assign(document.createElement('input'), { type })
    expect(isTextEntry(make('checkbox'))).toBe(false)
    expect(isTextEntry(make('range'))).toBe(false)
    expect(isTextEntry(document.createElement('button'))).toBe(false)
    expect(isTextEntry(document.body)).toBe(false)
    expect(isTextEntry(null)).toBe(false)
  })
})
