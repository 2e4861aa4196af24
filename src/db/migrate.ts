import { sqliteHandle, postgresPool, type Database } from './connection.js';
import { papers } from './migrations/001_papers.js';
import { jobs } from './migrations/002_jobs.js';
import { harvest } from './migrations/003_harvest.js';
import { imports } from './migrations/004_imports.js';
import { featured } from './migrations/005_featured.js';
import { paperDigests } from './migrations/006_paper_digests.js';
import { changeCounter } from './migrations/007_change_counter.js';
import { searchChanges } from './migrations/008_search_changes.js';
import { rateLimits } from './migrations/009_rate_limits.js';
import { triggerSearchPath } from './migrations/010_trigger_search_path.js';
import { community } from './migrations/011_community.js';
import { searchDeletionsAge } from './migrations/012_search_deletions_age.js';
import { schemaChangeNotifications } from './migrations/013_schema_change_notifications.js';
import { emailDigests } from './migrations/014_email_digests.js';
import { people } from './migrations/015_people.js';
import { semantic } from './migrations/016_semantic.js';
import { forYou } from './migrations/017_for_you.js';
import { savedSearches } from './migrations/018_saved_searches.js';

/**
 * A schema change, as SQL for each engine. Both scripts make the same tables
 * with the same column names, so Kysely queries run unchanged on either; they
 * differ where the engines do (identity columns, FTS5, WITHOUT ROWID).
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Every migration, in order. Append only: a landed migration is never edited. */
export const migrations: readonly Migration[] = [
  papers,
  jobs,
  harvest,
  imports,
  featured,
  paperDigests,
  changeCounter,
  searchChanges,
  rateLimits,
  triggerSearchPath,
  community,
  searchDeletionsAge,
  schemaChangeNotifications,
  emailDigests,
  people,
  semantic,
  forYou,
  savedSearches,
];

export interface MigrateResult {
  applied: { version: number; name: string }[];
  current: number;
}

const LOCK_WAIT_MS = 10 * 60_000;

/** Key of the PostgreSQL advisory lock that serialises migrations (any fixed bigint). */
const MIGRATION_LOCK = 7_243_100_001;

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

function isBusy(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED');
}

function currentVersion(list: readonly Migration[], done: ReadonlySet<number>): number {
  return Math.max(0, ...list.map((m) => m.version).filter((v) => done.has(v)));
}

/**
 * Applies pending migrations, each engine under its own lock so processes
 * starting together apply each migration once: the others wait for the lock
 * and then find nothing left to do. SQLite holds its write lock (BEGIN
 * IMMEDIATE) for the whole run; PostgreSQL a transaction-scoped advisory lock.
 * DDL is transactional on both, so a failed migration leaves nothing behind.
 */
export async function migrate(database: Database, list: readonly Migration[] = migrations): Promise<MigrateResult> {
  return database.engine === 'sqlite' ? migrateSqlite(database, list) : migratePostgres(database, list);
}

async function migrateSqlite(database: Database, list: readonly Migration[]): Promise<MigrateResult> {
  // Through Kysely's connection, so no async query of this process interleaves.
  return database.db.connection().execute(async () => {
    const sqlite = sqliteHandle(database);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        sqlite.exec('BEGIN IMMEDIATE');
        break;
      } catch (err) {
        if (!isBusy(err) || Date.now() > deadline) throw err;
      }
    }
    try {
      sqlite.exec(CREATE_LEDGER);
      const done = new Set(
        sqlite
          .prepare('SELECT version FROM schema_migrations')
          .pluck()
          .all()
          .map((v) => Number(v)),
      );
      const applied: MigrateResult['applied'] = [];
      const record = sqlite.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const m of list) {
        if (done.has(m.version)) continue;
        sqlite.exec(m.sqlite);
        record.run(m.version, m.name, new Date().toISOString());
        applied.push({ version: m.version, name: m.name });
        done.add(m.version);
      }
      sqlite.exec('COMMIT');
      return { applied, current: currentVersion(list, done) };
    } catch (err) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
      throw err;
    }
  });
}

async function migratePostgres(database: Database, list: readonly Migration[]): Promise<MigrateResult> {
  const client = await postgresPool(database).connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(CREATE_LEDGER);
      const rows = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const done = new Set(rows.rows.map((r) => Number(r.version)));
      const applied: MigrateResult['applied'] = [];
      for (const m of list) {
        if (done.has(m.version)) continue;
        // A script of several statements: the simple query protocol (no parameters) runs them all.
        await client.query(m.postgres);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
        applied.push({ version: m.version, name: m.name });
        done.add(m.version);
      }
      await client.query('COMMIT');
      return { applied, current: currentVersion(list, done) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

/** The schema version the database is at, and whether migrations are pending. */
export async function schemaStatus(
  database: Database,
  list: readonly Migration[] = migrations,
): Promise<{ current: number; latest: number; pending: number }> {
  const latest = Math.max(0, ...list.map((m) => m.version));
  let versions: number[] = [];
  try {
    const rows = await database.db.selectFrom('schema_migrations').select('version').execute();
    versions = rows.map((r) => Number(r.version));
  } catch {
    // No ledger yet: nothing applied.
  }
  const done = new Set(versions);
  return { current: currentVersion(list, done), latest, pending: list.filter((m) => !done.has(m.version)).length };
}
