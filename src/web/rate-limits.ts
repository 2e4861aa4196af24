/**
 * Every rate limit in one place, per client IP as Fastify sees it (the TCP
 * peer unless TRUST_PROXY names the proxy in front). Only costly or abusable
 * routes are limited: cheap indexed reads (feeds, paper pages) are left open
 * so caches and readers are never throttled. The counters live in the
 * database, so a limit holds across every web process of an instance. Clients
 * over a limit get 429 with `Retry-After` and the `x-ratelimit-*` headers.
 * The numbers are configuration (RATE_LIMIT_*); see docs/rate-limits.md.
 */
import type { errorResponseBuilderContext, RateLimitOptions, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { databaseRateLimitStore } from '../db/rate-limit-store.js';
import type {} from './auth.js';

export type RateLimitName = keyof Config['rateLimits'];

/** Limits counted per person (every session and token of one account together), not per address. */
const PER_USER: ReadonlySet<RateLimitName> = new Set(['write', 'submit']);
/**
 * Limits that always count per client address, with or without a token: each
 * request may email a stranger, so an API token (any account can make one)
 * must not buy the higher token budget.
 */
const PER_ADDRESS: ReadonlySet<RateLimitName> = new Set(['subscribe']);

/**
 * The route option for limit `name`. Routes of one name share one budget
 * (signing in by password, by link and resetting spend one sign-in budget).
 * Writes and submissions count per account. Elsewhere a request with a
 * personal API token counts against that token, with the higher token limit,
 * so scripts are not throttled with the anonymous traffic of their address.
 */
export function rateLimit(config: Config, name: RateLimitName): { rateLimit: RateLimitOptions } {
  const limit = config.rateLimits[name];
  const perUser = PER_USER.has(name);
  const perAddress = PER_ADDRESS.has(name);
  return {
    rateLimit: {
      timeWindow: limit.timeWindow,
      groupId: name,
      keyGenerator: (req: FastifyRequest) => {
        const auth = req.auth;
        if (perAddress) return req.ip;
        if (auth !== null && perUser) return `user:${auth.viewer.id}`;
        if (auth?.via === 'token') return `token:${auth.tokenId ?? 0}`;
        return req.ip;
      },
      max: (req: FastifyRequest) => (req.auth?.via === 'token' && !perUser && !perAddress ? config.tokenRateLimit.max : limit.max),
    },
  };
}

/** Whose budget a limited request spent, in the words of the 429 answer. */
function whose(req: FastifyRequest): string {
  const group = (req.routeOptions.config as { rateLimit?: { groupId?: unknown } } | undefined)?.rateLimit?.groupId;
  if (PER_ADDRESS.has(group as RateLimitName)) return 'from one address';
  if (req.auth !== null && PER_USER.has(group as RateLimitName)) return 'from one account';
  if (req.auth?.via === 'token') return 'with one API token';
  return 'from one address';
}

/** The error a limited request fails with; the error handler renders it as JSON or an HTML page. */
function limitExceeded(req: FastifyRequest, context: errorResponseBuilderContext): Error & { statusCode: number } {
  // The same whole seconds as the Retry-After header.
  const seconds = Math.ceil(context.ttl / 1000);
  const at = new Date(Date.now() + seconds * 1000).toISOString().slice(11, 19);
  return Object.assign(
    new Error(
      `Too many requests: at most ${context.max} requests a minute ${whose(req)}. ` +
        `Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'} (at ${at} UTC).`,
    ),
    { statusCode: context.statusCode },
  );
}

/** @fastify/rate-limit's options: limits opted into per route, counted in `database`. */
export function rateLimitOptions(database: Database): RateLimitPluginOptions {
  return { global: false, store: databaseRateLimitStore(database), errorResponseBuilder: limitExceeded };
}
