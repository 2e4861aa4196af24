/**
 * Feed queries: featured papers by period, trending, and a category's newest
 * announcements, with the previous and next day that have papers. All reads go
 * through prepared statements on the one connection; category filters are
 * bound as one JSON array parameter, never spliced into SQL.
 */
import { cachedStatement, type Database, type Sqlite, sqliteHandle } from '../db/connection.js';
import type { FeatureSource } from '../db/schema.js';
import { categoriesOfArchive, findArchive, findCategory } from '../papers/taxonomy.js';
import { paperFromRow, type Paper, type PaperRow } from '../papers/repository.js';
import { addDays } from './periods.js';
import { TRENDING, trendingReference, trendingScore } from './trending.js';

export type FeedSort = 'trending' | 'newest';
export const FEED_SORTS: readonly FeedSort[] = ['trending', 'newest'];

export interface FeaturedInfo {
  /** The feed day, YYYY-MM-DD. */
  on: string;
  source: FeatureSource;
  by: string | null;
  at: string;
}

export interface FeedEntry {
  paper: Paper;
  featured: FeaturedInfo | null;
}

export interface FeedPage {
  entries: FeedEntry[];
  total: number;
}

export interface AdjacentDays {
  previous: string | null;
  next: string | null;
}

/**
 * The categories a filter names: a category (`cs.LG`) or an archive (`hep-th`,
 * `math`) expanded to its categories. Undefined for an unknown name.
 */
export function expandCategoryFilter(name: string): string[] | undefined {
  const expanded = new Set<string>();
  if (findCategory(name)) expanded.add(name);
  if (findArchive(name)) for (const c of categoriesOfArchive(name)) expanded.add(c.id);
  return expanded.size > 0 ? [...expanded] : undefined;
}

type Row = PaperRow & { featured_on: string | null; source: FeatureSource | null; featured_by: string | null; featured_at: string | null };

function entryFromRow(row: Row): FeedEntry {
  const { featured_on, source, featured_by, featured_at, ...paper } = row;
  return {
    paper: paperFromRow(paper),
    featured:
      featured_on !== null && source !== null && featured_at !== null
        ? { on: featured_on, source, by: featured_by, at: featured_at }
        : null,
  };
}

const CATEGORY_MATCH = `(@categories IS NULL OR EXISTS (SELECT 1 FROM paper_categories pc
  WHERE pc.paper_id = p.id AND pc.category IN (SELECT value FROM json_each(@categories))))`;
const FEATURED_IN_RANGE = `f.hidden_at IS NULL AND f.featured_on BETWEEN @from AND @to
  AND (@submitter IS NULL OR (f.source = 'submission' AND f.featured_by = @submitter))
  AND ${CATEGORY_MATCH}`;
// Within a period every paper has about the same age, so trending reduces to engagement.
const ORDER: Record<FeedSort, string> = {
  trending: `(p.upvotes + ${TRENDING.commentWeight} * p.comment_count) DESC, p.published_at DESC, p.id DESC`,
  newest: 'p.published_at DESC, p.id DESC',
};
const ENTRY_COLUMNS = 'p.*, f.featured_on, f.source, f.featured_by, f.featured_at';

/**
 * A page of a list query, sorted on narrow rows first: `ids` selects the
 * matching papers' ids in `sort` order with LIMIT/OFFSET, and only that page's
 * papers are read in full and sorted again (a few dozen rows). Sorting the
 * full rows instead carries every matching paper's abstract and JSON columns
 * through the sorter: at 1M papers and a 284-paper day, 1.8 ms against 0.9 ms.
 */
function pageOfFullRows(ids: string, sort: FeedSort, featuredJoin: string): string {
  return `SELECT ${ENTRY_COLUMNS} FROM (${ids} ORDER BY ${ORDER[sort]} LIMIT @limit OFFSET @offset) page
     JOIN papers p ON p.id = page.page_id ${featuredJoin}
     ORDER BY ${ORDER[sort]}`;
}

function stmt(database: Database, sql: string): ReturnType<Sqlite['prepare']> {
  return cachedStatement(sqliteHandle(database), sql);
}

