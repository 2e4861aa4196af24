/**
 * A person's data as a whole: the export they can download, and what deleting
 * their account removes. Deleting keeps the discussion readable: their
 * comments stay as tombstones (no author, no body) so replies keep their
 * place, and the counters of the papers they upvoted or discussed are
 * recounted in the same transaction.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/connection.js';
import type { DB } from '../db/schema.js';
import { savedSearchesOf } from '../saved/repository.js';
import { preferencesOf } from '../subscriptions/preferences.js';
import { accountSubscriptions, endAccountSubscriptions } from '../subscriptions/subscribers.js';

export interface AccountExport {
  exportedAt: string;
  account: { username: string; email: string; role: string; emailVerifiedAt: string | null; createdAt: string };
  sessions: { createdAt: string; lastSeenAt: string; userAgent: string | null; ip: string | null }[];
  apiTokens: { name: string; scope: string; createdAt: string; lastUsedAt: string | null }[];
  upvotes: { paper: string; at: string }[];
  comments: {
    id: number;
    paper: string;
    parentId: number | null;
    body: string;
    createdAt: string;
    editedAt: string | null;
    deletedAt: string | null;
    revisions: { body: string; createdAt: string }[];
  }[];
  submissions: { paper: string; featuredOn: string; at: string }[];
  notifications: { kind: string; commentId: number; createdAt: string; readAt: string | null }[];
  /** Email digest subscriptions: the account's address and any linked to the account. */
  subscriptions: {
    email: string;
    status: string;
    cadence: string;
    paperCount: number;
    categories: string[];
    keywords: string[];
    mutedKeywords: string[];
    createdAt: string;
    confirmedAt: string | null;
    unsubscribedAt: string | null;
  }[];
  claims: { paper: string; authorName: string; status: string; reason: string | null; showOnProfile: boolean; createdAt: string }[];
  collections: {
    name: string;
    description: string;
    public: boolean;
    createdAt: string;
    papers: { paper: string; note: string; addedAt: string }[];
  }[];
  follows: { kind: string; target: string; createdAt: string }[];
  mutedKeywords: { keyword: string; createdAt: string }[];
  notInterested: { paper: string; at: string }[];
  /** Without feed and alert tokens or the webhook's address (a chat webhook's URL is itself a credential), like the subscriptions' link tokens. */
  savedSearches: {
    name: string;
    query: string;
    mode: string;
    categories: string[];
    featuredOnly: boolean;
    emailAlert: boolean;
    webhook: boolean;
    createdAt: string;
  }[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

export async function exportAccount(database: Database, userId: number): Promise<AccountExport | null> {
  const { db } = database;
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (user === undefined) return null;
  const owner = { id: userId, emailKey: user.email_key, emailVerified: user.email_verified_at !== null };
  const [sessions, tokens, upvotes, comments, revisions, submissions, notifications, subscriptions] = await Promise.all([
    db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    db
      .selectFrom('upvotes')
      .innerJoin('papers', 'papers.id', 'upvotes.paper_id')
      .select(['papers.arxiv_id', 'upvotes.created_at'])
      .where('upvotes.user_id', '=', userId)
      .orderBy('upvotes.created_at')
      .execute(),
    db
      .selectFrom('comments')
      .innerJoin('papers', 'papers.id', 'comments.paper_id')
      .select(['comments.id', 'papers.arxiv_id', 'comments.parent_id', 'comments.body', 'comments.created_at', 'comments.edited_at', 'comments.deleted_at'])
      .where('comments.user_id', '=', userId)
      .orderBy('comments.id')
      .execute(),
    db
      .selectFrom('comment_revisions')
      .innerJoin('comments', 'comments.id', 'comment_revisions.comment_id')
      .select(['comment_revisions.comment_id', 'comment_revisions.body', 'comment_revisions.created_at'])
      .where('comments.user_id', '=', userId)
      .orderBy('comment_revisions.id')
      .execute(),
    db
      .selectFrom('featured')
      .innerJoin('papers', 'papers.id', 'featured.paper_id')
      .select(['papers.arxiv_id', 'featured.featured_on', 'featured.featured_at'])
      .where('featured.source', '=', 'submission')
      .where('featured.featured_by', '=', user.username)
      .orderBy('featured.featured_at')
      .execute(),
    db.selectFrom('notifications').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    accountSubscriptions(db, owner),
  ]);
  const [claims, collections, collected, follows, muted, dismissed, saved] = await Promise.all([
    db
      .selectFrom('author_claims')
      .innerJoin('papers', 'papers.id', 'author_claims.paper_id')
      .select(['papers.arxiv_id', 'author_claims.author_name', 'author_claims.status', 'author_claims.reason', 'author_claims.show_on_profile', 'author_claims.created_at'])
      .where('author_claims.user_id', '=', userId)
      .orderBy('author_claims.id')
      .execute(),
    db.selectFrom('collections').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    db
      .selectFrom('collection_papers')
      .innerJoin('collections', 'collections.id', 'collection_papers.collection_id')
      .innerJoin('papers', 'papers.id', 'collection_papers.paper_id')
      .select(['collection_papers.collection_id', 'papers.arxiv_id', 'collection_papers.note', 'collection_papers.added_at'])
      .where('collections.user_id', '=', userId)
      .orderBy('collection_papers.collection_id')
      .orderBy('collection_papers.position')
      .execute(),
    db.selectFrom('follows').select(['kind', 'target', 'created_at']).where('user_id', '=', userId).orderBy('id').execute(),
    db.selectFrom('muted_keywords').select(['keyword', 'created_at']).where('user_id', '=', userId).orderBy('created_at').orderBy('keyword').execute(),
    db
      .selectFrom('not_interested')
      .innerJoin('papers', 'papers.id', 'not_interested.paper_id')
      .select(['papers.arxiv_id', 'not_interested.created_at'])
      .where('not_interested.user_id', '=', userId)
      .orderBy('not_interested.created_at')
      .execute(),
    savedSearchesOf(database, userId),
  ]);
  return {
    exportedAt: new Date().toISOString(),
    account: {
      username: user.username,
      email: user.email,
      role: user.role,
      emailVerifiedAt: user.email_verified_at,
      createdAt: user.created_at,
    },
    sessions: sessions.map((s) => ({ createdAt: iso(s.created_at), lastSeenAt: iso(s.last_seen_at), userAgent: s.user_agent, ip: s.ip })),
    apiTokens: tokens.map((t) => ({ name: t.name, scope: t.scope, createdAt: t.created_at, lastUsedAt: t.last_used_at })),
    upvotes: upvotes.map((u) => ({ paper: u.arxiv_id, at: u.created_at })),
    comments: comments.map((c) => ({
      id: c.id,
      paper: c.arxiv_id,
      parentId: c.parent_id,
      body: c.body,
      createdAt: c.created_at,
      editedAt: c.edited_at,
      deletedAt: c.deleted_at,
      revisions: revisions.filter((r) => r.comment_id === c.id).map((r) => ({ body: r.body, createdAt: r.created_at })),
    })),
    submissions: submissions.map((s) => ({ paper: s.arxiv_id, featuredOn: s.featured_on, at: s.featured_at })),
    notifications: notifications.map((n) => ({ kind: n.kind, commentId: n.comment_id, createdAt: n.created_at, readAt: n.read_at })),
    // Not the link token: it is a key, and the export is a file people pass around.
    subscriptions: subscriptions.map((s) => {
      const prefs = preferencesOf(s);
      return {
        email: s.email,
        status: s.status,
        cadence: prefs.cadence,
        paperCount: prefs.paperCount,
        categories: prefs.categories,
        keywords: prefs.keywords,
        mutedKeywords: prefs.mutedKeywords,
        createdAt: s.created_at,
        confirmedAt: s.confirmed_at,
        unsubscribedAt: s.unsubscribed_at,
      };
    }),
    claims: claims.map((c) => ({
      paper: c.arxiv_id,
      authorName: c.author_name,
      status: c.status,
      reason: c.reason,
      showOnProfile: c.show_on_profile === 1,
      createdAt: c.created_at,
    })),
    collections: collections.map((c) => ({
      name: c.name,
      description: c.description,
      public: c.is_public === 1,
      createdAt: c.created_at,
      papers: collected.filter((p) => p.collection_id === c.id).map((p) => ({ paper: p.arxiv_id, note: p.note, addedAt: p.added_at })),
    })),
    follows: follows.map((f) => ({ kind: f.kind, target: f.target, createdAt: f.created_at })),
    mutedKeywords: muted.map((m) => ({ keyword: m.keyword, createdAt: m.created_at })),
    notInterested: dismissed.map((d) => ({ paper: d.arxiv_id, at: d.created_at })),
    savedSearches: saved.map((q) => ({
      name: q.name,
      query: q.query,
      mode: q.mode,
      categories: q.categories,
      featuredOnly: q.featuredOnly,
      emailAlert: q.emailAlert,
      webhook: q.webhookUrl !== null,
      createdAt: q.createdAt,
    })),
  };
}

/** Recounts the upvote and comment counters of `paperIds` from their rows. */
async function recount(trx: Transaction<DB>, paperIds: number[]): Promise<void> {
  if (paperIds.length === 0) return;
  await trx
    .updateTable('papers')
    .set({
      upvotes: sql<number>`(SELECT count(*) FROM upvotes WHERE upvotes.paper_id = papers.id)`,
      comment_count: sql<number>`(SELECT count(*) FROM comments WHERE comments.paper_id = papers.id AND comments.deleted_at IS NULL)`,
    })
    .where('id', 'in', paperIds)
    .execute();
}

/**
 * Deletes an account: sessions, tokens, email links, upvotes and
 * notifications go with it (foreign keys), comments become tombstones,
 * submissions no longer name it, and its digest subscriptions end (see
 * endAccountSubscriptions). Returns false when there was no such account.
 */
export async function deleteAccount(database: Database, userId: number): Promise<boolean> {
  return database.db.transaction().execute(async (trx) => {
    const user = await trx.selectFrom('users').select(['username', 'email_key', 'email_verified_at']).where('id', '=', userId).executeTakeFirst();
    if (user === undefined) return false;
    const upvoted = await trx.selectFrom('upvotes').select('paper_id').where('user_id', '=', userId).execute();
    const discussed = await trx.selectFrom('comments').select('paper_id').where('user_id', '=', userId).execute();
    const now = new Date().toISOString();
    await trx
      .updateTable('comments')
      .set({ body: '', user_id: null, deleted_at: sql<string>`coalesce(deleted_at, ${now})` })
      .where('user_id', '=', userId)
      .execute();
    await trx
      .deleteFrom('comment_revisions')
      .where('comment_id', 'in', (eb) => eb.selectFrom('comments').select('id').where('user_id', 'is', null).where('body', '=', ''))
      .execute();
    await trx.updateTable('featured').set({ featured_by: null }).where('source', '=', 'submission').where('featured_by', '=', user.username).execute();
    await endAccountSubscriptions(trx, { id: userId, emailKey: user.email_key, emailVerified: user.email_verified_at !== null });
    await trx.deleteFrom('users').where('id', '=', userId).execute();
    await recount(trx, [...new Set([...upvoted, ...discussed].map((r) => r.paper_id))]);
    return true;
  });
}
