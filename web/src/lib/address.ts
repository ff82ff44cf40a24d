/**
 * `url` as a path without the query parameters in `names` (path, other parameters and hash kept
 * exactly as written), for history.replaceState once the app has read what they said.
 */
export function withoutParams(url: URL, names: readonly string[]): string {
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !names.includes(paramName(pair)))
  const search = kept.length ? `?${kept.join('&')}` : ''
  return `${url.pathname}${search}${url.hash}`
}

function paramName(pair: string): string {
  const name = pair.split('=', 1)[0]!.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(name)
  } catch {
    return name
  }
}
