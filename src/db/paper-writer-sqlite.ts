/**
 * The SQLite paper writer: synchronous prepared statements inside the caller's
 * write transaction, the bulk import's fast path (decision 002). It keeps the
 * FTS5 keyword index in step with each row, in the same transaction.
 */
import { hashState, mergeState, stateFromIncoming, type PaperState } from '../ingest/paper-state.js';
import {
  categoriesChanged,
  PAPER_VALUE_COLUMNS,
  indexedTextChanged,
  rowValues,
  stateFromRow,
  type ApplyOutcome,
  type PaperRow,
} from '../ingest/paper-row.js';
import type { PreparedItem } from '../ingest/prepare.js';
import type { RawAnnouncement } from '../ingest/record.js';
import type { NormalizedPaper } from '../papers/normalize.js';
import type { Sqlite } from './connection.js';

const COLUMNS = PAPER_VALUE_COLUMNS;

/**
 * Writes prepared items into the papers tables. Call `apply` inside an open
 * write transaction on the same handle, so a caller commits a batch of papers
 * together with its own bookkeeping (a harvest checkpoint, an import position).
 *
 * Sources differ in what they know (a listing has no abstract, the Atom API no
 * licence), so a record is merged into what is stored (see mergeState) and the
 * merged state is hashed: re-importing anything already merged writes nothing.
 */
export class SqlitePaperWriter {
  private readonly stmts;

  constructor(sqlite: Sqlite) {
    this.stmts = {
      find: sqlite.prepare<[string], PaperRow>('SELECT * FROM papers WHERE arxiv_id = ?'),
      insert: sqlite.prepare(
        `INSERT INTO papers (${COLUMNS.join(', ')}, created_at, modified_at)
         VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')}, @now, @now)`,
      ),
      update: sqlite.prepare(
        `UPDATE papers SET ${COLUMNS.filter((c) => c !== 'arxiv_id')
          .map((c) => `${c} = @${c}`)
          .join(', ')}, modified_at = @now WHERE id = @id`,
      ),
      ftsInsert: sqlite.prepare<[number, string, string, string]>(
        'INSERT INTO papers_fts (rowid, title_text, authors_text, abstract_text) VALUES (?, ?, ?, ?)',
      ),
      ftsDelete: sqlite.prepare<[number, string, string, string]>(
        "INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text) VALUES ('delete', ?, ?, ?, ?)",
      ),
      deleteCategories: sqlite.prepare('DELETE FROM paper_categories WHERE paper_id = ?'),
      insertCategory: sqlite.prepare(
        'INSERT OR IGNORE INTO paper_categories (category, paper_id, is_primary) VALUES (?, ?, ?)',
      ),
      announce: sqlite.prepare<[string, string, number]>(
        'UPDATE papers SET announced_on = ?, announced_estimated = 0, content_hash = ? WHERE id = ?',
      ),
    };
  }

  /** Writes one prepared item; never throws for bad data, only for database failures. */
  apply(item: PreparedItem): ApplyOutcome {
    switch (item.kind) {
      case 'skip':
      case 'error':
      case 'invalid':
        return { status: 'skipped', reason: item.reason };
      case 'announcement':
        return this.applyAnnouncement(item.announcement);
      case 'paper':
        return this.applyPaper(item.paper, item.hash);
    }
  }

  private applyAnnouncement(a: RawAnnouncement): ApplyOutcome {
    const row = this.stmts.find.get(a.id.replace(/v\d+$/, ''));
    if (row === undefined) return { status: 'skipped', reason: `announcement for unknown paper ${a.id}` };
    // Only the first announcement ("new") dates a paper; replacements and
    // cross-lists announce later versions or other categories.
    if (a.type !== 'new' || (row.announced_estimated === 0 && row.announced_on === a.announcedOn)) {
      return { status: 'unchanged', arxivId: row.arxiv_id };
    }
    const state = stateFromRow(row);
    state.announcedOn = a.announcedOn;
    state.announcedEstimated = false;
    this.stmts.announce.run(a.announcedOn, hashState(state), row.id);
    return { status: 'updated', arxivId: row.arxiv_id };
  }

  /** `incomingHash` is hashState(stateFromIncoming(p)), computed off this thread when it can be. */
  private applyPaper(p: NormalizedPaper, incomingHash: string): ApplyOutcome {
    const now = new Date().toISOString();
    const row = this.stmts.find.get(p.arxivId);
    if (row === undefined) {
      const state = stateFromIncoming(p);
      const id = Number(this.stmts.insert.run({ ...rowValues(p.arxivId, state, incomingHash), now }).lastInsertRowid);
      this.stmts.ftsInsert.run(id, state.titleText, state.authorsText, state.abstractText);
      this.writeCategories(id, state, null);
      return { status: 'imported', arxivId: p.arxivId };
    }
    const stored = stateFromRow(row);
    const merged = mergeState(stored, p);
    const hash = hashState(merged);
    if (hash === row.content_hash) return { status: 'unchanged', arxivId: row.arxiv_id };
    const { arxiv_id: _unchangedId, ...values } = rowValues(row.arxiv_id, merged, hash);
    this.stmts.update.run({ ...values, now, id: row.id });
    if (indexedTextChanged(stored, merged)) {
      this.stmts.ftsDelete.run(row.id, stored.titleText, stored.authorsText, stored.abstractText);
      this.stmts.ftsInsert.run(row.id, merged.titleText, merged.authorsText, merged.abstractText);
    }
    this.writeCategories(row.id, merged, stored);
    return { status: 'updated', arxivId: row.arxiv_id };
  }

  /** Writes the category rows; on update only when the categories changed. */
  private writeCategories(id: number, s: PaperState, before: PaperState | null): void {
    if (!categoriesChanged(before, s)) return;
    if (before !== null) this.stmts.deleteCategories.run(id);
    for (const c of s.categories) this.stmts.insertCategory.run(c, id, c === s.primaryCategory ? 1 : 0);
  }
}

const writers = new WeakMap<Sqlite, SqlitePaperWriter>();

/** The writer of this connection, its statements prepared once. */
export function sqlitePaperWriter(sqlite: Sqlite): SqlitePaperWriter {
  let writer = writers.get(sqlite);
  if (writer === undefined) writers.set(sqlite, (writer = new SqlitePaperWriter(sqlite)));
  return writer;
}
