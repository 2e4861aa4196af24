/**
 * Keyword search over the FTS5 index: field-weighted BM25, category, date and
 * featured filters, and HTML-safe highlighted snippets. SQLite-only SQL, kept here.
 *
 * A search runs in four statements (see docs/decisions/007-search-latency.md):
 * a count of the matches that stops at the match window; for a search-box query
 * with more matches than that, the rowid of the oldest match in the window (the
 * newest `matchWindow` matches); the ranking, which only asks FTS5 for rowids and
 * bm25() scores, within the window; and the papers and snippets of the page of
 * hits. FTS5 computes bm25() for every row it returns, so ranking all matches of
 * a common word (440,000 of 1M papers) took seconds.
 */
import type { Database } from '../db/connection.js';
import { MARK_CLOSE, MARK_OPEN, searchIndex } from '../db/keyword-index.js';
import { escapeHtml, SafeHtml } from '../web/html.js';
import { categoryFilters, parseQuery, renderMatch, type MatchMode, type ParsedQuery } from './query.js';

/**
 * BM25 column weights (title, authors, abstract), tuned on SciFact train with
 * `npm run eval` (see docs/decisions/006-keyword-search.md for the numbers).
 */
export const WEIGHTS: Readonly<{ title: number; authors: number; abstract: number }> = {
  title: 3,
  authors: 2,
  abstract: 1,
};

/**
 * How many matches a search counts and ranks at most. A search-box (`all`) query
 * with more matches ranks the newest MATCH_WINDOW of them by BM25 and reports
 * `total: MATCH_WINDOW` with `totalIsLowerBound`; one with fewer is ranked
 * exactly. `any` queries are always ranked exactly (only their count is capped).
 */
export const MATCH_WINDOW = 10_000;

/** Options of {@link searchKeyword}. */
export interface KeywordOptions {
  limit: number;
  offset?: number;
  /** Categories (`cs.LG`) or archives (`cs`); a paper matches if it has any of them. */
  categories?: string[];
  /** Announcement date range, inclusive, `YYYY-MM-DD`. */
  from?: string;
  to?: string;
  /** Only papers featured in the daily feed (and not hidden since). */
  featuredOnly?: boolean;
  /** Only papers with a larger id (a saved search's new matches). */
  minPaperId?: number;
  /** Only these papers (the snippets of a hybrid page's keyword hits). */
  onlyIds?: readonly number[];
  /** `all` for the search box, `any` for natural-language benchmark queries. */
  mode?: MatchMode;
  /** Skip the snippet (search-run does not need it). */
  snippets?: boolean;
  /** Skip counting the matches; `total` is then null. */
  count?: boolean;
  /** Column weights, overriding {@link WEIGHTS} (for tuning). */
  weights?: { title: number; authors: number; abstract: number };
  /** Overrides {@link MATCH_WINDOW} (for tests and measurements). */
  matchWindow?: number;
}

/** One search result. */
export interface KeywordHit {
  paperId: number;
  arxivId: string;
  title: string;
  authorsText: string;
  /** Higher is better (negated FTS5 bm25). */
  score: number;
  snippet: SafeHtml;
}

/** Search results; `problem` says why a query could not be run (e.g. no searchable terms). */
export interface KeywordResult {
  /** How many papers match, counted up to the match window; null when `count: false`. */
  total: number | null;
  /** True when more papers match than `total` says (the count stopped at the match window). */
  totalIsLowerBound: boolean;
  /**
   * Null when every match was ranked. Otherwise the query matched more papers
   * than the match window and the hits are the best of the newest
   * `rankedNewest` matches; there are no pages beyond them.
   */
  rankedNewest: number | null;
  hits: KeywordHit[];
  problem?: string;
}

/** Escapes an FTS5 snippet and only then turns its markers into `<mark>` elements. */
export function snippetHtml(snippet: string): SafeHtml {
  // escapeHtml leaves the private-use markers alone. A marker character already
  // in the paper text would only add a stray <mark>, never unescaped input.
  return new SafeHtml(escapeHtml(snippet).replaceAll(MARK_OPEN, '<mark>').replaceAll(MARK_CLOSE, '</mark>'));
}

/** Runs a search-box query (or an already parsed one) against the keyword index. */
export async function searchKeyword(
  database: Database,
  query: string | ParsedQuery,
  options: KeywordOptions,
): Promise<KeywordResult> {
  const parsed = typeof query === 'string' ? parseQuery(query) : query;
  const mode = options.mode ?? 'all';
  const rendered = renderMatch(parsed, mode);
  if (!rendered.ok) return { total: 0, totalIsLowerBound: false, rankedNewest: null, hits: [], problem: rendered.reason };
  const cats = categoryFilters(parsed);
  const categories = { include: [...(options.categories ?? []), ...cats.include], exclude: cats.exclude };
  const window = Math.max(1, Math.floor(options.matchWindow ?? MATCH_WINDOW));
  const limit = Math.max(0, Math.floor(options.limit));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const w = options.weights ?? WEIGHTS;
  // Only `all` queries are ranked within a window; `any` (evaluation) stays exact.
  const windowed = mode === 'all';
  const counted = options.count !== false;

  try {
    const raw = await searchIndex(database, {
      match: rendered.match,
      categories,
      from: options.from,
      to: options.to,
      featuredOnly: options.featuredOnly === true,
      minPaperId: options.minPaperId,
      onlyIds: options.onlyIds,
      window,
      windowed,
      counted,
      limit,
      offset,
      weights: w,
      snippets: options.snippets !== false,
    });
    return { ...raw, hits: raw.hits.map((h) => ({ ...h, snippet: snippetHtml(h.snippet) })) };
  } catch (err) {
    // The renderer quotes everything, so this is a bug, not bad input; the
    // user still gets an answer instead of a 500.
    if (err instanceof Error && /fts5/i.test(err.message)) {
      return { total: 0, totalIsLowerBound: false, rankedNewest: null, hits: [], problem: `search failed: ${err.message}` };
    }
    throw err;
  }
}
