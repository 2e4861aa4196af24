/**
 * "Not interested": papers a person dismissed. They leave every feed, search
 * result page and digest of that person, and For you ranks papers like them
 * lower. Dismissing is idempotent and undone with "Show again".
 *
 * `personalFilter` is how feeds apply both this and muted keywords: it is
 * asked after a page of papers is read, for that page only, so the shared
 * queries (and the anonymous page cache) stay as they are.
 */
import type { Database } from '../db/connection.js';
import { entriesByIds, type FeedEntry } from '../feeds/feed.js';
import { keywordMatcher, mutableText, mutedKeywordsOf, type KeywordMatcher } from './muted.js';

/** Most not-interested papers the settings page lists (newest first). */
export const NOT_INTERESTED_LISTED = 200;

/** Marks `paperId` not interesting to `userId`; false if it was already. */
export async function markNotInterested(database: Database, userId: number, paperId: number): Promise<boolean> {
  const inserted = await database.db
    .insertInto('not_interested')
    .values({ user_id: userId, paper_id: paperId, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['user_id', 'paper_id']).doNothing())
    .returning('paper_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Shows `paperId` to `userId` again; false if it was not dismissed. */
export async function clearNotInterested(database: Database, userId: number, paperId: number): Promise<boolean> {
  const result = await database.db.deleteFrom('not_interested').where('user_id', '=', userId).where('paper_id', '=', paperId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Whether `userId` dismissed `paperId`. */
export async function isNotInterested(database: Database, userId: number, paperId: number): Promise<boolean> {
  const row = await database.db.selectFrom('not_interested').select('paper_id').where('user_id', '=', userId).where('paper_id', '=', paperId).executeTakeFirst();
  return row !== undefined;
}

export interface DismissedPaper {
  entry: FeedEntry;
  at: string;
}

/** The papers `userId` dismissed, newest first, at most `limit`. */
export async function notInterestedPapers(database: Database, userId: number, limit = NOT_INTERESTED_LISTED): Promise<DismissedPaper[]> {
  const rows = await database.db
    .selectFrom('not_interested')
    .select(['paper_id', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('paper_id', 'desc')
    .limit(limit)
    .execute();
  const at = new Map(rows.map((r) => [Number(r.paper_id), r.created_at]));
  const entries = await entriesByIds(database, [...at.keys()]);
  return entries.map((entry) => ({ entry, at: at.get(entry.paper.id) ?? '' }));
}

/** Ids of the papers among `paperIds` that `userId` dismissed. */
export async function dismissedAmong(database: Database, userId: number, paperIds: readonly number[]): Promise<Set<number>> {
  if (paperIds.length === 0) return new Set();
  const rows = await database.db
    .selectFrom('not_interested')
    .select('paper_id')
    .where('user_id', '=', userId)
    .where('paper_id', 'in', [...new Set(paperIds)])
    .execute();
  return new Set(rows.map((r) => Number(r.paper_id)));
}

/** The most recent papers `userId` dismissed, as ids (For you ranks against them). */
export async function recentNotInterestedIds(database: Database, userId: number, limit: number): Promise<number[]> {
  const rows = await database.db
    .selectFrom('not_interested')
    .select('paper_id')
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.paper_id));
}

/** What one person hides: applied to a page of papers after it is read. */
export interface PersonalFilter {
  readonly mutedKeywords: readonly string[];
  readonly matchMuted: KeywordMatcher;
  /** The entries this person keeps, in order, and how many were hidden. */
  apply<T extends { paper: { id: number; titleText: string; abstractText: string } }>(entries: readonly T[]): Promise<{ kept: T[]; hidden: number }>;
}

/**
 * `userId`'s filter. One indexed read of their muted keywords now, and one of
 * their dismissals among each page's papers when applied: a page costs two
 * small queries and a regular-expression test per paper.
 */
export async function personalFilter(database: Database, userId: number): Promise<PersonalFilter> {
  const mutedKeywords = (await mutedKeywordsOf(database, userId)).map((m) => m.keyword);
  const matchMuted = keywordMatcher(mutedKeywords);
  return {
    mutedKeywords,
    matchMuted,
    async apply(entries) {
      const dismissed = await dismissedAmong(database, userId, entries.map((e) => e.paper.id));
      const kept = entries.filter((e) => !dismissed.has(e.paper.id) && (mutedKeywords.length === 0 || matchMuted(mutableText(e.paper)) === undefined));
      return { kept, hidden: entries.length - kept.length };
    },
  };
}
