/**
 * The author-name index (`paper_authors`) of new papers, written in bulk after
 * their papers commit instead of by a row trigger: a trigger made every import
 * commit write random pages of the name index, and cost a bulk import 45% of
 * its speed (BENCHMARKS.md). Papers up to `paper_author_sync.last_paper_id`
 * are indexed (none while it has no row); a trigger (migration 015) keeps
 * those whose authors change.
 *
 * Every write of papers ends with a sync (src/db/paper-writer.ts), so the
 * index trails the papers only between a commit and the sync that follows it;
 * a bulk import syncs every {@link BULK_LAG} papers and when it ends.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './connection.js';
import type { DB } from './schema.js';

/** Papers per sync transaction: big enough to batch the name index's writes, small enough to hold the lock briefly. */
const CHUNK = 20_000;
/** How far a bulk import lets the index trail before it syncs. */
export const BULK_LAG = 50_000;

/**
 * Adds the authors of papers not yet indexed; with `minLag`, only when at
 * least that many papers are waiting. Safe to run concurrently and again:
 * rows are keyed and the watermark only moves forward.
 */
export async function syncPaperAuthors(database: Database, options: { minLag?: number } = {}): Promise<number> {
  let added = 0;
  for (;;) {
    const chunk = await database.db.transaction().execute(async (trx) => {
      // Locks the watermark row first, so two syncs on PostgreSQL take turns
      // (before the first sync there is no row: racing syncs then write the
      // same keyed rows, and the second adds none).
      await trx.updateTable('paper_author_sync').set((eb) => ({ last_paper_id: eb.ref('last_paper_id') })).where('id', '=', 1).execute();
      const state = await trx.selectFrom('paper_author_sync').select('last_paper_id').where('id', '=', 1).executeTakeFirst();
      const from = Number(state?.last_paper_id ?? 0);
      const { last } = await trx
        .selectFrom('papers')
        .select((eb) => eb.fn.coalesce(eb.fn.max('id'), eb.lit(0)).as('last'))
        .executeTakeFirstOrThrow();
      const latest = Number(last);
      if (latest <= from || latest - from < (options.minLag ?? 1)) return null;
      const to = Math.min(latest, from + CHUNK);
      const rows = await indexRange(database, trx, from, to);
      await trx
        .insertInto('paper_author_sync')
        .values({ id: 1, last_paper_id: to })
        .onConflict((oc) => oc.column('id').doUpdateSet({ last_paper_id: to }))
        .execute();
      return { rows, done: to === latest };
    });
    if (chunk === null) return added;
    added += chunk.rows;
    if (chunk.done) return added;
  }
}

/** Indexes the authors of papers with ids in (from, to]. */
async function indexRange(database: Database, trx: Kysely<DB>, from: number, to: number): Promise<number> {
  const result =
    database.engine === 'sqlite'
      ? await sql`INSERT INTO paper_authors (paper_id, position, name)
          SELECT p.id, a.key, json_extract(a.value, '$.name') FROM papers p, json_each(p.authors) a
          WHERE p.id > ${from} AND p.id <= ${to} AND json_extract(a.value, '$.name') IS NOT NULL
          ON CONFLICT DO NOTHING`.execute(trx)
      : await sql`INSERT INTO paper_authors (paper_id, position, name)
          SELECT p.id, a.ord - 1, a.value ->> 'name'
          FROM papers p, jsonb_array_elements(p.authors::jsonb) WITH ORDINALITY AS a (value, ord)
          WHERE p.id > ${from} AND p.id <= ${to} AND a.value ->> 'name' IS NOT NULL
          ON CONFLICT DO NOTHING`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
