/**
 * "Has anything changed since?" for caches of rendered pages, across every
 * process writing to the database. Engine-specific by nature: SQLite counts
 * commits itself; PostgreSQL keeps a counter that statement triggers bump in
 * the writing transaction (migration 007).
 */
import { sql } from 'kysely';
import { cachedStatement, sqliteHandle, type Database } from './connection.js';

/** An opaque version of the data: equal versions mean no write committed in between. */
export async function dataVersion(database: Database): Promise<string> {
  if (database.engine === 'sqlite') {
    const sqlite = sqliteHandle(database);
    // data_version moves when another connection (an import, a worker
    // process) commits; total_changes() when this connection writes.
    const other = cachedStatement(sqlite, 'PRAGMA data_version').pluck().get() as number;
    const own = cachedStatement(sqlite, 'SELECT total_changes()').pluck().get() as number;
    return `${other}:${own}`;
  }
  const { rows } = await sql<{ version: number }>`SELECT version FROM data_changes WHERE id = 1`.execute(database.db);
  return String(rows[0]?.version ?? 0);
}
