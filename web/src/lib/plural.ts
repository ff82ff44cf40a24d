/** "1 day", "2 days": English-only for now; the app has no i18n layer yet. */
export function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}
