import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiClient, ApiError } from '../api/client'
import { createImagesApi } from '../api/images'
import { imageFixture } from '../test/fixtures'
import { useImages } from './useImages'
import { useToasts } from './useToasts'

describe('useImages', () => {
  let scope: ReturnType<typeof effectScope>
  const api = createImagesApi(new ApiClient(vi.fn()))
  beforeEach(() => {
    scope = effectScope()
    const { toasts, dismiss } = useToasts()
    toasts.value.forEach((t) => dismiss(t.id))
  })
  afterEach(() => scope.stop())

  type ListReply = Awaited<ReturnType<typeof api.list>>
  const setup = (onChanged = vi.fn()) => ({ state: scope.run(() => useImages(api, { onChanged }))!, onChanged })

  it('loads the list, and puts new uploads first', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a')], max_images: 5 })
    const { state, onChanged } = setup()
    await state.load()
    state.add([imageFixture('b')])
    expect(state.images.value.map((i) => i.id)).toEqual(['b', 'a'])
    expect(onChanged).toHaveBeenCalledOnce()
  })

  /** The first list call answers only when told (with the list as it was when asked); the next
   * one answers ``then`` at once. */
  function holdFirstList(then: ListReply) {
    let answer: (list: ListReply) => void = () => {}
    const list = vi
      .spyOn(api, 'list')
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)))
      .mockResolvedValueOnce(then)
    return { list, answerFirst: (old: ListReply) => answer(old) }
  }

  it('keeps an upload that finishes while an older list is on its way', async () => {
    const { list, answerFirst } = holdFirstList({ images: [imageFixture('b')], max_images: 5 })
    const { state } = setup()
    const loading = state.load()
    state.add([imageFixture('b')])
    answerFirst({ images: [], max_images: 5 }) // the list as it was before the upload
    await loading
    expect(list).toHaveBeenCalledTimes(2)
    expect(state.images.value.map((i) => i.id)).toEqual(['b'])
    expect(state.loaded.value).toBe(true)
  })

  it('keeps "Delete all" when an older list arrives after it', async () => {
    const { answerFirst } = holdFirstList({ images: [], max_images: 5 })
    vi.spyOn(api, 'clear').mockResolvedValue({ deleted: 2 })
    const { state } = setup()
    const loading = state.load()
    await state.clearAll()
    answerFirst({ images: [imageFixture('a'), imageFixture('b')], max_images: 5 }) // asked for before the delete
    await loading
    expect(state.images.value).toEqual([])
  })

  it('replaces the image with the result of an operation', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a')], max_images: 5 })
    const rotated = imageFixture('a', { number: 2, operation: 'rotate', params: { degrees: 90 }, width: 3000, height: 4000 })
    const apply = vi.spyOn(api, 'apply').mockResolvedValue(rotated)
    const { state } = setup()
    await state.load()

    const result = await state.apply('a', { type: 'rotate', degrees: 90 })
    expect(apply).toHaveBeenCalledWith('a', { type: 'rotate', degrees: 90 })
    expect(result).toBe(rotated)
    expect(state.images.value[0]!.current.width).toBe(3000)
    expect(state.busy.value.size).toBe(0)
  })

  it('changes nothing and shows the server message when an operation fails', async () => {
    const before = imageFixture('a')
    vi.spyOn(api, 'list').mockResolvedValue({ images: [before], max_images: 5 })
    vi.spyOn(api, 'apply').mockRejectedValue(new ApiError({ code: 'validation_error', message: 'width: too large', status: 422 }))
    const { state } = setup()
    await state.load()

    expect(await state.apply('a', { type: 'resize', percent: 50, allow_upscale: false })).toBeNull()
    expect(state.images.value[0]).toBe(before)
    expect(useToasts().toasts.value.at(-1)).toMatchObject({ kind: 'error', message: 'width: too large' })
  })

  it('marks the image busy while an operation runs, and ignores a second one meanwhile', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a')], max_images: 5 })
    let finish: (value: ReturnType<typeof imageFixture>) => void = () => {}
    const apply = vi.spyOn(api, 'apply').mockImplementation(() => new Promise((resolve) => (finish = resolve)))
    const { state } = setup()
    await state.load()

    const first = state.apply('a', { type: 'flip', direction: 'vertical' })
    expect(state.busy.value.has('a')).toBe(true)
    expect(await state.apply('a', { type: 'flip', direction: 'horizontal' })).toBeNull()
    finish(imageFixture('a', { number: 2 }))
    await first
    expect(apply).toHaveBeenCalledOnce()
    expect(state.busy.value.has('a')).toBe(false)
  })

  it('deletes the selection in one call and forgets it', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a'), imageFixture('b'), imageFixture('c')], max_images: 5 })
    const removeMany = vi.spyOn(api, 'removeMany').mockResolvedValue({ deleted: 2 })
    const { state, onChanged } = setup()
    await state.load()
    state.setSelected('a', true)
    state.setSelected('c', true)
    expect(state.allSelected.value).toBe(false)

    await state.removeSelected()
    expect(removeMany).toHaveBeenCalledWith(['a', 'c'])
    expect(state.images.value.map((i) => i.id)).toEqual(['b'])
    expect(state.selected.value.size).toBe(0)
    expect(onChanged).toHaveBeenCalled()
  })

  it('selects all and clears', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a'), imageFixture('b')], max_images: 5 })
    const { state } = setup()
    await state.load()
    state.selectAll()
    expect(state.allSelected.value).toBe(true)
    state.clearSelection()
    expect(state.selectedIds.value).toEqual([])
  })

  it('treats a 404 on delete as already gone', async () => {
    vi.spyOn(api, 'list').mockResolvedValue({ images: [imageFixture('a')], max_images: 5 })
    vi.spyOn(api, 'remove').mockRejectedValue(new ApiError({ code: 'not_found', message: 'gone', status: 404 }))
    const { state } = setup()
    await state.load()
    expect(await state.remove('a')).toBe(true)
    expect(state.images.value).toEqual([])
  })
})
