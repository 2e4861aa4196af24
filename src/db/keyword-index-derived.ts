/**
 * Server mode's keyword index: an FTS5 file per process under the data
 * directory (a process holds its file exclusively, see `open`), derived from PostgreSQL, because PostgreSQL's own ranking scores
 * every match (592 ms p95 at 200k papers, ARCHITECTURE.md §3). The file has the
 * tables the FTS5 search reads (src/db/keyword-fts5.ts), so one search engine
 * serves both modes.
 *
 * It is kept current from the transaction ids that triggers stamp on what
 * search reads (migration 008): a sync first notes the oldest transaction still
 * running, then applies every row stamped at or after the previous such mark,
 * and keeps the new mark. A transaction that commits late was still running at
 * the mark, so the next sync reads it; rows are applied idempotently, so
 * reading one twice costs only time. The file can be deleted at any time: it is
 * rebuilt from scratch (the first sync reads from mark 0, which is every row).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { Database, Sqlite } from './connection.js';

const FORMAT = '1';
/** Rows read from PostgreSQL per query while catching up. */
const BATCH = 5_000;
/** Processes that may keep index files in one data directory at once. */
const MAX_FILES = 64;
/**
 * How long tombstones of deleted papers are kept (the maintenance job deletes
 * older ones). A file that last synced longer ago than this may have missed a
 * deletion, so it rebuilds instead of syncing.
 */
export const TOMBSTONE_RETENTION_MS = 30 * 86_400_000;
/** How often a sync that finds nothing new still records that the file is current. */
const SYNCED_AT_EVERY_MS = 3_600_000;
/** How often the background loop catches up when no search asked for it. */
export const POLL_MS = 500;

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE papers (
    id INTEGER PRIMARY KEY,
    arxiv_id TEXT NOT NULL,
    title_text TEXT NOT NULL,
    authors_text TEXT NOT NULL,
    abstract TEXT NOT NULL,
    abstract_text TEXT,
    announced_on TEXT
  );
  CREATE INDEX papers_announced_on ON papers (announced_on);
  CREATE TABLE paper_categories (
    category TEXT NOT NULL,
    paper_id INTEGER NOT NULL,
    PRIMARY KEY (category, paper_id)
  ) WITHOUT ROWID;
  CREATE INDEX paper_categories_paper ON paper_categories (paper_id);
  CREATE TABLE featured (paper_id INTEGER PRIMARY KEY, hidden_at TEXT);
  CREATE VIEW papers_fts_content AS
    SELECT id, title_text, authors_text, coalesce(abstract_text, abstract) AS abstract_text FROM papers;
  CREATE VIRTUAL TABLE papers_fts USING fts5 (
    title_text, authors_text, abstract_text,
    content = 'papers_fts_content', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
  );
