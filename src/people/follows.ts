/**
 * Follows: the authors, categories, users and keyword searches a person
 * follows, which the Following feed (/following) is made of, and the secret
 * token of that feed's RSS address.
 *
 * A follow is stored as (kind, target): an author's exact parsed name, a
 * category or archive id, a followed user's id in decimal (so a rename keeps
 * the follow), or a keyword query in the search-box syntax. Following is
 * idempotent: (user, kind, target) is unique.
 */
import { sql } from 'kysely';
import { newSecret, isSecret } from '../accounts/secrets.js';
import { usernameKey, USERNAME_RE } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import type { FollowKind } from '../db/schema.js';
import { expandCategoryFilter } from '../feeds/feed.js';
import { parseQuery, renderMatch } from '../search/query.js';

export const FOLLOW_KINDS: readonly FollowKind[] = ['author', 'category', 'user', 'keyword'];

/** How many follows one person may have. */
export const MAX_FOLLOWS = 500;
/**
 * How many of them may be keywords: each runs a search whenever the feed is
 * read, so this bounds the cost of one feed request.
 */
export const MAX_KEYWORD_FOLLOWS = 50;
export const MAX_AUTHOR_NAME = 200;
export const KEYWORD_LENGTH = { min: 2, max: 100 } as const;

/** What one follow points at: an author's parsed name, a category id, a username, or a keyword query. */
export interface FollowTarget {
  kind: FollowKind;
  target: string;
}

/** A stored follow, with the name people read (a followed user's current username). */
export interface Follow extends FollowTarget {
  id: number;
  label: string;
  createdAt: string;
}

/** Why a follow was refused; `status` is the HTTP status that says so. */
export interface FollowProblem {
  status: 400 | 409 | 422;
  message: string;
}

type Resolved = { ok: true; target: string; followedUserId: number | null; label: string } | ({ ok: false } & FollowProblem);

function refuse(status: FollowProblem['status'], message: string): Resolved {
  return { ok: false, status, message };
}

/** The user a `user` target names: an all-digit target is a user id, anything else a username. */
async function findUser(database: Database, target: string): Promise<{ id: number; username: string } | undefined> {
  const query = database.db.selectFrom('users').select(['id', 'username']);
  if (/^\d{1,15}$/.test(target)) return query.where('id', '=', Number(target)).executeTakeFirst();
  if (!USERNAME_RE.test(target)) return undefined;
  return query.where('username_key', '=', usernameKey(target)).executeTakeFirst();
}

/** Checks a follow target and puts it in its stored form, or says why it cannot be followed. */
async function resolveTarget(database: Database, userId: number, input: FollowTarget): Promise<Resolved> {
  const target = input.target.trim();
  switch (input.kind) {
    case 'author': {
      if (target === '') return refuse(400, 'Give the author\'s name.');
      if (target.length > MAX_AUTHOR_NAME) return refuse(400, `An author name has at most ${MAX_AUTHOR_NAME} characters.`);
      const paper = await database.db.selectFrom('paper_authors').select('paper_id').where('name', '=', target).limit(1).executeTakeFirst();
      if (paper === undefined) return refuse(422, `No paper in this instance has an author named "${target}" (names must match exactly as on the paper).`);
      return { ok: true, target, followedUserId: null, label: target };
    }
    case 'category':
      if (target === '' || expandCategoryFilter(target) === undefined) {
        return refuse(422, `"${target}" is no arXiv category or archive (e.g. cs.LG, hep-th, math).`);
      }
      return { ok: true, target, followedUserId: null, label: target };
    case 'user': {
      const user = target === '' ? undefined : await findUser(database, target);
      if (user === undefined) return refuse(422, `There is no user ${target}.`);
      if (user.id === userId) return refuse(422, 'You cannot follow yourself.');
      return { ok: true, target: String(user.id), followedUserId: user.id, label: user.username };
    }
    case 'keyword': {
      const query = target.replace(/\s+/g, ' ');
      if (query.length < KEYWORD_LENGTH.min || query.length > KEYWORD_LENGTH.max) {
        return refuse(400, `A keyword search has ${KEYWORD_LENGTH.min} to ${KEYWORD_LENGTH.max} characters.`);
      }
      const rendered = renderMatch(parseQuery(query));
      if (!rendered.ok) return refuse(422, `"${query}" cannot be searched: ${rendered.reason}.`);
      return { ok: true, target: query, followedUserId: null, label: query };
    }
  }
}

export type FollowResult = { ok: true; follow: Follow; created: boolean } | ({ ok: false } & FollowProblem);

