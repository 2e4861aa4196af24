/**
 * Notifications: someone replied to your comment or mentioned you. A row per
 * person and comment, written in the transaction that writes the comment, and
 * an email to verified addresses once it has committed.
 *
 * Addresses that were never verified get no email: anyone can sign up with
 * someone else's address, and mentions must not turn Paperboy into a way to
 * send mail to strangers.
 */
import type { Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import type { DB, NotificationKind } from '../db/schema.js';
import { mailerFor } from '../mail/mailer.js';

/** Someone to notify about a comment. */
export interface Notice {
  kind: NotificationKind;
  userId: number;
  username: string;
  email: string;
  emailVerified: boolean;
}

/** What the email says about the comment. */
export interface NoticeContext {
  commentId: number;
  body: string;
  authorUsername: string;
  paperArxivId: string;
  paperTitle: string;
}

/**
 * Records notifications of comment `commentId` by `authorId`: a reply to
 * `parentAuthorId`'s comment and mentions of `mentioned` (usernames as
 * written; unknown ones are ignored). Nobody is notified of their own
 * comment, nobody twice about one comment (a reply that also mentions its
 * parent's author is a reply; an edit notifies only the newly mentioned).
 */
export async function recordNotifications(
  trx: Kysely<DB>,
  input: { commentId: number; authorId: number; parentAuthorId: number | null; mentioned: readonly string[]; at: string },
): Promise<Notice[]> {
  const keys = [...new Set(input.mentioned.map((m) => m.toLowerCase()))];
  if (keys.length === 0 && input.parentAuthorId === null) return [];
  const parentAuthorId = input.parentAuthorId;
  const users = await trx
    .selectFrom('users')
    .select(['id', 'username', 'email', 'email_verified_at'])
    .where((eb) =>
      eb.or([
        ...(keys.length > 0 ? [eb('username_key', 'in', keys)] : []),
        ...(parentAuthorId !== null ? [eb('id', '=', parentAuthorId)] : []),
      ]),
    )
    .where('id', '!=', input.authorId)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('notifications as n')
            .select('n.id')
            .whereRef('n.user_id', '=', 'users.id')
            .where('n.comment_id', '=', input.commentId),
        ),
      ),
    )
    .orderBy('id')
    .execute();
  if (users.length === 0) return [];
  const notices: Notice[] = users.map((u) => ({
    kind: u.id === input.parentAuthorId ? 'reply' : 'mention',
    userId: u.id,
    username: u.username,
    email: u.email,
    emailVerified: u.email_verified_at !== null,
  }));
  await trx
    .insertInto('notifications')
    .values(notices.map((n) => ({ user_id: n.userId, kind: n.kind, comment_id: input.commentId, created_at: input.at })))
    .execute();
  return notices;
}

/** The link to a comment on its paper's page. */
export function commentUrl(ctx: AppContext, arxivId: string, commentId: number): string {
  return `${ctx.config.baseUrl}/papers/${arxivId}#comment-${commentId}`;
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The email of one notice. */
export function noticeMail(ctx: AppContext, notice: Notice, about: NoticeContext): { to: string; subject: string; text: string; kind: NotificationKind } {
  const title = oneLine(about.paperTitle, 120);
  const what = notice.kind === 'reply' ? 'replied to your comment' : 'mentioned you in a comment';
  const excerpt = about.body.length > 1500 ? `${about.body.slice(0, 1500)}…` : about.body;
  return {
    to: notice.email,
    kind: notice.kind,
    subject: `${about.authorUsername} ${what} on "${title}"`,
    text: `Hello ${notice.username},

${about.authorUsername} ${what} on "${title}":

${excerpt
  .split('\n')
  .map((line) => `> ${line}`)
  .join('\n')}

Read and reply: ${commentUrl(ctx, about.paperArxivId, about.commentId)}

All your notifications: ${ctx.config.baseUrl}/notifications
`,
  };
}

/**
 * Emails `notices` about a committed comment, without making the request
 * wait for SMTP. Failures are kept in the outbox and logged.
 */
export function emailNotices(ctx: AppContext, notices: readonly Notice[], about: NoticeContext): void {
  for (const notice of notices) {
    if (!notice.emailVerified) continue;
    mailerFor(ctx)
      .send(noticeMail(ctx, notice, about))
      .catch((err: unknown) => ctx.log.error({ err, kind: notice.kind, commentId: about.commentId }, 'storing a notification email failed'));
  }
}

/** A notification as the notifications page lists it. */
export interface NotificationItem {
  id: number;
  kind: NotificationKind;
  createdAt: string;
  read: boolean;
  commentId: number;
  commentBody: string;
  actor: string | null;
  paperArxivId: string;
  paperTitle: string;
}

/** The latest `limit` notifications of `userId`, newest first. */
export async function listNotifications(database: Database, userId: number, limit = 100): Promise<NotificationItem[]> {
  const rows = await database.db
    .selectFrom('notifications as n')
    .innerJoin('comments as c', 'c.id', 'n.comment_id')
    .innerJoin('papers as p', 'p.id', 'c.paper_id')
    .leftJoin('users as u', 'u.id', 'c.user_id')
    .select(['n.id', 'n.kind', 'n.created_at', 'n.read_at', 'c.id as comment_id', 'c.body', 'u.username', 'p.arxiv_id', 'p.title_text'])
    .where('n.user_id', '=', userId)
    .orderBy('n.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    createdAt: r.created_at,
    read: r.read_at !== null,
    commentId: r.comment_id,
    commentBody: r.body,
    actor: r.username,
    paperArxivId: r.arxiv_id,
    paperTitle: r.title_text,
  }));
}

/** Marks every notification of `userId` read; resolves to how many were unread. */
export async function markAllRead(database: Database, userId: number): Promise<number> {
  const result = await database.db
    .updateTable('notifications')
    .set({ read_at: new Date().toISOString() })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
