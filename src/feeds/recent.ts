/**
 * "Latest N" reads for the syndication feeds, which list papers across days
 * instead of by period like the pages in feed.ts. Only narrow id and day
 * queries live here; full papers come from `entriesByIds`, so the row shape
 * stays defined in one place.
 */
import { cachedStatement, type Database, sqliteHandle } from '../db/connection.js';
import { entriesByIds, type FeedEntry } from './feed.js';

// Categories are bound as one JSON array parameter, never spliced into SQL.
const IN_CATEGORIES = `EXISTS (SELECT 1 FROM paper_categories pc
  WHERE pc.paper_id = %ID% AND pc.category IN (SELECT value FROM json_each(@categories)))`;

// Walks the partial index featured_visible_day newest first and stops after
// `count` distinct days.
const RECENT_FEATURED_DAYS = `SELECT DISTINCT f.featured_on FROM featured f
  WHERE f.hidden_at IS NULL AND (@categories IS NULL OR ${IN_CATEGORIES.replace('%ID%', 'f.paper_id')})
  ORDER BY f.featured_on DESC LIMIT @count`;

// Only p.id is read, so papers_announced_on_id (announced_on, id) covers the
// scan: it walks newest first and stops after `limit` matches. The cost grows
// with how rare the category is among recent papers, never with the page size.
const RECENT_ANNOUNCED_IDS = `SELECT p.id FROM papers p
  WHERE p.announced_on IS NOT NULL AND ${IN_CATEGORIES.replace('%ID%', 'p.id')}
  ORDER BY p.announced_on DESC, p.id DESC LIMIT @limit`;

/** The newest `count` days with visible featured papers (in the categories, when given), newest first. */
export function recentFeaturedDays(
  database: Database,
  q: { count: number; categories?: readonly string[] | undefined },
): string[] {
  return cachedStatement(sqliteHandle(database), RECENT_FEATURED_DAYS)
    .pluck()
    .all({ count: q.count, categories: q.categories === undefined ? null : JSON.stringify(q.categories) }) as string[];
}

/**
 * The newest announced papers in the categories across days: by announcement
 * day, newest first, then by row id (the order the index holds), featured
 * or not.
 */
export function listRecentAnnounced(
  database: Database,
  q: { categories: readonly string[]; limit: number },
): FeedEntry[] {
  const ids = cachedStatement(sqliteHandle(database), RECENT_ANNOUNCED_IDS)
    .pluck()
    .all({ limit: q.limit, categories: JSON.stringify(q.categories) }) as number[];
  return entriesByIds(database, ids);
}
