/**
 * Every rate limit in one place, per client IP as Fastify sees it (the TCP
 * peer unless TRUST_PROXY names the proxy in front). Only costly or abusable
 * routes are limited: cheap indexed reads (feeds, paper pages) are left open
 * so caches and readers are never throttled. The counters live in the
 * database, so a limit holds across every web process of an instance. Clients
 * over a limit get 429 with `Retry-After` and the `x-ratelimit-*` headers.
 * The numbers are configuration (RATE_LIMIT_*); see docs/rate-limits.md.
 */
import type { Config } from '../config.js';

export type RateLimitName = keyof Config['rateLimits'];

/** The route option for limit `name`. */
export function rateLimit(config: Config, name: RateLimitName): { rateLimit: Config['rateLimits'][RateLimitName] } {
  return { rateLimit: config.rateLimits[name] };
}
