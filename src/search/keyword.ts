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
import { cachedStatement, type Database, type Sqlite, sqliteHandle } from '../db/connection.js';
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

// Private-use characters as highlight markers: they cannot be confused with
// text once the snippet is escaped, unlike `<mark>` itself.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const SNIPPET = `snippet(papers_fts, 2, '${OPEN}', '${CLOSE}', '…', 24)`;

/** Escapes an FTS5 snippet and only then turns its markers into `<mark>` elements. */
export function snippetHtml(snippet: string): SafeHtml {
  // escapeHtml leaves the private-use markers alone. A marker character already
  // in the paper text would only add a stray <mark>, never unescaped input.
  return new SafeHtml(escapeHtml(snippet).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>'));
}

interface RankedRow {
  id: number;
  score: number;
}

interface PaperRow {
  id: number;
  arxiv_id: string;
  title_text: string;
  authors_text: string;
}

/**
 * A date range with at most this many papers also bounds the rowids FTS5
 * reads (see {@link whereClause}); a wider one is only checked per match.
 */
const DATE_BOUND_PAPERS = 100_000;

/**
 * The WHERE clause shared by every statement of a search: the MATCH and the
 * filters, all on `papers_fts.rowid` so that no statement reads a papers row it
 * does not need (the papers table is only read for the date filter). Null when
 * no paper is announced in the date range.
 */
function whereClause(
  sqlite: Sqlite,
  match: string,
  categories: { include: string[]; exclude: string[] },
  options: KeywordOptions,
): { where: string; params: (string | number)[] } | null {
  const where: string[] = ['papers_fts MATCH ?'];
  const params: (string | number)[] = [match];
  const categoryClause = (values: string[]): string => {
    const parts: string[] = [];
    for (const v of values) {
      // A dotless value is an archive: cs matches cs.LG, cs.AI, ...
      if (v.includes('.')) {
        parts.push('pc.category = ?');
        params.push(v);
      } else {
        parts.push('pc.category = ? OR pc.category >= ? AND pc.category < ?');
        params.push(v, `${v}.`, `${v}/`);
      }
    }
    return `EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = papers_fts.rowid AND (${parts.join(' OR ')}))`;
  };
  if (categories.include.length > 0) where.push(categoryClause(categories.include));
  if (categories.exclude.length > 0) where.push(`NOT ${categoryClause(categories.exclude)}`);
  const dates: string[] = [];
  const dateParams: string[] = [];
  if (options.from !== undefined) {
    dates.push('announced_on >= ?');
    dateParams.push(options.from);
  }
  if (options.to !== undefined) {
    dates.push('announced_on <= ?');
    dateParams.push(options.to);
  }
  if (dates.length > 0) {
    // Checking the date of every match reads its papers row (about 4 µs each).
    // When the range holds few papers, their lowest and highest id (from the
    // announced_on index) also bound the rowids FTS5 reads: papers are stored
    // roughly in announcement order, so a month of 1M papers is a narrow slice.
    const range = cachedStatement(
      sqlite,
      `SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM (SELECT id FROM papers WHERE ${dates.join(' AND ')} LIMIT ?)`,
    ).get(...dateParams, DATE_BOUND_PAPERS + 1) as { n: number; lo: number | null; hi: number | null };
    if (range.n === 0 || range.lo === null || range.hi === null) return null;
    if (range.n <= DATE_BOUND_PAPERS) {
      where.push('papers_fts.rowid >= CAST(? AS INTEGER) AND papers_fts.rowid <= CAST(? AS INTEGER)');
      params.push(range.lo, range.hi);
    }
    where.push(`EXISTS (SELECT 1 FROM papers p WHERE p.id = papers_fts.rowid AND ${dates.map((d) => `p.${d}`).join(' AND ')})`);
    params.push(...dateParams);
  }
  if (options.featuredOnly === true) {
    where.push('EXISTS (SELECT 1 FROM featured f WHERE f.paper_id = papers_fts.rowid AND f.hidden_at IS NULL)');
    // Featured papers are recent ones: a lower rowid bound, which FTS5 applies
    // while reading the index, skips the matches older than all of them.
    where.push('papers_fts.rowid >= (SELECT min(paper_id) FROM featured WHERE hidden_at IS NULL)');
  }
  return { where: where.join(' AND '), params };
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

  return database.db.connection().execute(async () => {
    const sqlite = sqliteHandle(database);
    // One read transaction: the statements see the same snapshot of the index,
    // whatever another connection writes meanwhile.
    const run = sqlite.transaction((): KeywordResult => {
      const clause = whereClause(sqlite, rendered.match, categories, options);
      if (clause === null) return { total: counted ? 0 : null, totalIsLowerBound: false, rankedNewest: null, hits: [] };
      const { where, params } = clause;
      // 1. How many papers match, up to one past the window: FTS5 stops reading
      // the index there, and no bm25() is computed.
      let matches: number | null = null;
      if (counted || windowed) {
        matches = cachedStatement(sqlite, `SELECT count(*) FROM (SELECT 1 FROM papers_fts WHERE ${where} LIMIT ?)`)
          .pluck()
          .get(...params, window + 1) as number;
      }
      const over = matches !== null && matches > window;
      // 2. More matches than the window: rank the newest `window` of them, the
      // ones with a rowid at or above the window's oldest. (Rowids are bound
      // as integers: FTS5 ignores a rowid constraint given as a REAL.)
      let since: number | null = null;
      if (windowed && over) {
        since =
          (cachedStatement(
            sqlite,
            `SELECT papers_fts.rowid FROM papers_fts WHERE ${where} ORDER BY papers_fts.rowid DESC LIMIT 1 OFFSET ?`,
          )
            .pluck()
            .get(...params, window - 1) as number | undefined) ?? null;
      }
      // 3. The page of hits: rowids and scores only, so the work per match is
      // FTS5's and nothing else.
      const reachable = windowed && over ? window : (matches ?? Number.POSITIVE_INFINITY);
      let ranked: RankedRow[] = [];
      if (limit > 0 && offset < reachable) {
        const bound = since === null ? '' : ' AND papers_fts.rowid >= CAST(? AS INTEGER)';
        ranked = cachedStatement(
          sqlite,
          `SELECT papers_fts.rowid AS id, bm25(papers_fts, ?, ?, ?) AS score FROM papers_fts ` +
            `WHERE ${where}${bound} ORDER BY score, id LIMIT ? OFFSET ?`,
        ).all(w.title, w.authors, w.abstract, ...params, ...(since === null ? [] : [since]), limit, offset) as RankedRow[];
      }
      const hits = ranked.length === 0 ? [] : hydrate(sqlite, rendered.match, ranked, options.snippets !== false);
      const total = counted && matches !== null ? Math.min(matches, window) : null;
      return {
        total,
        totalIsLowerBound: total !== null && over,
        rankedNewest: windowed && over ? window : null,
        hits,
      };
    });
    try {
      return run();
    } catch (err) {
      // The renderer quotes everything, so this is a bug, not bad input; the
      // user still gets an answer instead of a 500.
      if (err instanceof Error && /fts5/i.test(err.message)) {
        return { total: 0, totalIsLowerBound: false, rankedNewest: null, hits: [], problem: `search failed: ${err.message}` };
      }
      throw err;
    }
  });
}

/** The papers of a page of ranked rowids, in rank order, with their snippets. */
function hydrate(sqlite: Sqlite, match: string, ranked: RankedRow[], snippets: boolean): KeywordHit[] {
  const ids = JSON.stringify(ranked.map((r) => r.id));
  const papers = new Map(
    (
      cachedStatement(
        sqlite,
        'SELECT id, arxiv_id, title_text, authors_text FROM papers WHERE id IN (SELECT value FROM json_each(?))',
      ).all(ids) as PaperRow[]
    ).map((p) => [p.id, p]),
  );
  const snippetOf = new Map<number, string>();
  if (snippets) {
    // snippet() needs the FTS5 cursor on the matching row. One statement for the
    // page: the rowid range makes FTS5 read only the matches between the first
    // and the last hit, and `+rowid IN` (the + keeps it away from FTS5, which
    // would run the whole query again per rowid) picks the hits out of them.
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const r of ranked) {
      lo = Math.min(lo, r.id);
      hi = Math.max(hi, r.id);
    }
    const rows = cachedStatement(
      sqlite,
      `SELECT rowid AS id, ${SNIPPET} AS snippet FROM papers_fts WHERE papers_fts MATCH ? ` +
        'AND rowid >= CAST(? AS INTEGER) AND rowid <= CAST(? AS INTEGER) AND +rowid IN (SELECT value FROM json_each(?))',
    ).all(match, lo, hi, ids) as { id: number; snippet: string | null }[];
    for (const r of rows) snippetOf.set(r.id, r.snippet ?? '');
  }
  const hits: KeywordHit[] = [];
  for (const r of ranked) {
    const p = papers.get(r.id);
    if (p === undefined) continue;
    hits.push({
      paperId: p.id,
      arxivId: p.arxiv_id,
      title: p.title_text,
      authorsText: p.authors_text,
      score: -r.score,
      snippet: snippetHtml(snippetOf.get(r.id) ?? ''),
    });
  }
  return hits;
}
