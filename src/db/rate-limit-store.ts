/**
 * A store for @fastify/rate-limit that keeps its counters in the instance's
 * database, so several web processes enforce one budget per client (an
 * in-memory store gave each process its own). One upsert per limited request:
 * a fixed window per key, restarted by the first request after it ends.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'kysely';
import type { Database } from './connection.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0];

/** Expired windows are deleted about once per this many increments. */
const PRUNE_EVERY = 1_000;

/** A constructor in the shape @fastify/rate-limit expects of `store`, bound to `database`. */
export function databaseRateLimitStore(database: Database): FastifyRateLimitStoreCtor {
  let increments = 0;
  const prune = (now: number): void => {
    void sql`DELETE FROM rate_limits WHERE reset_at <= ${now}`.execute(database.db).catch(() => {});
  };

  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly prefix = '',
    ) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      const now = Date.now();
      const resetAt = now + timeWindow;
      const id = `${this.prefix}${key}`;
      if (++increments % PRUNE_EVERY === 0) prune(now);
      sql<{ count: number; reset_at: number }>`INSERT INTO rate_limits (key, count, reset_at) VALUES (${id}, 1, ${resetAt})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN rate_limits.reset_at <= ${now} THEN 1 ELSE rate_limits.count + 1 END,
          reset_at = CASE WHEN rate_limits.reset_at <= ${now} THEN ${resetAt} ELSE rate_limits.reset_at END
        RETURNING count, reset_at`
        .execute(database.db)
        .then((result) => {
          const row = result.rows[0];
          if (row === undefined) throw new Error('rate-limit upsert returned no row');
          callback(null, { current: Number(row.count), ttl: Math.max(0, Number(row.reset_at) - now) });
        })
        .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    }

    read(key: string, callback: Callback): void {
      const now = Date.now();
      sql<{ count: number; reset_at: number }>`SELECT count, reset_at FROM rate_limits WHERE key = ${`${this.prefix}${key}`}`
        .execute(database.db)
        .then((result) => {
          const row = result.rows[0];
          if (row === undefined || Number(row.reset_at) <= now) callback(null, { current: 0, ttl: 0 });
          else callback(null, { current: Number(row.count), ttl: Number(row.reset_at) - now });
        })
        .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
    }

    /** A store for one route: its own counters, so one route's budget never spends another's. */
    child(routeOptions: RouteOptions): DatabaseRateLimitStore {
      // The plugin passes the route's method and URL (as routeInfo at run time).
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? routeOptions;
      const route = `${String(info.method ?? '')}${String(info.url ?? '')}`;
      return new DatabaseRateLimitStore(undefined, `${this.prefix}${route}|`);
    }
  };
}