`;

interface SourcePaper {
  id: number;
  arxiv_id: string;
  title_text: string;
  authors_text: string;
  abstract: string;
  abstract_text: string | null;
  announced_on: string | null;
  categories: string;
}

export interface DerivedIndexStatus {
  /** The first build finished and the last sync succeeded within a few poll intervals. */
  caughtUp: boolean;
  /** Seconds since the index last matched the database (0 right after a sync). */
  lagSeconds: number;
  /** Rows the last sync applied. */
  lastApplied: number;
  papers: number;
}

/** A derived FTS5 index file and the loop that keeps it current. */
export class DerivedKeywordIndex {
  private readonly sqlite: Sqlite;
  private mark: number;
  private running: Promise<void> | null = null;
  private again: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastSyncAt = 0;
  private lastApplied = 0;
  private built: boolean;
  /** When the file was last recorded current (meta synced_at). */
  private syncedAt: number;

  private constructor(
    private readonly database: Database,
    readonly file: string,
    sqlite: Sqlite,
  ) {
    this.sqlite = sqlite;
    const get = (key: string) =>
      (sqlite.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? null;
    this.mark = Number(get('mark') ?? 0);
    this.built = get('built') === '1';
    this.syncedAt = Number(get('synced_at') ?? 0);
  }

  private recordSyncedAt(at: number): void {
    this.sqlite.prepare("INSERT INTO meta (key, value) VALUES ('synced_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(at));
    this.syncedAt = at;
  }

  /**
   * Opens (or starts) an index file for `database` that no other process
   * holds, checking it belongs to that database. Each process locks its file
   * for as long as it runs (SQLite's exclusive locking mode; the OS releases
   * the lock when the process dies), so processes that share a data directory
   * each keep a file of their own: a sync reads from PostgreSQL, then writes,
   * and two processes interleaving on one file could leave an older read on top
   * of a newer one. A restarted process takes a free file back and catches up.
   */
  static async open(database: Database, dataDir: string): Promise<DerivedKeywordIndex> {
    const { rows } = await sql<{ source: string }>`SELECT
        (SELECT system_identifier::text FROM pg_control_system()) || '/' || current_database() || '/' || current_schema()
        AS source`.execute(database.db);
    const source = rows[0]?.source ?? 'unknown';
    const dir = join(dataDir, 'search');
    mkdirSync(dir, { recursive: true });
    const name = `keyword-${createHash('sha1').update(source).digest('hex').slice(0, 16)}`;
    for (let slot = 0; slot < MAX_FILES; ) {
      const file = join(dir, slot === 0 ? `${name}.db` : `${name}-${slot}.db`);
      const sqlite = claimFile(file);
      if (sqlite === null) {
        slot += 1;
        continue;
      }
      const stored = sqlite.prepare("SELECT value FROM meta WHERE key = 'source'").pluck().get() as string | undefined;
      const format = sqlite.prepare("SELECT value FROM meta WHERE key = 'format'").pluck().get() as string | undefined;
      if ((stored !== undefined && stored !== source) || (format !== undefined && format !== FORMAT)) {
        // Another database's or an older version's file: start this slot again.
        sqlite.close();
        removeFile(file);
        continue;
      }
      const upsert = sqlite.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
      upsert.run('source', source);
      upsert.run('format', FORMAT);
      const syncedAt = Number(sqlite.prepare("SELECT value FROM meta WHERE key = 'synced_at'").pluck().get() ?? 0);
      // Last current before the oldest kept tombstone: a deletion since may be gone, so start again.
      if (syncedAt < Date.now() - TOMBSTONE_RETENTION_MS) clear(sqlite);
      return new DerivedKeywordIndex(database, file, sqlite);
    }
    throw new Error(`every keyword index file in ${dir} is held by another process (${MAX_FILES} at most share a data directory)`);
  }

  /** The SQLite handle to search, current as of the last sync. */
  get handle(): Sqlite {
    return this.sqlite;
  }

  /**
   * Brings the index up to the database's committed state as of now: joins a
   * sync that started after this call, or runs one after the running one.
   */
  sync(): Promise<void> {
    if (this.running === null) {
      this.running = this.syncOnce().finally(() => (this.running = null));
      return this.running;
    }
    this.again ??= this.running.then(() => {
      this.again = null;
      return this.sync();
    });
    return this.again;
  }

  /** Keeps the index current in the background until `stop`. */
  start(onError: (err: unknown) => void): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.running === null) this.sync().catch(onError);
    }, POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
    this.sqlite.close();
  }

  status(now = Date.now()): DerivedIndexStatus {
    const age = this.lastSyncAt === 0 ? Number.POSITIVE_INFINITY : (now - this.lastSyncAt) / 1000;
    const papers = this.sqlite.prepare('SELECT count(*) FROM papers').pluck().get() as number;
    return {
      caughtUp: this.built && age <= (POLL_MS * 6) / 1000,
      lagSeconds: Number.isFinite(age) ? age : -1,
      lastApplied: this.lastApplied,
      papers,
    };
  }

  /**
   * Rows written since the last sync's mark: what the next sync reads (a
   * transaction still running at the mark is counted again until a sync passes it).
   */
  async pendingChanges(): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT
        (SELECT count(*) FROM papers WHERE search_xid >= ${this.mark})
        + (SELECT count(*) FROM featured WHERE search_xid >= ${this.mark})
        + (SELECT count(*) FROM search_deletions WHERE search_xid >= ${this.mark}) AS n`.execute(this.database.db);
    return Number(rows[0]?.n ?? 0);
  }

  /** Deletes everything and rebuilds from the database. */
  async rebuild(): Promise<void> {
    await this.running?.catch(() => {});
    clear(this.sqlite);
    this.mark = 0;
    this.built = false;
    await this.sync();
  }

  private async syncOnce(): Promise<void> {
    const { db } = this.database;
    // Everything committed before this moment is in the file once the sync ends.
    const startedAt = Date.now();
    // The oldest transaction still running now: everything older is committed
    // (or gone) and visible to this statement and to the reads below, which
    // start after it. In the same round trip, whether anything was stamped
    // since the last mark: a search syncs first, and most find nothing new.
    // max() reads one entry at the end of each search_xid index whatever the
    // planner estimates (an EXISTS scanned all papers on a table with no
    // statistics yet: 70 ms at 100k).
    const { rows } = await sql<{ xmin: string; changed: boolean }>`SELECT
        pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
        greatest((SELECT max(search_xid) FROM papers), (SELECT max(search_xid) FROM featured),
          (SELECT max(search_xid) FROM search_deletions)) >= ${this.mark} AS changed`.execute(db);
    const nextMark = Number(rows[0]?.xmin ?? 0);
    // A full build reads every paper in id order (the primary key) rather than
    // through search_xid, where a plan sorting all the papers for each batch is
    // likely when statistics are missing, as after a bulk import.
    const full = !this.built || this.mark === 0;
    if (!full && rows[0]?.changed !== true) {
      if (startedAt - this.syncedAt >= SYNCED_AT_EVERY_MS) this.recordSyncedAt(startedAt);
      this.mark = nextMark;
      this.lastApplied = 0;
      this.lastSyncAt = Date.now();
      return;
    }
    let applied = 0;
    for (let after = 0; ; ) {
      const papers = await sql<SourcePaper>`SELECT id, arxiv_id, title_text, authors_text, abstract, abstract_text,
          announced_on, categories
        FROM papers WHERE (${full} OR search_xid >= ${this.mark}) AND id > ${after} ORDER BY id LIMIT ${BATCH}`.execute(db);
      if (papers.rows.length === 0) break;
      this.applyPapers(papers.rows);
      applied += papers.rows.length;
      after = papers.rows[papers.rows.length - 1]?.id ?? after;
      // Let searches and requests run between batches of a long first build.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const featured = await sql<{ paper_id: number; hidden_at: string | null }>`SELECT paper_id, hidden_at
      FROM featured WHERE search_xid >= ${this.mark}`.execute(db);
    const deleted = await sql<{ paper_id: number }>`SELECT DISTINCT paper_id
      FROM search_deletions WHERE search_xid >= ${this.mark}`.execute(db);
    this.sqlite.transaction(() => {
      const upsert = this.sqlite.prepare(
        'INSERT INTO featured (paper_id, hidden_at) VALUES (?, ?) ON CONFLICT (paper_id) DO UPDATE SET hidden_at = excluded.hidden_at',
      );
      for (const f of featured.rows) upsert.run(f.paper_id, f.hidden_at);
      for (const d of deleted.rows) this.removePaper(d.paper_id);
      const meta = this.sqlite.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      );
      meta.run('mark', String(nextMark));
      meta.run('built', '1');
      meta.run('synced_at', String(startedAt));
    })();
    applied += featured.rows.length + deleted.rows.length;
    this.mark = nextMark;
    this.built = true;
    this.syncedAt = startedAt;
    this.lastApplied = applied;
    this.lastSyncAt = Date.now();
  }

  private applyPapers(rows: readonly SourcePaper[]): void {
    const s = this.sqlite;
    const find = s.prepare<[number], { title_text: string; authors_text: string; abstract: string; abstract_text: string | null }>(
      'SELECT title_text, authors_text, abstract, abstract_text FROM papers WHERE id = ?',
    );
    const ftsDelete = s.prepare(
      "INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text) VALUES ('delete', ?, ?, ?, ?)",
    );
    const ftsInsert = s.prepare('INSERT INTO papers_fts (rowid, title_text, authors_text, abstract_text) VALUES (?, ?, ?, ?)');
    const upsert = s.prepare(`INSERT INTO papers (id, arxiv_id, title_text, authors_text, abstract, abstract_text, announced_on)
      VALUES (@id, @arxiv_id, @title_text, @authors_text, @abstract, @abstract_text, @announced_on)
      ON CONFLICT (id) DO UPDATE SET arxiv_id = excluded.arxiv_id, title_text = excluded.title_text,
        authors_text = excluded.authors_text, abstract = excluded.abstract, abstract_text = excluded.abstract_text,
        announced_on = excluded.announced_on`);
    const clearCategories = s.prepare('DELETE FROM paper_categories WHERE paper_id = ?');
    const addCategory = s.prepare('INSERT OR IGNORE INTO paper_categories (category, paper_id) VALUES (?, ?)');
    s.transaction(() => {
      for (const p of rows) {
        const old = find.get(p.id);
        if (old !== undefined) {
          ftsDelete.run(p.id, old.title_text, old.authors_text, old.abstract_text ?? old.abstract);
          clearCategories.run(p.id);
        }
        const { categories, ...row } = p;
        upsert.run(row);
        ftsInsert.run(p.id, p.title_text, p.authors_text, p.abstract_text ?? p.abstract);
        for (const c of categories.split(' ')) if (c !== '') addCategory.run(c, p.id);
      }
    })();
  }

  private removePaper(id: number): void {
    const old = this.sqlite
      .prepare<[number], { title_text: string; authors_text: string; abstract: string; abstract_text: string | null }>(
        'SELECT title_text, authors_text, abstract, abstract_text FROM papers WHERE id = ?',
      )
      .get(id);
    if (old === undefined) return;
    this.sqlite
      .prepare("INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text) VALUES ('delete', ?, ?, ?, ?)")
      .run(id, old.title_text, old.authors_text, old.abstract_text ?? old.abstract);
    this.sqlite.prepare('DELETE FROM papers WHERE id = ?').run(id);
    this.sqlite.prepare('DELETE FROM paper_categories WHERE paper_id = ?').run(id);
    this.sqlite.prepare('DELETE FROM featured WHERE paper_id = ?').run(id);
  }
}

/**
 * Opens `file` locked for this process alone, or returns null when another
 * process holds it. The lock is taken before anything is read, so the file is
 * never shared, and is kept until close: in exclusive locking mode SQLite does
 * not release it after a transaction (and WAL then needs no shared memory).
 */
function claimFile(file: string): Sqlite | null {
  const sqlite = new BetterSqlite3(file, { timeout: 0 });
  try {
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    sqlite.close();
    if (err instanceof BetterSqlite3.SqliteError && err.code.startsWith('SQLITE_BUSY')) return null;
    throw err;
  }
  // A derived file: losing the last commits to an OS crash costs a rebuild, never data.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('cache_size = -65536');
  // FTS5 reserves papers_fts_* names once the index exists, so the schema
  // (view included) is made once, on a new file.
  if (sqlite.prepare("SELECT 1 FROM sqlite_master WHERE name = 'papers_fts'").get() === undefined) {
    sqlite.transaction(() => {
      sqlite.exec(SCHEMA);
      // One FTS5 segment per large batch, as in the main database (migration 001).
      sqlite.exec("INSERT INTO papers_fts (papers_fts, rank) VALUES ('hashsize', 67108864)");
    })();
  }
  return sqlite;
}

/** Empties an index file: the next sync builds it from scratch. */
function clear(sqlite: Sqlite): void {
  sqlite.exec(
    "DELETE FROM papers; DELETE FROM paper_categories; DELETE FROM featured; INSERT INTO papers_fts (papers_fts) VALUES ('delete-all'); DELETE FROM meta WHERE key IN ('mark', 'built', 'synced_at')",
  );
}

function removeFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}
