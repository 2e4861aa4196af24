/**
 * Hiding comments: a moderator replaces a comment's text with a reason for
 * everyone but its author and the moderators; its replies stay. Hiding
 * resolves every open report of the comment. Logged in the same transaction.
 */
import type { Kysely } from 'kysely';
import type { Viewer } from '../accounts/users.js';
import { commentLabel, findComment, type Comment, type Refusal } from '../community/comments.js';
import type { Database } from '../db/connection.js';
import type { DB } from '../db/schema.js';
import { staffActionProblem } from './actors.js';
import { recordModeration } from './log.js';

export type HideResult = { ok: true; comment: Comment } | Refusal;

/** The comment, if `actor` may moderate it; else why not. */
async function moderatable(trx: Kysely<DB>, actor: Viewer, commentId: number): Promise<Comment | Refusal> {
  const comment = await findComment(trx, commentId);
  if (comment === undefined) return { ok: false, status: 404, message: `There is no comment ${commentId}.` };
  if (comment.deletedAt !== null) return { ok: false, status: 409, message: 'This comment was deleted; there is nothing to hide.' };
  if (comment.author !== null) {
    const author = await trx.selectFrom('users').select(['id', 'role']).where('id', '=', comment.author.id).executeTakeFirst();
    const problem = author === undefined ? null : staffActionProblem(actor, author);
    if (problem !== null) return { ok: false, status: 403, message: problem };
  }
  return comment;
}

/** Hides a comment with `reason` and resolves its open reports as hidden; 409 when it is hidden already. */
export async function hideComment(database: Database, actor: Viewer, commentId: number, reason: string): Promise<HideResult> {
  return database.db.transaction().execute(async (trx): Promise<HideResult> => {
    const comment = await moderatable(trx, actor, commentId);
    if ('ok' in comment) return comment;
    const now = new Date().toISOString();
    const updated = await trx
      .updateTable('comments')
      .set({ hidden_at: now, hidden_by: actor.id, hidden_reason: reason })
      .where('id', '=', commentId)
      .where('hidden_at', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return { ok: false, status: 409, message: 'This comment is already hidden.' };
    await trx
      .updateTable('reports')
      .set({ resolved_at: now, resolved_by: actor.id, resolution: 'hidden' })
      .where('comment_id', '=', commentId)
      .where('resolved_at', 'is', null)
      .execute();
    await recordModeration(trx, actor, { action: 'hide_comment', subject: { kind: 'comment', id: commentId, label: await commentLabel(trx, comment) }, reason });
    return { ok: true, comment: { ...comment, hidden: { at: now, reason } } };
  });
}

/** Shows a hidden comment again; 409 when it is not hidden. */
export async function unhideComment(database: Database, actor: Viewer, commentId: number, reason: string): Promise<HideResult> {
  return database.db.transaction().execute(async (trx): Promise<HideResult> => {
    const comment = await moderatable(trx, actor, commentId);
    if ('ok' in comment) return comment;
    const updated = await trx
      .updateTable('comments')
      .set({ hidden_at: null, hidden_by: null, hidden_reason: null })
      .where('id', '=', commentId)
      .where('hidden_at', 'is not', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return { ok: false, status: 409, message: 'This comment is not hidden.' };
    await recordModeration(trx, actor, { action: 'unhide_comment', subject: { kind: 'comment', id: commentId, label: await commentLabel(trx, comment) }, reason });
    return { ok: true, comment: { ...comment, hidden: null } };
  });
}
