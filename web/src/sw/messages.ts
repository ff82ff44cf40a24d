/** The message the page sends a waiting service worker to make it take over (the update banner). */
export const SKIP_WAITING = 'skip-waiting'
