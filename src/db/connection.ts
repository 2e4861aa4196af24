import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
} from 'kysely';
import type { DB } from './schema.js';

export type Sqlite = BetterSqlite3.Database;

/**
 * One open database: the raw better-sqlite3 handle (for the bulk import path
 * and migrations, which need synchronous transactions) and the typed Kysely
 * instance everything else uses. Both share one connection.
 */
export interface Database {
  sqlite: Sqlite;
  db: Kysely<DB>;
  file: string;
  close(): Promise<void>;
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

function dialectFor(sqlite: Sqlite): Dialect {
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

/** Opens (creating if needed) the SQLite database file with Paperboy's pragmas. */
export function openDatabase(file: string): Database {
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
  const db = new Kysely<DB>({ dialect: dialectFor(sqlite) });
  return {
    sqlite,
    db,
    file,
    async close() {
      await db.destroy();
    },
  };
}

/**
 * Runs `fn` in a synchronous write transaction on the raw handle. It waits for
 * Kysely's connection first, so no async query interleaves with it.
 */
export async function withSqliteTransaction<T>(database: Database, fn: (sqlite: Sqlite) => T): Promise<T> {
  return database.db.connection().execute(async () => {
    const sqlite = database.sqlite;
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
