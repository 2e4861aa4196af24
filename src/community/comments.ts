/**
 * The discussion of a paper: comments with threaded replies, edits that keep
 * every earlier body, deletion that leaves a tombstone, and the paper's
 * comment count.
 *
 * Invariants:
 * - `papers.comment_count` is the number of the paper's comments that are not
 *   deleted. Every write that changes that number changes the counter in the
 *   same transaction, and only when its own statement changed a row, so two
 *   requests deleting one comment at once take one off the count, not two.
 * - A reply belongs to its parent's paper.
 * - Deleting keeps the row (body emptied, revisions and notifications removed)
 *   so replies keep their place under a "[deleted]" tombstone; a tombstone
 *   with nothing visible under it is not shown at all.
 * - Only the author edits or deletes a comment, or a moderator (of a higher
 *   role than the author) with a reason that goes to the moderation log in
 *   the same transaction.
 * - A hidden comment keeps its body (for its author and moderators) and its
 *   place; others see the moderator's reason instead. A locked thread takes
 *   no new comments or replies.
 */
import type { Kysely } from 'kysely';
import { roleAtLeast, type Viewer } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import type { DB } from '../db/schema.js';
import { staffActionProblem } from '../moderation/actors.js';
import { threadLock } from '../moderation/locks.js';
import { recordModeration } from '../moderation/log.js';
import { instanceSettings } from '../moderation/settings.js';
import { mentionsIn, renderCommentMarkdown } from './markdown.js';
import { recordNotifications, type Notice } from './notifications.js';

/** The longest comment body, in characters. */
export const MAX_COMMENT_LENGTH = 10_000;

/** What a comment needs to know of its paper. */
export interface PaperRef {
  id: number;
  arxivId: string;
  titleText: string;
}

export interface Comment {
  id: number;
  paperId: number;
  parentId: number | null;
  /** Null when the author deleted their account. */
  author: { id: number; username: string } | null;
  /** Markdown; '' once deleted. */
  body: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** Hidden by a moderator: the body stays for its author and moderators only. */
  hidden: { at: string; reason: string } | null;
}

/** True when `viewer` may read the body of hidden comment `c`: its author and moderators. */
export function maySeeHidden(c: Comment, viewer: Viewer | null | undefined): boolean {
  if (viewer === null || viewer === undefined) return false;
  return c.author?.id === viewer.id || roleAtLeast(viewer.role, 'moderator');
}

/** An earlier body of an edited comment: what it said from `createdAt` on. */
export interface Revision {
  body: string;
  createdAt: string;
}

/** Why a write was refused: the HTTP status and what to tell the person. */
export interface Refusal {
  ok: false;
  status: 400 | 403 | 404 | 409;
  message: string;
}

/** Null when `body` is a comment that may be stored, else what is wrong with it. */
export function commentBodyProblem(body: string): string | null {
  if (body.trim() === '') return 'The comment is empty: write something first.';
  if (body.length > MAX_COMMENT_LENGTH) {
    return `The comment is too long: ${body.length.toLocaleString('en')} characters, at most ${MAX_COMMENT_LENGTH.toLocaleString('en')}.`;
  }
  return null;
}

/** Line endings as one `\n`, trailing blanks dropped: the same text typed in a form or sent by a script is stored alike. */
export function normalizeBody(body: string): string {
  return body.replace(/\r\n?/g, '\n').trimEnd();
}

/** The paper with this arXiv id (without version), as comments see it. */
export async function findPaperRef(database: Database, arxivId: string): Promise<PaperRef | undefined> {
  const row = await database.db.selectFrom('papers').select(['id', 'arxiv_id', 'title_text']).where('arxiv_id', '=', arxivId).executeTakeFirst();
  return row === undefined ? undefined : { id: row.id, arxivId: row.arxiv_id, titleText: row.title_text };
}

function commentQuery(db: Kysely<DB>) {
  return db
    .selectFrom('comments as c')
    .leftJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.id', 'c.paper_id', 'c.parent_id', 'c.user_id', 'u.username', 'c.body', 'c.created_at', 'c.edited_at', 'c.deleted_at', 'c.hidden_at', 'c.hidden_reason']);
}

