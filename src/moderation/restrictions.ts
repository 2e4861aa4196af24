/**
 * Moderating accounts: bans (every session and API token ended, sign-in
 * refused, comments kept), suspensions for 1 to 365 days (read-only until
 * they end by themselves, see src/web/auth.ts) and role changes. Each is
 * refused on oneself and on anyone of the same or a higher role, and logged
 * in the transaction that makes it.
 */
import type { Kysely } from 'kysely';
import { ROLES, restrictionOf, type Viewer } from '../accounts/users.js';
import type { Refusal } from '../community/comments.js';
import type { Database } from '../db/connection.js';
import type { DB, Role } from '../db/schema.js';
import { staffActionProblem } from './actors.js';
import { recordModeration, type ModerationAction } from './log.js';

export const MAX_SUSPENSION_DAYS = 365;

export type AccountActionResult = { ok: true } | Refusal;

interface Target {
  id: number;
  username: string;
  role: Role;
  banned_at: string | null;
  suspended_until: string | null;
  restriction_reason: string | null;
}

async function target(trx: Kysely<DB>, userId: number): Promise<Target | undefined> {
  return trx
    .selectFrom('users')
    .select(['id', 'username', 'role', 'banned_at', 'suspended_until', 'restriction_reason'])
    .where('id', '=', userId)
    .executeTakeFirst();
}

/** Runs `change` on `userId` after the checks every account action shares, and logs it. */
async function act(
  database: Database,
  actor: Viewer,
  userId: number,
  action: ModerationAction,
  reason: string,
  change: (trx: Kysely<DB>, user: Target) => Promise<Refusal | null>,
): Promise<AccountActionResult> {
  return database.db.transaction().execute(async (trx): Promise<AccountActionResult> => {
    const user = await target(trx, userId);
    if (user === undefined) return { ok: false, status: 404, message: `There is no user ${userId}.` };
    const problem = staffActionProblem(actor, user);
    if (problem !== null) return { ok: false, status: 403, message: problem };
    const refused = await change(trx, user);
    if (refused !== null) return refused;
    await recordModeration(trx, actor, { action, subject: { kind: 'user', id: user.id, label: user.username }, reason });
    return { ok: true };
  });
}

/** Bans `userId`: signs them out everywhere and revokes their API tokens. */
export function banUser(database: Database, actor: Viewer, userId: number, reason: string): Promise<AccountActionResult> {
  return act(database, actor, userId, 'ban_user', reason, async (trx, user) => {
    if (user.banned_at !== null) return { ok: false, status: 409, message: `${user.username} is already banned.` };
    await trx.updateTable('users').set({ banned_at: new Date().toISOString(), suspended_until: null, restriction_reason: reason }).where('id', '=', user.id).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    await trx.deleteFrom('api_tokens').where('user_id', '=', user.id).execute();
    return null;
  });
}

export function unbanUser(database: Database, actor: Viewer, userId: number, reason: string): Promise<AccountActionResult> {
  return act(database, actor, userId, 'unban_user', reason, async (trx, user) => {
    if (user.banned_at === null) return { ok: false, status: 409, message: `${user.username} is not banned.` };
    await trx.updateTable('users').set({ banned_at: null, restriction_reason: null }).where('id', '=', user.id).execute();
    return null;
  });
}

/** Suspends `userId` for `days` (1 to 365) from now; a running suspension is replaced. */
export function suspendUser(database: Database, actor: Viewer, userId: number, days: number, reason: string, now = new Date()): Promise<AccountActionResult> {
  return act(database, actor, userId, 'suspend_user', `${reason} (${days} ${days === 1 ? 'day' : 'days'})`, async (trx, user) => {
    if (user.banned_at !== null) return { ok: false, status: 409, message: `${user.username} is banned; unban them first.` };
    const until = new Date(now.getTime() + days * 86_400_000).toISOString();
    await trx.updateTable('users').set({ suspended_until: until, restriction_reason: reason }).where('id', '=', user.id).execute();
    return null;
  });
}

export function unsuspendUser(database: Database, actor: Viewer, userId: number, reason: string): Promise<AccountActionResult> {
  return act(database, actor, userId, 'unsuspend_user', reason, async (trx, user) => {
    if (restrictionOf(user)?.kind !== 'suspended') return { ok: false, status: 409, message: `${user.username} is not suspended.` };
    await trx.updateTable('users').set({ suspended_until: null, restriction_reason: null }).where('id', '=', user.id).execute();
    return null;
  });
}

/** Gives `userId` the role `role` (admins only, checked by the routes' minRole). */
export function setRole(database: Database, actor: Viewer, userId: number, role: Role, reason: string): Promise<AccountActionResult> {
  return act(database, actor, userId, 'set_role', `${role}: ${reason}`, async (trx, user) => {
    if (!ROLES.includes(role)) return { ok: false, status: 400, message: `role: must be one of ${ROLES.join(', ')}.` };
    if (user.role === role) return { ok: false, status: 409, message: `${user.username} is already a ${role}.` };
    await trx.updateTable('users').set({ role }).where('id', '=', user.id).execute();
    return null;
  });
}
