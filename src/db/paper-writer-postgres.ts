/**
 * The PostgreSQL paper writer: a batch at a time, in a few statements. Where
 * SQLite answers a prepared statement in microseconds, every PostgreSQL
 * statement is a round trip, so a batch is read with one query, merged in
 * memory (a paper may come several times in one batch: each record merges into
 * the state the previous one left), and written with multi-row statements.
 * No keyword index here: each process derives its own from the change sequence
 * (decision 009).
 */
import { sql, type Transaction } from 'kysely';
import { hashState, mergeState, stateFromIncoming, type PaperState } from '../ingest/paper-state.js';
import {
  categoriesChanged,
  rowValues,
  stateFromRow,
  type ApplyOutcome,
  type PaperValues,
} from '../ingest/paper-row.js';
import type { PreparedItem } from '../ingest/prepare.js';
import type { DB } from './schema.js';

/** Key of the advisory lock that serialises paper writers (any fixed bigint). */
const PAPER_WRITE_LOCK = 7_243_100_002;

/** Rows per INSERT: 26 columns stay well below PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 1_000;

interface Entry {
  id: number | null;
  arxivId: string;
  /** The state in the database before this batch; null for a paper new in it. */
  stored: PaperState | null;
  storedHash: string | null;
  state: PaperState;
  hash: string;
}

function arxivIdOf(item: PreparedItem): string | null {
  if (item.kind === 'paper') return item.paper.arxivId;
  if (item.kind === 'announcement') return item.announcement.id.replace(/v\d+$/, '');
  return null;
}

/**
 * Holds the transaction-scoped lock that makes paper writers take turns, as
 * SQLite's single writer does: two processes importing the same new paper at
 * once would otherwise both insert it.
 */
export async function lockPaperWrites(trx: Transaction<DB>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${PAPER_WRITE_LOCK})`.execute(trx);
}

/** Writes `items` in order inside `trx` (which holds {@link lockPaperWrites}); outcomes in item order. */
export async function writePostgresBatch(trx: Transaction<DB>, items: readonly PreparedItem[]): Promise<ApplyOutcome[]> {
  const ids = [...new Set(items.map(arxivIdOf).filter((id): id is string => id !== null))];
  const entries = new Map<string, Entry>();
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    const rows = await trx
      .selectFrom('papers')
      .selectAll()
      .where('arxiv_id', 'in', ids.slice(i, i + INSERT_CHUNK))
      .execute();
    for (const row of rows) {
      const state = stateFromRow(row);
      entries.set(row.arxiv_id, {
        id: row.id,
        arxivId: row.arxiv_id,
        stored: state,
        storedHash: row.content_hash,
        state,
        hash: row.content_hash,
      });
    }
  }

  const outcomes = items.map((item): ApplyOutcome => {
    switch (item.kind) {
      case 'skip':
      case 'error':
      case 'invalid':
        return { status: 'skipped', reason: item.reason };
      case 'announcement': {
        const a = item.announcement;
        const entry = entries.get(a.id.replace(/v\d+$/, ''));
        if (entry === undefined) return { status: 'skipped', reason: `announcement for unknown paper ${a.id}` };
        // Only the first announcement ("new") dates a paper (see the SQLite writer).
        if (a.type !== 'new' || (!entry.state.announcedEstimated && entry.state.announcedOn === a.announcedOn)) {
          return { status: 'unchanged', arxivId: entry.arxivId };
        }
        entry.state = { ...entry.state, announcedOn: a.announcedOn, announcedEstimated: false };
        entry.hash = hashState(entry.state);
        return { status: 'updated', arxivId: entry.arxivId };
      }
      case 'paper': {
        const p = item.paper;
        const entry = entries.get(p.arxivId);
        if (entry === undefined) {
          const state = stateFromIncoming(p);
          entries.set(p.arxivId, { id: null, arxivId: p.arxivId, stored: null, storedHash: null, state, hash: item.hash });
          return { status: 'imported', arxivId: p.arxivId };
        }
        const merged = mergeState(entry.state, p);
        const hash = hashState(merged);
        if (hash === entry.hash) return { status: 'unchanged', arxivId: entry.arxivId };
        entry.state = merged;
        entry.hash = hash;
        return { status: 'updated', arxivId: entry.arxivId };
      }
    }
  });

  await writeEntries(trx, [...entries.values()]);
  return outcomes;
}

/**
 * PostgreSQL text cannot hold NUL (U+0000), which SQLite stores and a stray
 * escape in a JSON dump can produce: it is dropped, as the pages would drop it.
 */
function withoutNul(values: PaperValues): PaperValues {
  const out = { ...values };
  for (const [key, v] of Object.entries(out)) {
    if (typeof v === 'string' && v.includes('\u0000')) (out as Record<string, unknown>)[key] = v.replaceAll('\u0000', '');
  }
  return out;
}

async function writeEntries(trx: Transaction<DB>, entries: Entry[]): Promise<void> {
  const now = new Date().toISOString();
  const fresh = entries.filter((e) => e.id === null);
  for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
    const chunk = fresh.slice(i, i + INSERT_CHUNK);
    const inserted = await trx
      .insertInto('papers')
      .values(chunk.map((e) => ({ ...withoutNul(rowValues(e.arxivId, e.state, e.hash)), created_at: now, modified_at: now })))
      .returning(['id', 'arxiv_id'])
      .execute();
    const idOf = new Map(inserted.map((r) => [r.arxiv_id, r.id]));
    for (const e of chunk) e.id = idOf.get(e.arxivId) ?? null;
  }
  const changed = entries.filter((e) => e.stored !== null && e.hash !== e.storedHash);
  for (const e of changed) {
    const { arxiv_id: _same, ...values } = withoutNul(rowValues(e.arxivId, e.state, e.hash));
    await trx
      .updateTable('papers')
      .set({ ...values, modified_at: now })
      .where('id', '=', e.id as number)
      .execute();
  }
  const recategorised = [...fresh, ...changed].filter((e) => e.id !== null && categoriesChanged(e.stored, e.state));
  const redo = recategorised.filter((e) => e.stored !== null).map((e) => e.id as number);
  if (redo.length > 0) await trx.deleteFrom('paper_categories').where('paper_id', 'in', redo).execute();
  const rows = recategorised.flatMap((e) =>
    [...new Set(e.state.categories)].map((category) => ({
      category,
      paper_id: e.id as number,
      is_primary: category === e.state.primaryCategory ? 1 : 0,
    })),
  );
  for (let i = 0; i < rows.length; i += INSERT_CHUNK * 5) {
    await trx
      .insertInto('paper_categories')
      .values(rows.slice(i, i + INSERT_CHUNK * 5))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
