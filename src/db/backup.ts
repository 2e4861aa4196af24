/** Online backups of the embedded database. */
import { statSync } from 'node:fs';
import { sqliteHandle, type Database } from './connection.js';

/**
 * Copies a SQLite database to `target` with SQLite's online backup API: a
 * consistent snapshot while other connections (a running server) keep reading
 * and writing. PostgreSQL has pg_dump for this.
 */
export async function backupSqlite(database: Database, target: string): Promise<{ bytes: number }> {
  if (database.engine !== 'sqlite') throw new Error('backup copies the embedded SQLite database; on PostgreSQL use pg_dump');
  await sqliteHandle(database).backup(target);
  return { bytes: statSync(target).size };
}