function categoriesParam(categories: readonly string[] | undefined): string | null {
  return categories === undefined ? null : JSON.stringify(categories);
}

export interface FeaturedQuery {
  from: string;
  to: string;
  categories?: readonly string[];
  /** Only papers submitted by this username. */
  submitter?: string;
  sort: FeedSort;
  limit: number;
  offset: number;
}

/** Featured papers of a range of days, one page of them and the total. */
export function listFeatured(database: Database, q: FeaturedQuery): FeedPage {
  const params = {
    from: q.from,
    to: q.to,
    categories: categoriesParam(q.categories),
    submitter: q.submitter ?? null,
  };
  const total = stmt(
    database,
    `SELECT count(*) FROM featured f JOIN papers p ON p.id = f.paper_id WHERE ${FEATURED_IN_RANGE}`,
  )
    .pluck()
    .get(params) as number;
  const rows = stmt(
    database,
    pageOfFullRows(
      `SELECT p.id AS page_id FROM featured f JOIN papers p ON p.id = f.paper_id WHERE ${FEATURED_IN_RANGE}`,
      q.sort,
      'JOIN featured f ON f.paper_id = page.page_id',
    ),
  ).all({ ...params, limit: q.limit, offset: q.offset }) as Row[];
  return { entries: rows.map(entryFromRow), total };
}

/** The newest day with featured papers (in the categories, when given). */
export function latestFeaturedDay(database: Database, categories?: readonly string[]): string | null {
  return (
    (stmt(
      database,
      `SELECT f.featured_on FROM featured f JOIN papers p ON p.id = f.paper_id
       WHERE f.hidden_at IS NULL AND ${CATEGORY_MATCH} ORDER BY f.featured_on DESC LIMIT 1`,
    )
      .pluck()
      .get({ categories: categoriesParam(categories) }) as string | undefined) ?? null
  );
}

/** The nearest days before `from` and after `to` that have featured papers. */
export function adjacentFeaturedDays(
  database: Database,
  range: { from: string; to: string },
  categories?: readonly string[],
): AdjacentDays {
  const params = { from: range.from, to: range.to, categories: categoriesParam(categories) };
  const previous = stmt(
    database,
    `SELECT f.featured_on FROM featured f JOIN papers p ON p.id = f.paper_id
     WHERE f.hidden_at IS NULL AND f.featured_on < @from AND ${CATEGORY_MATCH}
     ORDER BY f.featured_on DESC LIMIT 1`,
  )
    .pluck()
    .get(params) as string | undefined;
  const next = stmt(
    database,
    `SELECT f.featured_on FROM featured f JOIN papers p ON p.id = f.paper_id
     WHERE f.hidden_at IS NULL AND f.featured_on > @to AND ${CATEGORY_MATCH}
     ORDER BY f.featured_on ASC LIMIT 1`,
  )
    .pluck()
    .get(params) as string | undefined;
  return { previous: previous ?? null, next: next ?? null };
}

export interface TrendingQuery {
  categories?: readonly string[];
  limit: number;
  offset: number;
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
}

export interface TrendingPage extends FeedPage {
  /** The time scores were computed at (see `trendingReference`). */
  reference: number;
}

interface ScoreRow {
  id: number;
  upvotes: number;
  comment_count: number;
  featured_at: string;
  published_at: string | null;
}

/**
 * Papers featured in the trending window, ranked by `trendingScore`. Scores
 * are computed over narrow rows (a week of featuring is a few thousand), then
 * only the page's papers are read in full.
 */
