/**
 * "Latest N" reads for the syndication feeds, which list papers across days
 * instead of by period like the pages in feed.ts. Only narrow id and day
 * queries live here; full papers come from `entriesByIds`, so the row shape
 * stays defined in one place.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';
import { entriesByIds, type FeedEntry } from './feed.js';

/** The newest `count` days with visible featured papers (in the categories, when given), newest first. */
export async function recentFeaturedDays(
  database: Database,
  q: { count: number; categories?: readonly string[] | undefined },
): Promise<string[]> {
  const inCategories =
    q.categories === undefined
      ? sql`TRUE`
      : q.categories.length === 0
        ? sql`FALSE`
        : sql`EXISTS (SELECT 1 FROM paper_categories pc
            WHERE pc.paper_id = f.paper_id AND pc.category IN (${sql.join([...q.categories])}))`;
  // Walks the partial index featured_visible_day newest first and stops after
  // `count` distinct days.
  const { rows } = await sql<{ featured_on: string }>`SELECT DISTINCT f.featured_on FROM featured f
    WHERE f.hidden_at IS NULL AND ${inCategories}
    ORDER BY f.featured_on DESC LIMIT ${q.count}`.execute(database.db);
  return rows.map((r) => r.featured_on);
}

/**
 * The newest announced papers in the categories across days: by announcement
 * day, newest first, then by row id (the order the index holds), featured
 * or not.
 */
export async function listRecentAnnounced(
  database: Database,
  q: { categories: readonly string[]; limit: number },
): Promise<FeedEntry[]> {
  if (q.categories.length === 0) return [];
  // Only p.id is read, so the announced_on index covers the scan: it walks
  // newest first and stops after `limit` matches. The cost grows with how rare
  // the category is among recent papers, never with the page size.
  const { rows } = await sql<{ id: number }>`SELECT p.id FROM papers p
    WHERE p.announced_on IS NOT NULL AND EXISTS (SELECT 1 FROM paper_categories pc
      WHERE pc.paper_id = p.id AND pc.category IN (${sql.join([...q.categories])}))
    ORDER BY p.announced_on DESC, p.id DESC LIMIT ${q.limit}`.execute(database.db);
  return entriesByIds(database, rows.map((r) => r.id));
}
