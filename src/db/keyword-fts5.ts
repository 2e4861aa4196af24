/**
 * Keyword search over an FTS5 index: field-weighted BM25, category, date and
 * featured filters, and highlighted snippets. SQLite-only SQL, run on whichever
 * SQLite file holds the index: the instance's own database in embedded mode,
 * or the process's derived index file in server mode (src/db/keyword-index.ts),
 * which has the same tables.
 *
 * A search runs in four statements (see docs/decisions/007-search-latency.md):
 * a count of the matches that stops at the match window; for a search-box query
 * with more matches than that, the rowid of the oldest match in the window (the
 * newest `window` matches); the ranking, which only asks FTS5 for rowids and
 * bm25() scores, within the window; and the papers and snippets of the page of
 * hits. FTS5 computes bm25() for every row it returns, so ranking all matches of
 * a common word (440,000 of 1M papers) took seconds.
 */
import { cachedStatement, type Sqlite } from './connection.js';

// Private-use characters as highlight markers: they cannot be confused with
// text once the snippet is escaped, unlike `<mark>` itself.
export const MARK_OPEN = '\uE000';
export const MARK_CLOSE = '\uE001';
const SNIPPET = `snippet(papers_fts, 2, '${MARK_OPEN}', '${MARK_CLOSE}', '…', 24)`;

/** A search, already parsed and rendered to an FTS5 MATCH expression. */
export interface Fts5Query {
  match: string;
  categories: { include: string[]; exclude: string[] };
  from?: string | undefined;
  to?: string | undefined;
  featuredOnly: boolean;
  /** Only papers with a larger id (a saved search's new matches). */
  minPaperId?: number | undefined;
  /** Only these papers (the snippets of a hybrid page's keyword hits). */
  onlyIds?: readonly number[] | undefined;
  /** Matches counted and ranked at most (see MATCH_WINDOW in src/search/keyword.ts). */
  window: number;
  /** Rank only the newest `window` matches of a broader query. */
  windowed: boolean;
  counted: boolean;
  limit: number;
  offset: number;
  weights: { title: number; authors: number; abstract: number };
  snippets: boolean;
}

export interface Fts5Hit {
  paperId: number;
  arxivId: string;
  title: string;
  authorsText: string;
  /** Higher is better (negated FTS5 bm25). */
  score: number;
  /** Plain text with MARK_OPEN/MARK_CLOSE around matches; escape before use in HTML. */
  snippet: string;
}

export interface Fts5Result {
  total: number | null;
  totalIsLowerBound: boolean;
  rankedNewest: number | null;
  hits: Fts5Hit[];
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
  options: { from?: string | undefined; to?: string | undefined; featuredOnly: boolean; minPaperId?: number | undefined; onlyIds?: readonly number[] | undefined },
): { where: string; params: (string | number)[] } | null {
  const where: string[] = ['papers_fts MATCH ?'];
  const params: (string | number)[] = [match];
  if (options.minPaperId !== undefined) {
    where.push('papers_fts.rowid > CAST(? AS INTEGER)');
    params.push(Math.floor(options.minPaperId));
  }
  if (options.onlyIds !== undefined) {
    if (options.onlyIds.length === 0) return null;
    // As in hydrate(): FTS5 applies the rowid range while it reads its index,
    // and the + keeps `IN` away from FTS5, which would run the whole MATCH once
    // per listed rowid (145 ms at p99 for a hybrid page at 1M papers).
    const ids = options.onlyIds.map((id) => Math.floor(id));
    where.push('papers_fts.rowid >= CAST(? AS INTEGER) AND papers_fts.rowid <= CAST(? AS INTEGER)');
    params.push(Math.min(...ids), Math.max(...ids));
    where.push(`+papers_fts.rowid IN (${ids.map(() => 'CAST(? AS INTEGER)').join(', ')})`);
    params.push(...ids);
  }
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

/** Runs a search in one read transaction, so its statements see one snapshot of the index. */
export function fts5Search(sqlite: Sqlite, q: Fts5Query): Fts5Result {
  return sqlite.transaction((): Fts5Result => {
    const clause = whereClause(sqlite, q.match, q.categories, q);
    if (clause === null) return { total: q.counted ? 0 : null, totalIsLowerBound: false, rankedNewest: null, hits: [] };
    const { where, params } = clause;
    // 1. How many papers match, up to one past the window: FTS5 stops reading
    // the index there, and no bm25() is computed.
    let matches: number | null = null;
    if (q.counted || q.windowed) {
      matches = cachedStatement(sqlite, `SELECT count(*) FROM (SELECT 1 FROM papers_fts WHERE ${where} LIMIT ?)`)
        .pluck()
        .get(...params, q.window + 1) as number;
    }
    const over = matches !== null && matches > q.window;
    // 2. More matches than the window: rank the newest `window` of them, the
    // ones with a rowid at or above the window's oldest. (Rowids are bound
    // as integers: FTS5 ignores a rowid constraint given as a REAL.)
    let since: number | null = null;
    if (q.windowed && over) {
      since =
        (cachedStatement(
          sqlite,
          `SELECT papers_fts.rowid FROM papers_fts WHERE ${where} ORDER BY papers_fts.rowid DESC LIMIT 1 OFFSET ?`,
        )
          .pluck()
          .get(...params, q.window - 1) as number | undefined) ?? null;
    }
    // 3. The page of hits: rowids and scores only, so the work per match is
    // FTS5's and nothing else.
    const reachable = q.windowed && over ? q.window : (matches ?? Number.POSITIVE_INFINITY);
    let ranked: RankedRow[] = [];
    if (q.limit > 0 && q.offset < reachable) {
      const bound = since === null ? '' : ' AND papers_fts.rowid >= CAST(? AS INTEGER)';
      ranked = cachedStatement(
        sqlite,
        `SELECT papers_fts.rowid AS id, bm25(papers_fts, ?, ?, ?) AS score FROM papers_fts ` +
          `WHERE ${where}${bound} ORDER BY score, id LIMIT ? OFFSET ?`,
      ).all(q.weights.title, q.weights.authors, q.weights.abstract, ...params, ...(since === null ? [] : [since]), q.limit, q.offset) as RankedRow[];
    }
    const hits = ranked.length === 0 ? [] : hydrate(sqlite, q.match, ranked, q.snippets);
    const total = q.counted && matches !== null ? Math.min(matches, q.window) : null;
    return {
      total,
      totalIsLowerBound: total !== null && over,
      rankedNewest: q.windowed && over ? q.window : null,
      hits,
    };
  })();
}

/** The papers of a page of ranked rowids, in rank order, with their snippets. */
function hydrate(sqlite: Sqlite, match: string, ranked: RankedRow[], snippets: boolean): Fts5Hit[] {
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
  const hits: Fts5Hit[] = [];
  for (const r of ranked) {
    const p = papers.get(r.id);
    if (p === undefined) continue;
    hits.push({
      paperId: p.id,
      arxivId: p.arxiv_id,
      title: p.title_text,
      authorsText: p.authors_text,
      score: -r.score,
      snippet: snippetOf.get(r.id) ?? '',
    });
  }
  return hits;
}
