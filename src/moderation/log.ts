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
