/**
 * Personal API tokens: `pb_` and a secret, sent as `Authorization: Bearer`.
 * Stored hashed; shown once, at creation. `read` tokens raise the caller's
 * rate limits; `write` tokens may also upvote, comment and submit.
 */
import type { Database } from '../db/connection.js';
import type { TokenScope } from '../db/schema.js';
import { hashSecret, isSecret, newSecret } from './secrets.js';
import { restrictionOf, viewerOf, type Restriction, type Viewer } from './users.js';

const PREFIX = 'pb_';
export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'write'];

export interface ApiTokenInfo {
  id: number;
  name: string;
  scope: TokenScope;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Creates a token; the returned secret is the only copy. */
export async function createApiToken(
  database: Database,
  userId: number,
  scope: TokenScope,
  name: string,
): Promise<{ token: string; info: ApiTokenInfo }> {
  const token = PREFIX + newSecret();
  const createdAt = new Date().toISOString();
  const row = await database.db
    .insertInto('api_tokens')
    .values({ user_id: userId, name: name.slice(0, 100), token_hash: hashSecret(token), scope, created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, info: { id: row.id, name, scope, createdAt, lastUsedAt: null } };
}

/** The person, scope and any suspension of a bearer token, or null for an unknown or malformed one (or a banned account's). */
export async function apiTokenViewer(
  database: Database,
  token: string,
): Promise<{ viewer: Viewer; scope: TokenScope; tokenId: number; restriction: Restriction | null } | null> {
  if (!token.startsWith(PREFIX) || !isSecret(token.slice(PREFIX.length))) return null;
  const row = await database.db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select(['api_tokens.id as token_id', 'api_tokens.scope', 'api_tokens.last_used_at', 'users.id', 'users.username', 'users.role', 'users.email_verified_at', 'users.banned_at', 'users.suspended_until', 'users.restriction_reason'])
    .where('api_tokens.token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  if (row === undefined) return null;
  const restriction = restrictionOf(row);
  if (restriction?.kind === 'banned') return null;
  // Day resolution: enough to tell an unused token, and not a write per request.
  const today = new Date().toISOString().slice(0, 10);
  if (row.last_used_at?.slice(0, 10) !== today) {
    await database.db.updateTable('api_tokens').set({ last_used_at: new Date().toISOString() }).where('id', '=', row.token_id).execute();
  }
  return { viewer: viewerOf(row), scope: row.scope, tokenId: row.token_id, restriction };
}

export async function listApiTokens(database: Database, userId: number): Promise<ApiTokenInfo[]> {
  const rows = await database.db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'scope', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, scope: r.scope, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
}

/** Revokes one of `userId`'s tokens; false when it is not theirs (or already gone). */
export async function revokeApiToken(database: Database, userId: number, tokenId: number): Promise<boolean> {
  const result = await database.db.deleteFrom('api_tokens').where('id', '=', tokenId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
