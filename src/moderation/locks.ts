/**
 * Locked threads: a moderator stops a paper's discussion (no new comments or
 * replies) with a reason the page shows, and can open it again. Both are
 * logged in the same transaction.
 */
import type { Kysely } from 'kysely';
import type { Viewer } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import type { DB } from '../db/schema.js';
import type { PaperRef, Refusal } from '../community/comments.js';
import { recordModeration } from './log.js';

export interface ThreadLock {
  reason: string;
  lockedAt: string;
}

/** The lock on a paper's discussion, or null when it is open. */
export async function threadLock(db: Kysely<DB>, paperId: number): Promise<ThreadLock | null> {
  const row = await db.selectFrom('thread_locks').select(['reason', 'locked_at']).where('paper_id', '=', paperId).executeTakeFirst();
  return row === undefined ? null : { reason: row.reason, lockedAt: row.locked_at };
}

export type LockResult = { ok: true } | Refusal;

/** Locks `paper`'s discussion; 409 when it already is. */
export async function lockThread(database: Database, actor: Viewer, paper: PaperRef, reason: string): Promise<LockResult> {
  return database.db.transaction().execute(async (trx): Promise<LockResult> => {
    const inserted = await trx
      .insertInto('thread_locks')
      .values({ paper_id: paper.id, locked_by: actor.id, reason, locked_at: new Date().toISOString() })
      .onConflict((oc) => oc.column('paper_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return { ok: false, status: 409, message: `The discussion of ${paper.arxivId} is already locked.` };
    await recordModeration(trx, actor, { action: 'lock_thread', subject: { kind: 'paper', id: paper.arxivId, label: paper.titleText }, reason });
    return { ok: true };
  });
}

/** Opens `paper`'s discussion again; 409 when it is not locked. */
export async function unlockThread(database: Database, actor: Viewer, paper: PaperRef, reason: string): Promise<LockResult> {
  return database.db.transaction().execute(async (trx): Promise<LockResult> => {
    const deleted = await trx.deleteFrom('thread_locks').where('paper_id', '=', paper.id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return { ok: false, status: 409, message: `The discussion of ${paper.arxivId} is not locked.` };
    await recordModeration(trx, actor, { action: 'unlock_thread', subject: { kind: 'paper', id: paper.arxivId, label: paper.titleText }, reason });
    return { ok: true };
  });
}
