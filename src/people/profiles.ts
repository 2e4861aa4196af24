/**
 * What a public profile shows of a person: their verified authorships (those
 * they show), the papers they submitted, their public collections and their
 * recent comments (not deleted, not hidden by a moderator), and whether the
 * account is banned or suspended. Never their email, upvotes or sessions.
 * The profile page and `GET /api/users/:username` both read it from here.
 */
import { restrictionOf, usernameKey, USERNAME_RE, type Restriction } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import type { Role } from '../db/schema.js';
import { profileClaims, type Claim } from './claims.js';
import { publicCollectionsOf, type CollectionSummary } from './collections.js';

const RECENT = 20;

export interface Profile {
  id: number;
  username: string;
  role: Role;
  createdAt: string;
  restriction: Restriction | null;
  /** Verified claims: all of them for the owner (with their toggles), the shown ones for everyone else. */
  claims: Claim[];
  submissions: { arxivId: string; title: string; featuredOn: string }[];
  collections: CollectionSummary[];
  comments: { id: number; arxivId: string; title: string; createdAt: string }[];
}

/** The profile of `username` as `viewerId` sees it, or undefined for no such user. */
export async function loadProfile(database: Database, username: string, viewerId: number | null): Promise<Profile | undefined> {
  if (!USERNAME_RE.test(username)) return undefined;
  const { db } = database;
  const user = await db
    .selectFrom('users')
    .select(['id', 'username', 'role', 'created_at', 'banned_at', 'suspended_until', 'restriction_reason'])
    .where('username_key', '=', usernameKey(username))
    .executeTakeFirst();
  if (user === undefined) return undefined;
  const [claims, submissions, collections, comments] = await Promise.all([
    profileClaims(database, user.id, viewerId === user.id),
    db
      .selectFrom('featured')
      .innerJoin('papers', 'papers.id', 'featured.paper_id')
      .select(['papers.arxiv_id', 'papers.title_text', 'featured.featured_on'])
      .where('featured.source', '=', 'submission')
      .where('featured.featured_by', '=', user.username)
      .where('featured.hidden_at', 'is', null)
      .orderBy('featured.featured_at', 'desc')
      .limit(RECENT)
      .execute(),
    publicCollectionsOf(database, user.id),
    db
      .selectFrom('comments')
      .innerJoin('papers', 'papers.id', 'comments.paper_id')
      .select(['comments.id', 'comments.created_at', 'papers.arxiv_id', 'papers.title_text'])
      .where('comments.user_id', '=', user.id)
      .where('comments.deleted_at', 'is', null)
      .where('comments.hidden_at', 'is', null)
      .orderBy('comments.id', 'desc')
      .limit(RECENT)
      .execute(),
  ]);
  return {
    id: Number(user.id),
    username: user.username,
    role: user.role,
    createdAt: user.created_at,
    restriction: restrictionOf(user),
    claims,
    submissions: submissions.map((s) => ({ arxivId: s.arxiv_id, title: s.title_text, featuredOn: s.featured_on })),
    collections,
    comments: comments.map((c) => ({ id: Number(c.id), arxivId: c.arxiv_id, title: c.title_text, createdAt: c.created_at })),
  };
}
