/**
 * The PostgreSQL paper writer: a batch at a time, in a few statements. Where
 * SQLite answers a prepared statement in microseconds, every PostgreSQL
 * statement is a round trip, so a batch is read with one query, merged in
 * memory (a paper may come several times in one batch: each record merges into
 * the state the previous one left), and written with multi-row statements.
 * No keyword index here: each process derives its own from the change sequence
 * (decision 009).
 */
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { hashState, mergeState, stateFromIncoming, type PaperState } from '../ingest/paper-state.js';
import {
  categoriesChanged,
  PAPER_VALUE_COLUMNS,
  rowValues,
  stateFromRow,
  type ApplyOutcome,
  type PaperValues,
} from '../ingest/paper-row.js';

type PaperColumn = (typeof PAPER_VALUE_COLUMNS)[number];
import type { PreparedItem } from '../ingest/prepare.js';
import type { DB } from './schema.js';

/** Key of the advisory lock that serialises paper writers (any fixed bigint). */
const PAPER_WRITE_LOCK = 7_243_100_002;

/**
 * Rows per statement. Each statement sends one array per column (unnest), so
 * its parameter count is fixed; the bound keeps a message to a few megabytes.
 */
const ROWS_PER_STATEMENT = 2_500;

/** The PostgreSQL type of each written column (all others are TEXT), for the arrays unnest reads. */
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['version', 'announced_estimated', 'withdrawn']);

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
  if (ids.length > 0) {
    // One array parameter, however many ids: no statement text that grows with the batch.
    const rows = await trx
      .selectFrom('papers')
      .selectAll()
      .where(sql<boolean>`arxiv_id = ANY(${ids}::text[])`)
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

/** Column-wise arrays of `values` for unnest, in the order of {@link PAPER_VALUE_COLUMNS}. */
function columnArrays(values: readonly PaperValues[], columns: readonly PaperColumn[]): RawBuilder<unknown>[] {
  return columns.map((c) => {
    const type = INTEGER_COLUMNS.has(c) ? sql.raw('integer[]') : sql.raw('text[]');
    return sql`${values.map((v) => v[c])}::${type}`;
  });
}

const chunks = <T>(list: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

/**
 * Writes the batch's net effect: one multi-row INSERT per chunk of new papers,
 * one UPDATE ... FROM unnest per chunk of changed ones, and their category rows
 * (rewritten only where the categories changed).
 */
async function writeEntries(trx: Transaction<DB>, entries: Entry[]): Promise<void> {
  const now = new Date().toISOString();
  const fresh = entries.filter((e) => e.id === null);
  for (const chunk of chunks(fresh, ROWS_PER_STATEMENT)) {
    const values = chunk.map((e) => withoutNul(rowValues(e.arxivId, e.state, e.hash)));
    const { rows } = await sql<{ id: number; arxiv_id: string }>`
      INSERT INTO papers (${sql.join(PAPER_VALUE_COLUMNS.map((c) => sql.ref(c)))}, created_at, modified_at)
      SELECT u.*, ${now}::text, ${now}::text
      FROM unnest(${sql.join(columnArrays(values, PAPER_VALUE_COLUMNS))}) AS u
      RETURNING id, arxiv_id`.execute(trx);
    const idOf = new Map(rows.map((r) => [r.arxiv_id, r.id]));
    for (const e of chunk) e.id = idOf.get(e.arxivId) ?? null;
  }

  const changed = entries.filter((e) => e.stored !== null && e.hash !== e.storedHash);
  const updated = PAPER_VALUE_COLUMNS.filter((c) => c !== 'arxiv_id');
  for (const chunk of chunks(changed, ROWS_PER_STATEMENT)) {
    const values = chunk.map((e) => withoutNul(rowValues(e.arxivId, e.state, e.hash)));
    await sql`
      UPDATE papers AS p
      SET ${sql.join(updated.map((c) => sql`${sql.ref(c)} = u.${sql.ref(c)}`))}, modified_at = ${now}::text
      FROM unnest(${chunk.map((e) => e.id)}::bigint[], ${sql.join(columnArrays(values, updated))})
        AS u(id, ${sql.join(updated.map((c) => sql.ref(c)))})
      WHERE p.id = u.id`.execute(trx);
  }

  const recategorised = [...fresh, ...changed].filter((e) => e.id !== null && categoriesChanged(e.stored, e.state));
  const redo = recategorised.filter((e) => e.stored !== null).map((e) => e.id as number);
  if (redo.length > 0) await sql`DELETE FROM paper_categories WHERE paper_id = ANY(${redo}::bigint[])`.execute(trx);
  const rows = recategorised.flatMap((e) =>
    [...new Set(e.state.categories)].map((category) => ({
      category,
      paperId: e.id as number,
      primary: category === e.state.primaryCategory ? 1 : 0,
    })),
  );
  for (const chunk of chunks(rows, ROWS_PER_STATEMENT * 4)) {
    await sql`
      INSERT INTO paper_categories (category, paper_id, is_primary)
      SELECT * FROM unnest(${chunk.map((r) => r.category)}::text[], ${chunk.map((r) => r.paperId)}::bigint[], ${chunk.map((r) => r.primary)}::integer[])
      ON CONFLICT DO NOTHING`.execute(trx);
  }
}
