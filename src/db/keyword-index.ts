/**
 * The keyword index of an instance, on either engine. Embedded (SQLite): the
 * FTS5 table in the database itself, written in the same transaction as each
 * paper. Server mode (PostgreSQL): this process's derived FTS5 file
 * (keyword-index-derived.ts), synced before each search so a write committed
 * anywhere is searchable on the next request, and every half second besides.
 */
import { sqliteHandle, onClose, type Database } from './connection.js';
import { fts5Search, type Fts5Query, type Fts5Result } from './keyword-fts5.js';
import { DerivedKeywordIndex, TOMBSTONE_RETENTION_MS } from './keyword-index-derived.js';
import { sql } from 'kysely';

export { MARK_CLOSE, MARK_OPEN, type Fts5Hit, type Fts5Query } from './keyword-fts5.js';

const derived = new WeakMap<Database, Promise<DerivedKeywordIndex>>();

/** This process's derived index for a PostgreSQL database, opened and kept current from the first use. */
function derivedIndex(database: Database): Promise<DerivedKeywordIndex> {
  let index = derived.get(database);
  if (index === undefined) {
    const dataDir = database.dataDir;
    if (dataDir === undefined) throw new Error('server mode keeps its keyword index in the data directory; none was given');
    index = DerivedKeywordIndex.open(database, dataDir).then((opened) => {
      // Errors of the background loop surface on the next search, which syncs itself.
      opened.start(() => {});
      onClose(database, () => opened.stop());
      return opened;
    });
    derived.set(database, index);
  }
  return index;
}

/** Runs a keyword search on the instance's index. */
export async function searchIndex(database: Database, query: Fts5Query): Promise<Fts5Result> {
  if (database.engine === 'sqlite') {
    // Through Kysely's connection, so no async query of this process interleaves.
    return database.db.connection().execute(async () => fts5Search(sqliteHandle(database), query));
  }
  const index = await derivedIndex(database);
  await index.sync();
  return fts5Search(index.handle, query);
}

export interface KeywordIndexStatus {
  engine: Database['engine'];
  caughtUp: boolean;
  /** Seconds the index may be behind the database (0 when it is written with the data). */
  lagSeconds: number;
  papers: number | null;
  /** Changes committed to the database that the index has not applied yet (0 when written with the data). */
  pendingChanges: number;
}

/** Whether the index has everything the database has (for /readyz and metrics). */
export async function keywordIndexStatus(database: Database): Promise<KeywordIndexStatus> {
  if (database.engine === 'sqlite') return { engine: 'sqlite', caughtUp: true, lagSeconds: 0, papers: null, pendingChanges: 0 };
  const index = await derivedIndex(database);
  const status = index.status();
  return {
    engine: 'postgres',
    caughtUp: status.caughtUp,
    lagSeconds: status.lagSeconds,
    papers: status.papers,
    pendingChanges: await index.pendingChanges(),
  };
}

/** Brings the index up to date now (server mode: a sync; embedded: nothing to do). */
export async function catchUpKeywordIndex(database: Database): Promise<void> {
  if (database.engine === 'postgres') await (await derivedIndex(database)).sync();
}

/** Rebuilds the index from the papers: FTS5's 'rebuild' in embedded mode, a new derived file in server mode. */
export async function rebuildKeywordIndex(database: Database): Promise<void> {
  if (database.engine === 'sqlite') {
    await database.db.connection().execute(async () => {
      sqliteHandle(database).exec("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')");
    });
    return;
  }
  await (await derivedIndex(database)).rebuild();
}

/**
 * Deletes the server-mode tombstones of deleted papers older than the
 * retention (index files that last synced before it rebuild instead); returns
 * how many. Nothing to do on SQLite.
 */
export async function pruneSearchTombstones(database: Database, now = Date.now()): Promise<number> {
  if (database.engine === 'sqlite') return 0;
  const result = await sql`DELETE FROM search_deletions WHERE deleted_at < ${now - TOMBSTONE_RETENTION_MS}`.execute(database.db);
  return Number(result.numAffectedRows ?? 0);
}
