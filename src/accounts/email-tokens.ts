/**
 * Single-use links sent by email: verify an address, sign in, reset a
 * password, confirm a new address. The link carries a secret; the database
 * keeps its hash, the purpose and the expiry. Using one is one UPDATE that
 * only succeeds while the token is unused and unexpired, so two clicks (or two
 * processes) cannot both use it.
 */
import type { Database } from '../db/connection.js';
import type { EmailTokenPurpose } from '../db/schema.js';
import { hashSecret, isSecret, newSecret } from './secrets.js';

/** How long each kind of link works. */
export const TOKEN_LIFETIME_MS: Record<EmailTokenPurpose, number> = {
  verify: 48 * 3600_000,
  login: 15 * 60_000,
  reset: 60 * 60_000,
  email: 24 * 3600_000,
};

export async function issueEmailToken(database: Database, userId: number, purpose: EmailTokenPurpose, data: string | null = null): Promise<string> {
  const token = newSecret();
  const now = Date.now();
  await database.db
    .insertInto('email_tokens')
    .values({ token_hash: hashSecret(token), user_id: userId, purpose, data, created_at: now, expires_at: now + TOKEN_LIFETIME_MS[purpose] })
    .execute();
  return token;
}

/** Whether `token` is a live link for `purpose` (without using it): the page behind a link shows a button first. */
export async function peekEmailToken(database: Database, token: string, purpose: EmailTokenPurpose): Promise<boolean> {
  if (!isSecret(token)) return false;
  const row = await database.db
    .selectFrom('email_tokens')
    .select('token_hash')
    .where('token_hash', '=', hashSecret(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', Date.now())
    .executeTakeFirst();
  return row !== undefined;
}

/** Uses `token` for `purpose`: its user and data, or null when it is unknown, used, expired or for something else. */
export async function useEmailToken(
  database: Database,
  token: string,
  purpose: EmailTokenPurpose,
): Promise<{ userId: number; data: string | null } | null> {
  if (!isSecret(token)) return null;
  const now = Date.now();
  const row = await database.db
    .updateTable('email_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hashSecret(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['user_id', 'data'])
    .executeTakeFirst();
  return row === undefined ? null : { userId: row.user_id, data: row.data };
}
