/**
 * A store for @fastify/rate-limit that keeps its counters where every web
 * process of the instance sees them, so they enforce one budget per client
 * (an in-memory store gave each process its own). One upsert ... RETURNING
 * per limited request: a fixed window per key, restarted by the first request
 * after it ends. Expired windows are deleted now and then.
 *
 * PostgreSQL: the `rate_limits` table (migration 009).
 *
 * SQLite: a small SQLite file beside the database (`paperboy.db-ratelimits`),
 * shared by the processes that share the database. Not the database itself:
 * SQLite has one writer at a time, and better-sqlite3 waits for the write lock
 * synchronously, so while `paperboy import` committed a 10,000-paper batch a
 * web process's counter update froze that whole process for up to 1.4 s. The
 * counters are worth nothing after a window ends, so the file is neither
 * synced nor backed up, and the `rate_limits` table of a SQLite database
 * stays empty.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { onClose, type Database } from './connection.js';

type Callback = (err: Error | null, result?: { current: number; ttl: number }) => void;
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0];

interface Counter {
  count: number;
  reset_at: number;
}

/** Where the counters live: the upsert, a read, and deleting expired windows. */
interface Counters {
  increment(key: string, now: number, resetAt: number): Promise<Counter>;
  read(key: string): Promise<Counter | undefined>;
  prune(now: number): Promise<void>;
}

/** Expired windows are deleted about once per this many increments of a process. */
const PRUNE_EVERY = 1_000;

/** The counters file of a SQLite database: beside it, so every process of the instance opens the same one. */
export function sqliteCountersFile(databaseFile: string): string {
  return `${databaseFile}-ratelimits`;
}

const UPSERT = `INSERT INTO rate_limits (key, count, reset_at) VALUES (?, 1, ?)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.count + 1 END,
    reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
  RETURNING count, reset_at`;

function sqliteCounters(database: Database, databaseFile: string): Counters {
  const file = sqliteCountersFile(databaseFile);
  const counters = new BetterSqlite3(file);
  counters.pragma('journal_mode = WAL');
  // A lost counter after an OS crash only gives a client a fresh window.
  counters.pragma('synchronous = OFF');
  // Other web processes hold this lock for one upsert, microseconds.
  counters.pragma('busy_timeout = 1000');
  counters.exec(`CREATE TABLE IF NOT EXISTS rate_limits (
      key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS rate_limits_reset ON rate_limits (reset_at)`);
  const upsert = counters.prepare<[string, number, number, number], Counter>(UPSERT);
  const select = counters.prepare<[string], Counter>('SELECT count, reset_at FROM rate_limits WHERE key = ?');
  const remove = counters.prepare<[number]>('DELETE FROM rate_limits WHERE reset_at <= ?');
  onClose(database, async () => {
    counters.close();
  });
  return {
    increment: async (key, now, resetAt) => {
      const row = upsert.get(key, resetAt, now, now);
      if (row === undefined) throw new Error('rate-limit upsert returned no row');
      return row;
    },
    read: async (key) => select.get(key),
    prune: async (now) => {
      remove.run(now);
    },
  };
}

function postgresCounters(database: Database): Counters {
  return {
    increment: (key, now, resetAt) => {
      // The old row's columns through the table name (an unqualified column in DO UPDATE is ambiguous).
      const expired = sql<boolean>`rate_limits.reset_at <= ${now}`;
      return database.db
        .insertInto('rate_limits')
        .values({ key, count: 1, reset_at: resetAt })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql<number>`CASE WHEN ${expired} THEN 1 ELSE rate_limits.count + 1 END`,
            reset_at: sql<number>`CASE WHEN ${expired} THEN excluded.reset_at ELSE rate_limits.reset_at END`,
          }),
        )
        .returning(['count', 'reset_at'])
        .executeTakeFirstOrThrow();
    },
    read: (key) => database.db.selectFrom('rate_limits').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst(),
    prune: async (now) => {
      await database.db.deleteFrom('rate_limits').where('reset_at', '<=', now).execute();
    },
  };
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A constructor in the shape @fastify/rate-limit expects of `store`, bound to `database`. */
export function databaseRateLimitStore(database: Database, { pruneEvery = PRUNE_EVERY } = {}): FastifyRateLimitStoreCtor {
  const counters =
    database.location.engine === 'sqlite' ? sqliteCounters(database, database.location.file) : postgresCounters(database);
  let increments = 0;

  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    constructor(
      _options?: unknown,
      private readonly prefix = '',
    ) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      const now = Date.now();
      // Best effort: a failed delete leaves rows the next prune removes.
      if (++increments % pruneEvery === 0) counters.prune(now).catch(() => {});
      counters
        .increment(`${this.prefix}${key}`, now, now + timeWindow)
        .then((row) => callback(null, { current: Number(row.count), ttl: Math.max(0, Number(row.reset_at) - now) }))
        .catch((err: unknown) => callback(asError(err)));
    }

    read(key: string, callback: Callback): void {
      const now = Date.now();
      counters
        .read(`${this.prefix}${key}`)
        .then((row) => {
          if (row === undefined || Number(row.reset_at) <= now) callback(null, { current: 0, ttl: 0 });
          else callback(null, { current: Number(row.count), ttl: Number(row.reset_at) - now });
        })
        .catch((err: unknown) => callback(asError(err)));
    }

    /** A store for one route (or group of routes): its own counters, so one route's budget never spends another's. */
    child(routeOptions: RouteOptions): DatabaseRateLimitStore {
      // The plugin passes the route's options as routeInfo (typed as the plugin's own options).
      const options = routeOptions as { routeInfo?: { method?: unknown; url?: unknown }; groupId?: unknown };
      // Routes that name a group share its counters (src/web/rate-limits.ts).
      if (typeof options.groupId === 'string') return new DatabaseRateLimitStore(undefined, `${this.prefix}${options.groupId}|`);
      const info = options.routeInfo ?? {};
      // Fastify adds a HEAD route beside each GET with the same options; it does the
      // same work, so it spends the same budget.
      const method = String(info.method ?? '') === 'HEAD' ? 'GET' : String(info.method ?? '');
      return new DatabaseRateLimitStore(undefined, `${this.prefix}${method} ${String(info.url ?? '')}|`);
    }
  };
}