type CommentRow = Awaited<ReturnType<ReturnType<typeof commentQuery>['executeTakeFirstOrThrow']>>;

function fromRow(r: CommentRow): Comment {
  return {
    id: r.id,
    paperId: r.paper_id,
    parentId: r.parent_id,
    author: r.user_id === null || r.username === null ? null : { id: r.user_id, username: r.username },
    body: r.body,
    createdAt: r.created_at,
    editedAt: r.edited_at,
    deletedAt: r.deleted_at,
    hidden: r.hidden_at === null ? null : { at: r.hidden_at, reason: r.hidden_reason ?? '' },
  };
}

/** Every comment of a paper, deleted ones included, oldest first. */
export async function listComments(database: Database, paperId: number): Promise<Comment[]> {
  const rows = await commentQuery(database.db).where('c.paper_id', '=', paperId).orderBy('c.id').execute();
  return rows.map(fromRow);
}

export async function findComment(db: Kysely<DB>, id: number): Promise<Comment | undefined> {
  const row = await commentQuery(db).where('c.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
}

/** The earlier bodies of these comments, oldest first. */
export async function revisionsOf(database: Database, commentIds: readonly number[]): Promise<Map<number, Revision[]>> {
  const out = new Map<number, Revision[]>();
  if (commentIds.length === 0) return out;
  const rows = await database.db
    .selectFrom('comment_revisions')
    .select(['comment_id', 'body', 'created_at'])
    .where('comment_id', 'in', [...commentIds])
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.comment_id) ?? [];
    list.push({ body: r.body, createdAt: r.created_at });
    out.set(r.comment_id, list);
  }
  return out;
}

/**
 * The comments to show, oldest first: every comment that is not deleted, and
 * each deleted one that still has a shown reply under it (its tombstone keeps
 * the thread together).
 */
export function visibleComments(comments: readonly Comment[]): Comment[] {
  const shown = new Set<number>();
  const byId = new Map(comments.map((c) => [c.id, c]));
  for (const c of comments) {
    if (c.deletedAt !== null) continue;
    // Mark the comment and every ancestor up the chain (stopping where already marked).
    let current: Comment | undefined = c;
    while (current !== undefined && !shown.has(current.id)) {
      shown.add(current.id);
      current = current.parentId === null ? undefined : byId.get(current.parentId);
    }
  }
  return comments.filter((c) => shown.has(c.id));
}

/** A comment with its replies, for threaded display. */
export interface ThreadNode {
  comment: Comment;
  replies: ThreadNode[];
}

/** `comments` (already filtered) as a forest: top-level comments oldest first, replies under their parents. */
export function thread(comments: readonly Comment[]): ThreadNode[] {
  const nodes = new Map(comments.map((c) => [c.id, { comment: c, replies: [] as ThreadNode[] }]));
  const roots: ThreadNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.comment.parentId === null ? undefined : nodes.get(node.comment.parentId);
    (parent?.replies ?? roots).push(node);
  }
  return roots;
}

/** The lower-cased usernames among `names` that have accounts. */
async function existingUsernames(database: Database, names: Iterable<string>): Promise<Set<string>> {
  const keys = [...new Set([...names].map((n) => n.toLowerCase()))];
  if (keys.length === 0) return new Set();
  const rows = await database.db.selectFrom('users').select('username_key').where('username_key', 'in', keys).execute();
  return new Set(rows.map((r) => r.username_key));
}

/** The safe HTML of each body (comments and revisions alike), mentions linked to the accounts that exist. */
export async function renderBodies(database: Database, bodies: readonly string[]): Promise<string[]> {
  const known = await existingUsernames(
    database,
    bodies.flatMap((b) => mentionsIn(b)),
  );
  return bodies.map((b) => (b === '' ? '' : renderCommentMarkdown(b, known)));
}

export type WriteResult = { ok: true; comment: Comment; notices: Notice[] } | Refusal;

