/**
 * The public moderation log (/moderation): every action a curator, moderator
 * or admin takes on someone else's content or account, with who, when and
 * why. Each action writes its entry in the same transaction as the change,
 * so the log never misses one and never shows one that did not happen.
 */
import type { Kysely } from 'kysely';
import type { Viewer } from '../accounts/users.js';
import type { DB, ModerationSubject } from '../db/schema.js';

export const MODERATION_ACTIONS = [
  'feature_paper',
  'unfeature_paper',
  'verify_claim',
  'reject_claim',
  'hide_comment',
  'unhide_comment',
  'edit_comment',
  'delete_comment',
  'lock_thread',
  'unlock_thread',
  'dismiss_report',
  'ban_user',
  'unban_user',
  'suspend_user',
  'unsuspend_user',
  'set_role',
  'change_setting',
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

export interface ModerationEntry {
  action: ModerationAction;
  subject: { kind: ModerationSubject; id: string | number; label: string };
  /** Why; required of every action a person could dispute. */
  reason: string;
}

/** Appends `entry` by `actor`; pass the transaction that makes the change. */
export async function recordModeration(db: Kysely<DB>, actor: Viewer, entry: ModerationEntry, now = new Date()): Promise<void> {
  await db
    .insertInto('moderation_log')
    .values({
      created_at: now.toISOString(),
      actor_id: actor.id,
      actor_name: actor.username,
      actor_role: actor.role,
      action: entry.action,
      subject_kind: entry.subject.kind,
      subject_id: String(entry.subject.id),
      subject_label: entry.subject.label,
      reason: entry.reason,
    })
    .execute();
}

/** One entry of the public log. */
export interface LoggedAction {
  id: number;
  createdAt: string;
  actor: { username: string; role: string };
  action: string;
  subject: { kind: ModerationSubject; id: string; label: string };
  reason: string;
}

/** A page of the log, newest first, before entry `before` (keyset), optionally one action only; `next` is the cursor of the following page. */
export async function listModeration(
  db: Kysely<DB>,
  options: { before?: number; limit: number; action?: ModerationAction },
): Promise<{ entries: LoggedAction[]; next: number | null }> {
  let query = db.selectFrom('moderation_log').selectAll().orderBy('id', 'desc').limit(options.limit + 1);
  if (options.before !== undefined) query = query.where('id', '<', options.before);
  if (options.action !== undefined) query = query.where('action', '=', options.action);
  const rows = await query.execute();
  const entries = rows.slice(0, options.limit).map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    actor: { username: r.actor_name, role: r.actor_role },
    action: r.action,
    subject: { kind: r.subject_kind, id: r.subject_id, label: r.subject_label },
    reason: r.reason,
  }));
  return { entries, next: rows.length > options.limit ? (entries.at(-1)?.id ?? null) : null };
}
