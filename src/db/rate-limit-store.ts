/**
 * A store for @fastify/rate-limit that keeps its counters in the instance's
 * database, so several web processes enforce one budget per client (an
 * in-memory store gave each process its own). One upsert ... RETURNING per
 * limited request: a fixed window per key, restarted by the first request
 * after it ends. Expired windows are deleted now and then.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { Database } from './connection.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0];

/** Expired windows are deleted about once per this many increments of a process. */
const PRUNE_EVERY = 1_000;

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A constructor in the shape @fastify/rate-limit expects of `store`, bound to `database`. */
export function databaseRateLimitStore(database: Database, { pruneEvery = PRUNE_EVERY } = {}): FastifyRateLimitStoreCtor {
  let increments = 0;
  const prune = (now: number): void => {
    // Best effort: a failed delete leaves rows the next prune removes.
    database.db
      .deleteFrom('rate_limits')
      .where('reset_at', '<=', now)
      .execute()
      .catch(() => {});
  };

  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly prefix = '',
    ) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      const now = Date.now();
      const resetAt = now + timeWindow;
      if (++increments % pruneEvery === 0) prune(now);
      // Read the old row's columns through the table name: both engines resolve
      // an unqualified column in DO UPDATE to the existing row.
      const expired = sql<boolean>`rate_limits.reset_at <= ${now}`;
      database.db
        .insertInto('rate_limits')
        .values({ key: `${this.prefix}${key}`, count: 1, reset_at: resetAt })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`CASE WHEN ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
            reset_at: sql<number>`CASE WHEN ${expired} THEN ${resetAt} ELSE rate_limits.reset_at END`,
          }),
        )
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow()
        .then((row) => callback(null, { current: Number(row.count), ttl: Math.max(0, Number(row.reset_at) - now) }))
        .catch((err: unknown) => callback(asError(err)));
    }

    read(key: string, callback: Callback): void {
      const now = Date.now();
      database.db
        .selectFrom('rate_limits')
        .select(['count', 'reset_at'])
        .where('key', '=', `${this.prefix}${key}`)
        .executeTakeFirst()
        .then((row) => {
          if (row === undefined || Number(row.reset_at) <= now) callback(null, { current: 0, ttl: 0 });
          else callback(null, { current: Number(row.count), ttl: Number(row.reset_at) - now });
        })
        .catch((err: unknown) => callback(asError(err)));
    }

    /** A store for one route: its own counters, so one route's budget never spends another's. */
    child(routeOptions: RouteOptions): DatabaseRateLimitStore {
      // The plugin passes the route's options as routeInfo (typed as the plugin's own options).
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      // Fastify adds a HEAD route beside each GET with the same options; it does the
      // same work, so it spends the same budget.
      const method = String(info.method ?? '') === 'HEAD' ? 'GET' : String(info.method ?? '');
      return new DatabaseRateLimitStore(undefined, `${this.prefix}${method} ${String(info.url ?? '')}|`);
    }
  };
}