/** Adds a comment (a reply when `parentId` is set) and counts it on its paper. */
export async function createComment(
  database: Database,
  input: { paper: PaperRef; author: Viewer; body: string; parentId: number | null },
): Promise<WriteResult> {
  const body = normalizeBody(input.body);
  const problem = commentBodyProblem(body);
  if (problem !== null) return { ok: false, status: 400, message: problem };
  const settings = await instanceSettings(database);
  return database.db.transaction().execute(async (trx): Promise<WriteResult> => {
    const lock = await threadLock(trx, input.paper.id);
    if (lock !== null) return { ok: false, status: 409, message: `The discussion of ${input.paper.arxivId} is locked by the moderators: ${lock.reason}` };
    const waitHours = settings.commentMinAccountAgeHours;
    if (waitHours > 0) {
      const author = await trx.selectFrom('users').select('created_at').where('id', '=', input.author.id).executeTakeFirst();
      const opensAt = new Date(Date.parse(author?.created_at ?? '') + waitHours * 3_600_000);
      if (!(opensAt.getTime() <= Date.now())) {
        return { ok: false, status: 403, message: `New accounts can comment ${waitHours} hours after sign-up, against drive-by spam: yours can from ${opensAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.` };
      }
    }
    let parentAuthorId: number | null = null;
    if (input.parentId !== null) {
      const parent = await trx
        .selectFrom('comments')
        .select(['paper_id', 'user_id', 'deleted_at'])
        .where('id', '=', input.parentId)
        .executeTakeFirst();
      if (parent === undefined || parent.paper_id !== input.paper.id) {
        return { ok: false, status: 400, message: `parentId: there is no comment ${input.parentId} on ${input.paper.arxivId} to reply to.` };
      }
      if (parent.deleted_at !== null) return { ok: false, status: 409, message: 'That comment was deleted; it cannot be replied to.' };
      parentAuthorId = parent.user_id;
    }
    const now = new Date().toISOString();
    const { id } = await trx
      .insertInto('comments')
      .values({ paper_id: input.paper.id, user_id: input.author.id, parent_id: input.parentId, body, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('papers')
      .set((eb) => ({ comment_count: eb('comment_count', '+', 1) }))
      .where('id', '=', input.paper.id)
      .execute();
    const notices = await recordNotifications(trx, {
      commentId: id,
      authorId: input.author.id,
      parentAuthorId,
      mentioned: mentionsIn(body),
      at: now,
    });
    const comment = await findComment(trx, id);
    if (comment === undefined) throw new Error(`comment ${id} vanished in its own transaction`);
    return { ok: true, comment, notices };
  });
}

const missing = (id: number): Refusal => ({ ok: false, status: 404, message: `There is no comment ${id}.` });
const notYours = (verb: string): Refusal => ({ ok: false, status: 403, message: `Only the author of a comment can ${verb} it.` });

/**
 * Whether `viewer` may edit or delete `comment`: their own, or as a
 * moderator over someone of a lower role, with a reason. Returns the refusal,
 * or whether the change is a moderation (to be logged).
 */
async function writeAccess(trx: Kysely<DB>, comment: Comment, viewer: Viewer, verb: string, reason: string | undefined): Promise<Refusal | { moderation: boolean }> {
  if (comment.author?.id === viewer.id) return { moderation: false };
  if (!roleAtLeast(viewer.role, 'moderator')) return notYours(verb);
  const author = comment.author === null ? undefined : await trx.selectFrom('users').select(['id', 'role']).where('id', '=', comment.author.id).executeTakeFirst();
  const problem = author === undefined ? null : staffActionProblem(viewer, author);
  if (problem !== null) return { ok: false, status: 403, message: problem };
  if (reason === undefined || reason.trim() === '') return { ok: false, status: 400, message: `reason: say why you ${verb} someone else's comment; it goes to the public moderation log.` };
  return { moderation: true };
}

/** The moderation log's name for a comment: who wrote it, on which paper (never its text). */
export async function commentLabel(db: Kysely<DB>, comment: Comment): Promise<string> {
  const paper = await db.selectFrom('papers').select(['arxiv_id']).where('id', '=', comment.paperId).executeTakeFirst();
  return `comment by ${comment.author?.username ?? 'a deleted account'} on ${paper?.arxiv_id ?? 'a paper'}`;
}

/**
 * Replaces the body of the viewer's own comment, keeping the previous one as a
 * revision dated when it was written. Newly mentioned people are notified;
 * an unchanged body changes nothing.
 */
export async function editComment(database: Database, input: { id: number; viewer: Viewer; body: string; reason?: string }): Promise<WriteResult> {
  const body = normalizeBody(input.body);
  return database.db.transaction().execute(async (trx): Promise<WriteResult> => {
    const comment = await findComment(trx, input.id);
    if (comment === undefined) return missing(input.id);
    const access = await writeAccess(trx, comment, input.viewer, 'edit', input.reason);
    if ('ok' in access) return access;
    if (comment.deletedAt !== null) return { ok: false, status: 409, message: 'This comment was deleted; it cannot be edited.' };
    const problem = commentBodyProblem(body);
    if (problem !== null) return { ok: false, status: 400, message: problem };
    if (body === comment.body) return { ok: true, comment, notices: [] };
    const now = new Date().toISOString();
    // Only over the body read above: of two edits racing from one body, the
    // second would otherwise file that same body as history and lose the first.
    const updated = await trx
      .updateTable('comments')
      .set({ body, edited_at: now })
      .where('id', '=', comment.id)
      .where('body', '=', comment.body)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      return { ok: false, status: 409, message: 'This comment changed while you were editing it; reload the page and edit it again.' };
    }
    await trx
      .insertInto('comment_revisions')
      .values({ comment_id: comment.id, body: comment.body, created_at: comment.editedAt ?? comment.createdAt })
      .execute();
    if (access.moderation) {
      await recordModeration(trx, input.viewer, {
        action: 'edit_comment',
        subject: { kind: 'comment', id: comment.id, label: await commentLabel(trx, comment) },
        reason: input.reason?.trim() ?? '',
      });
    }
    const before = new Set(mentionsIn(comment.body).map((m) => m.toLowerCase()));
    const notices = await recordNotifications(trx, {
      commentId: comment.id,
      authorId: input.viewer.id,
      parentAuthorId: null,
      mentioned: mentionsIn(body).filter((m) => !before.has(m.toLowerCase())),
      at: now,
    });
    return { ok: true, comment: { ...comment, body, editedAt: now }, notices };
  });
}

export type DeleteResult = { ok: true; comment: Comment } | Refusal;

/**
 * Deletes the viewer's own comment: a tombstone without body, history or
 * notifications, uncounted. Deleting a deleted comment again changes nothing.
 */
export async function deleteComment(database: Database, input: { id: number; viewer: Viewer; reason?: string }): Promise<DeleteResult> {
  return database.db.transaction().execute(async (trx): Promise<DeleteResult> => {
    const comment = await findComment(trx, input.id);
    if (comment === undefined) return missing(input.id);
    const access = await writeAccess(trx, comment, input.viewer, 'delete', input.reason);
    if ('ok' in access) return access;
    if (comment.deletedAt !== null) return { ok: true, comment };
    const now = new Date().toISOString();
    const result = await trx
      .updateTable('comments')
      .set({ body: '', deleted_at: now })
      .where('id', '=', comment.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) {
      await trx
        .updateTable('papers')
        .set((eb) => ({ comment_count: eb('comment_count', '-', 1) }))
        .where('id', '=', comment.paperId)
        .execute();
    }
    await trx.deleteFrom('comment_revisions').where('comment_id', '=', comment.id).execute();
    await trx.deleteFrom('notifications').where('comment_id', '=', comment.id).execute();
    if (access.moderation && Number(result.numUpdatedRows) === 1) {
      await recordModeration(trx, input.viewer, {
        action: 'delete_comment',
        subject: { kind: 'comment', id: comment.id, label: await commentLabel(trx, comment) },
        reason: input.reason?.trim() ?? '',
      });
    }
    return { ok: true, comment: { ...comment, body: '', deletedAt: now } };
  });
}
