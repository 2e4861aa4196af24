import type { Selectable } from 'kysely';
import type { Sqlite } from '../db/connection.js';
import type { PapersTable } from '../db/schema.js';
import type { ParsedAuthor } from '../papers/authors.js';
import type { NormalizedPaper } from '../papers/normalize.js';
import { hashState, mergeState, stateFromIncoming, type PaperState } from './paper-state.js';
import { prepareItem, type PreparedItem } from './prepare.js';
import type { ParseItem, RawAnnouncement } from './record.js';

/** What happened to one parsed item when it was written. */
export type ApplyOutcome =
  | { status: 'imported'; arxivId: string }
  | { status: 'updated'; arxivId: string }
  | { status: 'unchanged'; arxivId: string }
  | { status: 'skipped'; reason: string };

type PaperRow = Selectable<PapersTable>;

/**
 * Writes parsed items into the papers tables. Synchronous: call `apply` inside
 * an open write transaction (see `withSqliteTransaction`), so a caller can
 * commit a batch of papers together with its own bookkeeping (a harvest
 * checkpoint, an import position) atomically.
 *
 * Sources differ in what they know (a listing has no abstract, the Atom API no
 * licence), so a record is merged into what is stored (see mergeState) and the
 * merged state is hashed: re-importing anything already merged writes nothing.
 * The store is the only writer of papers and keeps the FTS5 index in step.
 */
export class PaperStore {
  private readonly stmts;

