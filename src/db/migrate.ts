import type { Sqlite } from './connection.js';
import { papers } from './migrations/001_papers.js';
import { jobs } from './migrations/002_jobs.js';
import { harvest } from './migrations/003_harvest.js';
import { imports } from './migrations/004_imports.js';
import { featured } from './migrations/005_featured.js';
import { paperDigests } from './migrations/006_paper_digests.js';

/** A schema change; `up` runs inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  up(sqlite: Sqlite): void;
}

/** Every migration, in order. Append only: a landed migration is never edited. */
export const migrations: readonly Migration[] = [papers, jobs, harvest, imports, featured, paperDigests];

export interface MigrateResult {
  applied: { version: number; name: string }[];
  current: number;
}

const LOCK_WAIT_MS = 10 * 60_000;

function isBusy(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED');
}

/**
 * Applies pending migrations. The whole run holds SQLite's write lock
 * (BEGIN IMMEDIATE), so processes starting together apply each migration once:
 * the others wait for the lock and then find nothing left to do.
 */
export function migrate(sqlite: Sqlite, list: readonly Migration[] = migrations): MigrateResult {
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
    sqlite.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
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
      m.up(sqlite);
      record.run(m.version, m.name, new Date().toISOString());
      applied.push({ version: m.version, name: m.name });
    }
    sqlite.exec('COMMIT');
    const current = Math.max(0, ...list.map((m) => m.version).filter((v) => done.has(v) || applied.some((a) => a.version === v)));
    return { applied, current };
  } catch (err) {
    if (sqlite.inTransaction) sqlite.exec('ROLLBACK');
    throw err;
  }
}