/** Follows `input` for `userId`; following something already followed changes nothing (`created: false`). */
export async function follow(database: Database, userId: number, input: FollowTarget): Promise<FollowResult> {
  const resolved = await resolveTarget(database, userId, input);
  if (!resolved.ok) return resolved;
  return database.db.transaction().execute(async (trx): Promise<FollowResult> => {
    const existing = await trx
      .selectFrom('follows')
      .select(['id', 'created_at'])
      .where('user_id', '=', userId)
      .where('kind', '=', input.kind)
      .where('target', '=', resolved.target)
      .executeTakeFirst();
    const follow = (id: number, createdAt: string): Follow => ({ id, kind: input.kind, target: resolved.target, label: resolved.label, createdAt });
    if (existing !== undefined) return { ok: true, follow: follow(existing.id, existing.created_at), created: false };
    const counts = await trx
      .selectFrom('follows')
      .select((eb) => [eb.fn.countAll<number | string>().as('all'), eb.fn.sum<number | string | null>(sql`CASE WHEN kind = 'keyword' THEN 1 ELSE 0 END`).as('keywords')])
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    if (Number(counts.all) >= MAX_FOLLOWS) return { ok: false, status: 409, message: `You follow ${MAX_FOLLOWS} things already, the most one person may; unfollow some first.` };
    if (input.kind === 'keyword' && Number(counts.keywords ?? 0) >= MAX_KEYWORD_FOLLOWS) {
      return { ok: false, status: 409, message: `You follow ${MAX_KEYWORD_FOLLOWS} keyword searches already, the most one person may; unfollow some first.` };
    }
    const createdAt = new Date().toISOString();
    // A concurrent follow of the same thing loses the race quietly and reads the winner's row.
    await trx
      .insertInto('follows')
      .values({ user_id: userId, kind: input.kind, target: resolved.target, followed_user_id: resolved.followedUserId, created_at: createdAt })
      .onConflict((oc) => oc.columns(['user_id', 'kind', 'target']).doNothing())
      .execute();
    const row = await trx
      .selectFrom('follows')
      .select(['id', 'created_at'])
      .where('user_id', '=', userId)
      .where('kind', '=', input.kind)
      .where('target', '=', resolved.target)
      .executeTakeFirstOrThrow();
    return { ok: true, follow: follow(row.id, row.created_at), created: row.created_at === createdAt };
  });
}

/** The stored form of `input`'s target, without checking it can be followed (a user's id; undefined for an unknown user). */
export async function storedTarget(database: Database, input: FollowTarget): Promise<string | undefined> {
  const target = input.target.trim();
  if (input.kind === 'user') return (await findUser(database, target))?.id.toString();
  return input.kind === 'keyword' ? target.replace(/\s+/g, ' ') : target;
}

/** Stops following `input`; true if it was followed. */
export async function unfollow(database: Database, userId: number, input: FollowTarget): Promise<boolean> {
  const target = await storedTarget(database, input);
  if (target === undefined) return false;
  const result = await database.db
    .deleteFrom('follows')
    .where('user_id', '=', userId)
    .where('kind', '=', input.kind)
    .where('target', '=', target)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes follow `id` if it is `userId`'s; false for another person's or an unknown one. */
export async function unfollowById(database: Database, userId: number, id: number): Promise<boolean> {
  const result = await database.db.deleteFrom('follows').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Whether `userId` follows `target` (a user is followed by id: pass the followed user's id in decimal). */
export async function isFollowing(database: Database, userId: number, target: FollowTarget): Promise<boolean> {
  const row = await database.db
    .selectFrom('follows')
    .select('id')
    .where('user_id', '=', userId)
    .where('kind', '=', target.kind)
    .where('target', '=', target.target)
    .executeTakeFirst();
  return row !== undefined;
}

/** Everything `userId` follows, by kind, then oldest first. */
export async function followsOf(database: Database, userId: number): Promise<Follow[]> {
  const rows = await database.db
    .selectFrom('follows as f')
    .leftJoin('users as u', 'u.id', 'f.followed_user_id')
    .select(['f.id', 'f.kind', 'f.target', 'f.created_at', 'u.username'])
    .where('f.user_id', '=', userId)
    .orderBy('f.id')
    .execute();
  const order = new Map(FOLLOW_KINDS.map((k, i) => [k, i]));
  return rows
    .map((r) => ({ id: r.id, kind: r.kind, target: r.target, label: r.username ?? r.target, createdAt: r.created_at }))
    .sort((a, b) => (order.get(a.kind) ?? 0) - (order.get(b.kind) ?? 0) || a.id - b.id);
}

/**
 * The secret of `userId`'s Following RSS address, if one was made. It is kept
 * as given, not hashed: the page shows the address again whenever its owner
 * looks, as calendar apps do with their secret addresses, and it only reads a
 * list of papers. Rotating replaces it.
 */
export async function feedTokenOf(database: Database, userId: number): Promise<string | undefined> {
  const row = await database.db.selectFrom('feed_tokens').select('token').where('user_id', '=', userId).executeTakeFirst();
  return row?.token;
}

/** Makes a new secret for `userId`'s feed address; the old address stops working. */
export async function rotateFeedToken(database: Database, userId: number): Promise<string> {
  const token = newSecret();
  const createdAt = new Date().toISOString();
  await database.db
    .insertInto('feed_tokens')
    .values({ user_id: userId, token, created_at: createdAt })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ token, created_at: createdAt }))
    .execute();
  return token;
}

/** The person whose feed `token` opens, if any. */
export async function feedTokenOwner(database: Database, token: string): Promise<number | undefined> {
  if (!isSecret(token)) return undefined;
  const row = await database.db.selectFrom('feed_tokens').select('user_id').where('token', '=', token).executeTakeFirst();
  return row?.user_id;
}