  constructor(sqlite: Sqlite) {
    this.stmts = {
      find: sqlite.prepare<[string], PaperRow>('SELECT * FROM papers WHERE arxiv_id = ?'),
      insert: sqlite.prepare(`INSERT INTO papers (
          arxiv_id, version, title, title_text, abstract, abstract_text, authors_text, authors, versions, links,
          primary_category,
          categories, comments, journal_ref, doi, report_no, msc_class, acm_class, license, submitter,
          published_at, updated_at, announced_on, announced_estimated, withdrawn, content_hash,
          created_at, modified_at)
        VALUES (@arxivId, @version, @title, @titleText, @abstract, @abstractText, @authorsText, @authors, @versions,
          @links, @primaryCategory,
          @categories, @comments, @journalRef, @doi, @reportNo, @mscClass, @acmClass, @license, @submitter,
          @publishedAt, @updatedAt, @announcedOn, @announcedEstimated, @withdrawn, @contentHash, @now, @now)`),
      update: sqlite.prepare(`UPDATE papers SET
          version = @version, title = @title, title_text = @titleText, abstract = @abstract,
          abstract_text = @abstractText, authors_text = @authorsText, authors = @authors, versions = @versions,
          links = @links, primary_category = @primaryCategory,
          categories = @categories, comments = @comments, journal_ref = @journalRef, doi = @doi,
          report_no = @reportNo, msc_class = @mscClass, acm_class = @acmClass, license = @license,
          submitter = @submitter, published_at = @publishedAt, updated_at = @updatedAt,
          announced_on = @announcedOn, announced_estimated = @announcedEstimated, withdrawn = @withdrawn,
          content_hash = @contentHash, modified_at = @now
        WHERE id = @id`),
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

  /** Writes one parsed item; never throws for bad data, only for database failures. */
  apply(item: ParseItem): ApplyOutcome {
    return this.applyPrepared(prepareItem(item));
  }

  /** Writes one item already prepared (see prepareItem), e.g. on the import's parser thread. */
  applyPrepared(item: PreparedItem): ApplyOutcome {
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
    const state = this.loadState(row);
    state.announcedOn = a.announcedOn;
    state.announcedEstimated = false;
    this.stmts.announce.run(a.announcedOn, hashState(state), row.id);
    return { status: 'updated', arxivId: row.arxiv_id };
  }

  /** `incomingHash` is hashState(stateFromIncoming(p)), computed off this thread when it can be. */
  private applyPaper(p: NormalizedPaper, incomingHash: string): ApplyOutcome {
    const row = this.stmts.find.get(p.arxivId);
    if (row === undefined) {
      const state = stateFromIncoming(p);
      const id = Number(this.stmts.insert.run(this.params(p.arxivId, state, incomingHash)).lastInsertRowid);
      this.stmts.ftsInsert.run(id, state.titleText, state.authorsText, state.abstractText);
      this.writeCategories(id, state, null);
      return { status: 'imported', arxivId: p.arxivId };
    }
    const stored = this.loadState(row);
    const merged = mergeState(stored, p);
    const hash = hashState(merged);
    if (hash === row.content_hash) return { status: 'unchanged', arxivId: row.arxiv_id };
    this.stmts.update.run({ ...this.params(row.arxiv_id, merged, hash), id: row.id });
    if (
      merged.titleText !== stored.titleText ||
      merged.authorsText !== stored.authorsText ||
      merged.abstractText !== stored.abstractText
    ) {
      this.stmts.ftsDelete.run(row.id, stored.titleText, stored.authorsText, stored.abstractText);
      this.stmts.ftsInsert.run(row.id, merged.titleText, merged.authorsText, merged.abstractText);
    }
    this.writeCategories(row.id, merged, stored);
    return { status: 'updated', arxivId: row.arxiv_id };
  }

  private loadState(row: PaperRow): PaperState {
    return {
      version: row.version,
      title: row.title,
      titleText: row.title_text,
      abstract: row.abstract,
      abstractText: row.abstract_text ?? row.abstract,
      authors: JSON.parse(row.authors) as ParsedAuthor[],
      authorsText: row.authors_text,
      categories: row.categories === '' ? [] : row.categories.split(' '),
      primaryCategory: row.primary_category,
      comments: row.comments,
      journalRef: row.journal_ref,
      doi: row.doi,
      reportNo: row.report_no,
      mscClass: row.msc_class,
      acmClass: row.acm_class,
      license: row.license,
      submitter: row.submitter,
      versions: JSON.parse(row.versions) as PaperState['versions'],
      publishedAt: row.published_at,
      updatedAt: row.updated_at,
      announcedOn: row.announced_on,
      announcedEstimated: row.announced_estimated === 1,
      withdrawn: row.withdrawn === 1,
      links: JSON.parse(row.links) as PaperState['links'],
    };
  }

  private params(arxivId: string, s: PaperState, contentHash: string) {
    return {
      arxivId,
      version: s.version,
      title: s.title,
      titleText: s.titleText,
      abstract: s.abstract,
      abstractText: s.abstractText === s.abstract ? null : s.abstractText,
      authorsText: s.authorsText,
      authors: JSON.stringify(s.authors),
      versions: JSON.stringify(s.versions),
      links: JSON.stringify(s.links),
      primaryCategory: s.primaryCategory,
      categories: s.categories.join(' '),
      comments: s.comments,
      journalRef: s.journalRef,
      doi: s.doi,
      reportNo: s.reportNo,
      mscClass: s.mscClass,
      acmClass: s.acmClass,
      license: s.license,
      submitter: s.submitter,
      publishedAt: s.publishedAt,
      updatedAt: s.updatedAt,
      announcedOn: s.announcedOn,
      announcedEstimated: s.announcedEstimated ? 1 : 0,
      withdrawn: s.withdrawn ? 1 : 0,
      contentHash,
      now: new Date().toISOString(),
    };
  }

  /** Writes the category rows; on update only when the categories changed. */
  private writeCategories(id: number, s: PaperState, before: PaperState | null): void {
    if (
      before !== null &&
      before.categories.join(' ') === s.categories.join(' ') &&
      before.primaryCategory === s.primaryCategory
    ) {
      return;
    }
    if (before !== null) this.stmts.deleteCategories.run(id);
    for (const c of s.categories) this.stmts.insertCategory.run(c, id, c === s.primaryCategory ? 1 : 0);
  }
}