export function listTrending(database: Database, q: TrendingQuery): TrendingPage {
  const latest = latestFeaturedDay(database, q.categories);
  const reference = trendingReference(latest, q.now ?? Date.now());
  const referenceDay = new Date(reference).toISOString().slice(0, 10);
  const params = {
    from: addDays(referenceDay, -(TRENDING.windowDays - 1)),
    to: referenceDay,
    categories: categoriesParam(q.categories),
    submitter: null,
  };
  const candidates = stmt(
    database,
    `SELECT p.id, p.upvotes, p.comment_count, f.featured_at, p.published_at
     FROM featured f JOIN papers p ON p.id = f.paper_id WHERE ${FEATURED_IN_RANGE}`,
  ).all(params) as ScoreRow[];
  const ranked = candidates
    .map((c) => ({
      id: c.id,
      published: c.published_at ?? '',
      score: trendingScore({ upvotes: c.upvotes, comments: c.comment_count, featuredAt: c.featured_at }, reference),
    }))
    .sort((a, b) => b.score - a.score || (a.published < b.published ? 1 : a.published > b.published ? -1 : b.id - a.id));
  const pageIds = ranked.slice(q.offset, q.offset + q.limit).map((r) => r.id);
  return { entries: entriesByIds(database, pageIds), total: ranked.length, reference };
}

export interface AnnouncedQuery {
  day: string;
  categories: readonly string[];
  sort: FeedSort;
  limit: number;
  offset: number;
}

/** Every paper announced on a day in the categories, featured or not (category pages). */
export function listAnnounced(database: Database, q: AnnouncedQuery): FeedPage {
  const params = { day: q.day, categories: categoriesParam(q.categories) };
  const where = `p.announced_on = @day AND ${CATEGORY_MATCH}`;
  const total = stmt(database, `SELECT count(*) FROM papers p WHERE ${where}`).pluck().get(params) as number;
  const rows = stmt(
    database,
    pageOfFullRows(
      `SELECT p.id AS page_id FROM papers p WHERE ${where}`,
      q.sort,
      'LEFT JOIN featured f ON f.paper_id = p.id AND f.hidden_at IS NULL',
    ),
  ).all({ ...params, limit: q.limit, offset: q.offset }) as Row[];
  return { entries: rows.map(entryFromRow), total };
}

/** The newest announcement day with papers in the categories. */
export function latestAnnouncedDay(database: Database, categories: readonly string[]): string | null {
  return (
    (stmt(
      database,
      `SELECT p.announced_on FROM papers p WHERE p.announced_on IS NOT NULL AND ${CATEGORY_MATCH}
       ORDER BY p.announced_on DESC LIMIT 1`,
    )
      .pluck()
      .get({ categories: categoriesParam(categories) }) as string | undefined) ?? null
  );
}

/** The nearest announcement days before and after `day` with papers in the categories. */
export function adjacentAnnouncedDays(database: Database, day: string, categories: readonly string[]): AdjacentDays {
  const params = { day, categories: categoriesParam(categories) };
  const previous = stmt(
    database,
    `SELECT p.announced_on FROM papers p WHERE p.announced_on < @day AND ${CATEGORY_MATCH}
     ORDER BY p.announced_on DESC LIMIT 1`,
  )
    .pluck()
    .get(params) as string | undefined;
  const next = stmt(
    database,
    `SELECT p.announced_on FROM papers p WHERE p.announced_on > @day AND ${CATEGORY_MATCH}
     ORDER BY p.announced_on ASC LIMIT 1`,
  )
    .pluck()
    .get(params) as string | undefined;
  return { previous: previous ?? null, next: next ?? null };
}

/** Feed entries for the given paper ids, in the given order (search results). */
export function entriesByIds(database: Database, ids: readonly number[]): FeedEntry[] {
  const rows = stmt(
    database,
    `SELECT ${ENTRY_COLUMNS} FROM papers p LEFT JOIN featured f ON f.paper_id = p.id AND f.hidden_at IS NULL
     WHERE p.id IN (SELECT value FROM json_each(@ids))`,
  ).all({ ids: JSON.stringify(ids) }) as Row[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row === undefined ? [] : [entryFromRow(row)];
  });
}

/** The entry of one paper by arXiv id, featured or not (paper pages). */
export function entryByArxivId(database: Database, arxivId: string): FeedEntry | undefined {
  const row = stmt(
    database,
    `SELECT ${ENTRY_COLUMNS} FROM papers p LEFT JOIN featured f ON f.paper_id = p.id AND f.hidden_at IS NULL
     WHERE p.arxiv_id = @arxivId`,
  ).get({ arxivId }) as Row | undefined;
  return row === undefined ? undefined : entryFromRow(row);
}
