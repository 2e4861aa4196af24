/**
 * Follows: the authors, categories, users and keyword searches a person
 * follows, which the Following feed (/following) is made of.
 */
import type { Database } from '../db/connection.js';
import type { FollowKind } from '../db/schema.js';

/** What one follow points at: an author's parsed name, a category id, a username, or a keyword query. */
export interface FollowTarget {
  kind: FollowKind;
  target: string;
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
