/**
 * Upvotes: one per person and paper, a row in `upvotes` (primary key on both)
 * counted in `papers.upvotes`, which trending and the API read.
 *
 * The counter moves in the same transaction as the row, and only when the
 * row really came or went: the insert ignores a conflict and the delete may
 * find nothing, and each reports how many rows it touched. Two requests of the
 * same person racing (a double click, two tabs) therefore count once on both
 * engines: on PostgreSQL the second insert waits on the first's key and then
 * does nothing, on SQLite write transactions run one at a time. Incrementing
 * in SQL (`upvotes + 1`), never from a value read before, keeps concurrent
 * votes of different people from overwriting each other.
 */
import type { Database } from '../db/connection.js';

/** A person's upvote of a paper, and the paper's count. */
export interface UpvoteState {
  upvoted: boolean;
  upvotes: number;
}

/** What a page needs to draw one paper's upvote button for a person. */
export interface UpvoteButtonState extends UpvoteState {
  arxivId: string;
}

/** The row id of the paper with this (canonical) arXiv id. */
export async function paperIdOf(database: Database, arxivId: string): Promise<number | undefined> {
  const row = await database.db.selectFrom('papers').select('id').where('arxiv_id', '=', arxivId).executeTakeFirst();
  return row?.id;
}

/**
 * Sets whether `userId` upvotes `paperId` and returns the state afterwards.
 * Idempotent: upvoting twice, or removing an upvote that is not there, changes nothing.
 */
export async function setUpvote(database: Database, userId: number, paperId: number, upvoted: boolean): Promise<UpvoteState> {
  return database.db.transaction().execute(async (trx) => {
    let changed: bigint;
    if (upvoted) {
      const inserted = await trx
        .insertInto('upvotes')
        .values({ user_id: userId, paper_id: paperId, created_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['user_id', 'paper_id']).doNothing())
        .executeTakeFirst();
      changed = inserted.numInsertedOrUpdatedRows ?? 0n;
    } else {
      const deleted = await trx
        .deleteFrom('upvotes')
        .where('user_id', '=', userId)
        .where('paper_id', '=', paperId)
        .executeTakeFirst();
      changed = deleted.numDeletedRows;
    }
    if (changed > 0n) {
      const row = await trx
        .updateTable('papers')
        .set((eb) => ({ upvotes: eb('upvotes', upvoted ? '+' : '-', 1) }))
        .where('id', '=', paperId)
        .returning('upvotes')
        .executeTakeFirstOrThrow();
      return { upvoted, upvotes: row.upvotes };
    }
    const row = await trx.selectFrom('papers').select('upvotes').where('id', '=', paperId).executeTakeFirstOrThrow();
    return { upvoted, upvotes: row.upvotes };
  });
}

/** Whether `userId` upvotes `paperId`, and its count; undefined for an unknown paper. */
export async function upvoteState(database: Database, userId: number, paperId: number): Promise<UpvoteState | undefined> {
  return (await upvoteButtons(database, userId, [paperId])).get(paperId);
}

/**
 * For each of `paperIds` that exists: its arXiv id, its count and whether
 * `userId` upvotes it. One query for a whole page of cards, on primary keys
 * (papers.id, and upvotes' (user_id, paper_id)).
 */
export async function upvoteButtons(
  database: Database,
  userId: number,
  paperIds: readonly number[],
): Promise<Map<number, UpvoteButtonState>> {
  const states = new Map<number, UpvoteButtonState>();
  if (paperIds.length === 0) return states;
  const rows = await database.db
    .selectFrom('papers as p')
    .leftJoin('upvotes as u', (join) => join.onRef('u.paper_id', '=', 'p.id').on('u.user_id', '=', userId))
    .select(['p.id', 'p.arxiv_id', 'p.upvotes', 'u.user_id as voter'])
    .where('p.id', 'in', [...new Set(paperIds)])
    .execute();
  for (const row of rows) states.set(row.id, { arxivId: row.arxiv_id, upvotes: row.upvotes, upvoted: row.voter !== null });
  return states;
}
