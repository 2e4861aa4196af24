/**
 * Every rate limit in one place (per client IP, as Fastify sees it behind
 * `trustProxy`). Only costly or abusable routes are limited: cheap indexed
 * reads (feeds, paper pages) are left open so caches and readers are never
 * throttled. Clients over a limit get 429 with `Retry-After` and the
 * `x-ratelimit-*` headers. See docs/rate-limits.md.
 */
export const RATE_LIMITS = {
  /** `/search`: each query runs full-text ranking. */
  searchPage: { max: 120, timeWindow: '1 minute' },
  /** `/api/papers/search`: the same work, easier to script. */
  apiSearch: { max: 60, timeWindow: '1 minute' },
  /** `/feeds/search.*`: polled by feed readers; one poll per query every two seconds is plenty. */
  searchFeed: { max: 30, timeWindow: '1 minute' },
  /** `POST /papers/:id/fetch`: each call asks arXiv, which allows one request every 3 s for the whole instance. */
  arxivFetch: { max: 10, timeWindow: '1 minute' },
} as const;
