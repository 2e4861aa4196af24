/**
 * Reports: anyone signed in flags someone else's comment once (spam, abuse,
 * off-topic or other, with details); moderators work through the open ones
 * grouped by comment, and either hide the comment (src/moderation/hiding.ts,
 * which resolves its reports) or dismiss them (logged).
 */
import type { Viewer } from '../accounts/users.js';
import { commentLabel, findComment, type Comment, type Refusal } from '../community/comments.js';
import type { Database } from '../db/connection.js';
import type { ReportReason } from '../db/schema.js';
import { recordModeration } from './log.js';

export const REPORT_REASONS = ['spam', 'abuse', 'off-topic', 'other'] as const satisfies readonly ReportReason[];
export const MAX_REPORT_DETAILS = 1000;

export type ReportResult = { ok: true; id: number; createdAt: string } | Refusal;

/** Files `reporter`'s report of a comment: not their own, not a deleted one, once per comment. */
export async function reportComment(
  database: Database,
  reporter: Viewer,
  input: { commentId: number; reason: ReportReason; details: string },
): Promise<ReportResult> {
  const comment = await findComment(database.db, input.commentId);
  if (comment === undefined || comment.deletedAt !== null) return { ok: false, status: 404, message: `There is no comment ${input.commentId}.` };
  if (comment.author?.id === reporter.id) return { ok: false, status: 403, message: 'You cannot report your own comment; edit or delete it instead.' };
  if (input.details.length > MAX_REPORT_DETAILS) return { ok: false, status: 400, message: `details: at most ${MAX_REPORT_DETAILS} characters.` };
  const createdAt = new Date().toISOString();
  const row = await database.db
    .insertInto('reports')
    .values({ comment_id: comment.id, reporter_id: reporter.id, reason: input.reason, details: input.details.trim(), created_at: createdAt })
    .onConflict((oc) => oc.columns(['comment_id', 'reporter_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (row === undefined) return { ok: false, status: 409, message: 'You have already reported this comment; the moderators will look at it.' };
  return { ok: true, id: row.id, createdAt };
}

export interface ReportedComment {
  comment: Comment;
  paper: { arxivId: string; title: string };
  reports: { reporter: string | null; reason: ReportReason; details: string; createdAt: string }[];
}

/** Open reports grouped by comment, the longest-waiting comment first. */
export async function openReports(database: Database): Promise<ReportedComment[]> {
  const rows = await database.db
    .selectFrom('reports as r')
    .leftJoin('users as u', 'u.id', 'r.reporter_id')
    .select(['r.comment_id', 'u.username', 'r.reason', 'r.details', 'r.created_at'])
    .where('r.resolved_at', 'is', null)
    .orderBy('r.created_at')
    .orderBy('r.id')
    .execute();
  const groups = new Map<number, ReportedComment['reports']>();
  for (const r of rows) {
    const list = groups.get(r.comment_id) ?? [];
    list.push({ reporter: r.username, reason: r.reason, details: r.details, createdAt: r.created_at });
    groups.set(r.comment_id, list);
  }
  const out: ReportedComment[] = [];
  for (const [commentId, reports] of groups) {
    const comment = await findComment(database.db, commentId);
    if (comment === undefined) continue;
    const paper = await database.db.selectFrom('papers').select(['arxiv_id', 'title_text']).where('id', '=', comment.paperId).executeTakeFirstOrThrow();
    out.push({ comment, paper: { arxivId: paper.arxiv_id, title: paper.title_text }, reports });
  }
  return out;
}

/** The number of comments with open reports (the admin dashboard). */
export async function openReportCount(database: Database): Promise<number> {
  const row = await database.db
    .selectFrom('reports')
    .select((eb) => eb.fn.count<number>('comment_id').distinct().as('n'))
    .where('resolved_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Dismisses every open report of a comment (nothing to do), logged; 409 when none is open. */
export async function dismissReports(database: Database, actor: Viewer, commentId: number, reason: string): Promise<{ ok: true } | Refusal> {
  return database.db.transaction().execute(async (trx): Promise<{ ok: true } | Refusal> => {
    const comment = await findComment(trx, commentId);
    if (comment === undefined) return { ok: false, status: 404, message: `There is no comment ${commentId}.` };
    const result = await trx
      .updateTable('reports')
      .set({ resolved_at: new Date().toISOString(), resolved_by: actor.id, resolution: 'dismissed' })
      .where('comment_id', '=', commentId)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return { ok: false, status: 409, message: 'This comment has no open reports.' };
    await recordModeration(trx, actor, { action: 'dismiss_report', subject: { kind: 'comment', id: commentId, label: await commentLabel(trx, comment) }, reason });
    return { ok: true };
  });
}
