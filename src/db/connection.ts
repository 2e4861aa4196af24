import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
} from 'kysely';
import { createPool, redactUrl, type PgPool } from './postgres.js';
import type { DB } from './schema.js';

export type Sqlite = BetterSqlite3.Database;

/** Which database engine an instance runs on. */
export type Engine = 'sqlite' | 'postgres';

/** Where an instance's database is: the embedded SQLite file or a PostgreSQL server. */
export type DatabaseLocation = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

/**
 * One open database. Everything outside `src/db/` goes through the typed Kysely
 * instance (`db`), whose queries run unchanged on both engines; SQL that only
 * one engine understands lives in the named engine-specific modules of
 * `src/db/` (keyword index, bulk paper writer, job claiming, change
 * notification), which reach the driver through {@link sqliteHandle} and
 * {@link postgresPool}. A test keeps every other module off the drivers.
 */
export interface Database {
  engine: Engine;
  db: Kysely<DB>;
  location: DatabaseLocation;
  /** For logs and messages: the file, or the server URL without its password. */
  description: string;
  /** Where this process keeps files derived from the database (server mode's search index). */
  dataDir: string | undefined;
  close(): Promise<void>;
}

const closeHooks = new WeakMap<Database, (() => Promise<void>)[]>();

/** Runs `hook` when `database` closes, before its connections do (for modules under src/db/). */
export function onClose(database: Database, hook: () => Promise<void>): void {
  const hooks = closeHooks.get(database) ?? [];
  hooks.push(hook);
  closeHooks.set(database, hooks);
}

async function runCloseHooks(database: Database): Promise<void> {
  for (const hook of closeHooks.get(database)?.splice(0) ?? []) await hook();
}

const sqliteHandles = new WeakMap<Database, Sqlite>();
const postgresPools = new WeakMap<Database, PgPool>();

/** The raw better-sqlite3 handle of a SQLite database. Only for modules under src/db/. */
export function sqliteHandle(database: Database): Sqlite {
  const handle = sqliteHandles.get(database);
  if (handle === undefined) throw new Error(`not a SQLite database: ${database.description}`);
  return handle;
}

/** The pg pool of a PostgreSQL database. Only for modules under src/db/. */
export function postgresPool(database: Database): PgPool {
  const pool = postgresPools.get(database);
  if (pool === undefined) throw new Error(`not a PostgreSQL database: ${database.description}`);
  return pool;
}

/**
 * Kysely's SQLite driver opens transactions with a plain BEGIN (deferred). With
 * several processes on one WAL database a deferred transaction that reads and
 * then writes can fail with SQLITE_BUSY_SNAPSHOT instead of waiting, so every
 * transaction takes the write lock up front.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

function sqliteDialect(sqlite: Sqlite): Dialect {
  // Kysely prepares every query anew; caching statements by SQL text saves
  // most of the per-query overhead on hot read paths.
  const database = {
    prepare: (sql: string) => cachedStatement(sqlite, sql),
    close() {
      sqlite.close();
    },
  };
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: (): Driver => new ImmediateSqliteDriver({ database }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/**
 * Opens the database at `location`: a SQLite file (created if needed) or a
 * PostgreSQL server. `dataDir` is where derived files go (default: the SQLite
 * file's folder).
 */
export function openDatabase(location: DatabaseLocation | string, options: { dataDir?: string } = {}): Database {
  const loc: DatabaseLocation = typeof location === 'string' ? { engine: 'sqlite', file: location } : location;
  return loc.engine === 'sqlite'
    ? openSqlite(loc.file, options.dataDir ?? dirname(loc.file))
    : openPostgres(loc.url, options.dataDir);
}

function openSqlite(file: string, dataDir: string): Database {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL is durable across application crashes in WAL mode; only an OS crash
  // can lose the last commits, never corrupt the file.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  const db = new Kysely<DB>({ dialect: sqliteDialect(sqlite) });
  const database: Database = {
    engine: 'sqlite',
    db,
    location: { engine: 'sqlite', file },
    description: file,
    dataDir,
    async close() {
      await runCloseHooks(database);
      await db.destroy();
    },
  };
  sqliteHandles.set(database, sqlite);
  return database;
}

function openPostgres(url: string, dataDir: string | undefined): Database {
  const pool = createPool(url);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  const database: Database = {
    engine: 'postgres',
    db,
    location: { engine: 'postgres', url },
    description: redactUrl(url),
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      await runCloseHooks(database);
      // Destroying Kysely ends the pool.
      await db.destroy();
    },
  };
  postgresPools.set(database, pool);
  return database;
}

/**
 * Runs `fn` in a synchronous write transaction on the raw handle. It waits for
 * Kysely's connection first, so no async query interleaves with it.
 */
export async function withSqliteTransaction<T>(database: Database, fn: (sqlite: Sqlite) => T): Promise<T> {
  return database.db.connection().execute(async () => {
    const sqlite = sqliteHandle(database);
    sqlite.prepare('BEGIN IMMEDIATE').run();
    try {
      const result = fn(sqlite);
      sqlite.prepare('COMMIT').run();
      return result;
    } catch (err) {
      if (sqlite.inTransaction) sqlite.prepare('ROLLBACK').run();
      throw err;
    }
  });
}

const statementCaches = new WeakMap<Sqlite, Map<string, BetterSqlite3.Statement>>();

/**
 * A prepared statement for this SQL on this connection, prepared once. Hot
 * read paths (feeds, search, paper pages) call this instead of `prepare`,
 * which costs more than many of the queries themselves.
 */
export function cachedStatement(sqlite: Sqlite, sql: string): BetterSqlite3.Statement {
  let cache = statementCaches.get(sqlite);
  if (cache === undefined) statementCaches.set(sqlite, (cache = new Map()));
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = sqlite.prepare(sql);
    // The SQL texts are fixed in code; the bound only guards against a bug that builds them from input.
    if (cache.size >= 1000) cache.clear();
    cache.set(sql, stmt);
  } else if (stmt.reader) {
    // `pluck()` and `raw()` stick to a statement: a caller that set them must
    // not change the row shape the next caller of the same SQL gets.
    stmt.pluck(false).raw(false);
  }
  return stmt;
}
