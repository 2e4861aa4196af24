/** Online backups of the embedded database. */
import { renameSync, rmSync, statSync } from 'node:fs';
import { sqliteHandle, type Database } from './connection.js';

/**
 * Copies a SQLite database to `target` with SQLite's online backup API: a
 * consistent snapshot while other connections (a running server, an import)
 * keep reading and writing. PostgreSQL has pg_dump for this.
 *
 * The pages go over in one step, under one read transaction: copied a few
 * pages at a time (the API's default), a write from another connection
 * restarts the copy, and a busy instance could keep restarting it forever.
 * In WAL mode the read transaction blocks no writer. The copy is written
 * beside `target` and renamed at the end, so a failed backup never leaves a
 * partial file under the name a restore would look for.
 */
export async function backupSqlite(database: Database, target: string): Promise<{ bytes: number }> {
  if (database.engine !== 'sqlite') throw new Error('backup copies the embedded SQLite database; on PostgreSQL use pg_dump');
  const partial = `${target}.partial`;
  try {
    await sqliteHandle(database).backup(partial, { progress: ({ remainingPages }) => remainingPages });
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  return { bytes: statSync(target).size };
}
