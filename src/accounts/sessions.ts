/**
 * Sign-in sessions: a random token in a cookie, stored hashed, with an idle
 * and an absolute timeout. Signing in always makes a new session (rotation),
 * so a token planted before sign-in is worth nothing after it.
 */
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import { hashSecret, isSecret, newSecret } from './secrets.js';
import { restrictionOf, viewerOf, type Restriction, type Viewer } from './users.js';

/** last_seen_at is written at most this often per session: a signed-in page view is not a write. */
const TOUCH_EVERY_MS = 60_000;

export interface SessionInfo {
  id: number;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
}

/** Starts a session for `userId`; returns the token for the cookie. */
export async function startSession(
  database: Database,
  config: Pick<Config, 'sessions'>,
  userId: number,
  client: { userAgent?: string; ip?: string },
): Promise<string> {
  const token = newSecret();
  const now = Date.now();
  await database.db
    .insertInto('sessions')
    .values({
      user_id: userId,
      token_hash: hashSecret(token),
      created_at: now,
      last_seen_at: now,
      expires_at: now + config.sessions.maxMs,
      user_agent: client.userAgent?.slice(0, 300) ?? null,
      ip: client.ip ?? null,
    })
    .execute();
  return token;
}

/**
 * The person a session token belongs to (their unread notifications, and a
 * suspension in force), or null when it is unknown, idle too long, past its
 * absolute end or its account is banned.
 */
export async function sessionViewer(
  database: Database,
  config: Pick<Config, 'sessions'>,
  token: string,
): Promise<{ viewer: Viewer; sessionId: number; unread: number; restriction: Restriction | null } | null> {
  if (!isSecret(token)) return null;
  const row = await database.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id as session_id', 'sessions.last_seen_at', 'sessions.expires_at', 'users.id', 'users.username', 'users.role', 'users.email_verified_at', 'users.banned_at', 'users.suspended_until', 'users.restriction_reason'])
    // The header's count, in the same round trip: every signed-in page shows it.
    .select((eb) =>
      eb
        .selectFrom('notifications')
        .select((n) => n.fn.countAll<number>().as('n'))
        .whereRef('notifications.user_id', '=', 'users.id')
        .where('notifications.read_at', 'is', null)
        .as('unread'),
    )
    .where('sessions.token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  if (row === undefined) return null;
  const now = Date.now();
  const restriction = restrictionOf(row);
  // A ban ends every session when it is made; refusing here too covers a session started in the same instant.
  if (now >= row.expires_at || now - row.last_seen_at >= config.sessions.idleMs || restriction?.kind === 'banned') {
    await database.db.deleteFrom('sessions').where('id', '=', row.session_id).execute();
    return null;
  }
  if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
    await database.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', row.session_id).execute();
  }
  return { viewer: viewerOf(row), sessionId: row.session_id, unread: Number(row.unread ?? 0), restriction };
}

export async function endSession(database: Database, token: string): Promise<void> {
  if (isSecret(token)) await database.db.deleteFrom('sessions').where('token_hash', '=', hashSecret(token)).execute();
}

/** Ends `userId`'s sessions, except `keep` (the one asking). */
export async function endSessions(database: Database, userId: number, keep?: number): Promise<number> {
  let query = database.db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep !== undefined) query = query.where('id', '!=', keep);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Ends one of `userId`'s sessions; false when it is not theirs (or gone). */
export async function endSessionById(database: Database, userId: number, sessionId: number): Promise<boolean> {
  const result = await database.db.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listSessions(database: Database, config: Pick<Config, 'sessions'>, userId: number): Promise<SessionInfo[]> {
  const idleSince = Date.now() - config.sessions.idleMs;
  const rows = await database.db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'user_agent', 'ip'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', Date.now())
    .where('last_seen_at', '>', idleSince)
    .orderBy('last_seen_at', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    userAgent: r.user_agent,
    ip: r.ip,
  }));
}
