/**
 * Keyword search over the FTS5 index: field-weighted BM25, category and date
 * filters, and HTML-safe highlighted snippets. SQLite-only SQL, kept here.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Sqlite } from '../db/connection.js';
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

/** Options of {@link searchKeyword}. */
export interface KeywordOptions {
  limit: number;
  offset?: number;
  /** Categories (`cs.LG`) or archives (`cs`); a paper matches if it has any of them. */
  categories?: string[];
  /** Announcement date range, inclusive, `YYYY-MM-DD`. */
  from?: string;
  to?: string;
  /** `all` for the search box, `any` for natural-language benchmark queries. */
  mode?: MatchMode;
  /** Skip the snippet (search-run does not need it). */
  snippets?: boolean;
  /** Skip counting all matches; `total` is then null. */
  count?: boolean;
  /** Column weights, overriding {@link WEIGHTS} (for tuning). */
  weights?: { title: number; authors: number; abstract: number };
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
  total: number | null;
  hits: KeywordHit[];
  problem?: string;
}

// Private-use characters as highlight markers: they cannot be confused with
// text once the snippet is escaped, unlike `<mark>` itself.
const OPEN = '\uE000';
const CLOSE = '\uE001';

const statements = new WeakMap<Sqlite, Map<string, BetterSqlite3.Statement>>();

function prepare(sqlite: Sqlite, sql: string): BetterSqlite3.Statement {
  let cache = statements.get(sqlite);
  if (cache === undefined) statements.set(sqlite, (cache = new Map()));
  let stmt = cache.get(sql);
  if (stmt === undefined) {
    stmt = sqlite.prepare(sql);
    if (cache.size >= 200) cache.clear();
    cache.set(sql, stmt);
  }
  return stmt;
}

/** Escapes an FTS5 snippet and only then turns its markers into `<mark>` elements. */
export function snippetHtml(snippet: string): SafeHtml {
  // escapeHtml leaves the private-use markers alone. A marker character already
  // in the paper text would only add a stray <mark>, never unescaped input.
  return new SafeHtml(escapeHtml(snippet).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>'));
}

interface Row {
  id: number;
  arxiv_id: string;
  title_text: string;
  authors_text: string;
  score: number;
  snippet: string | null;
}

/** Runs a search-box query (or an already parsed one) against the keyword index. */
export async function searchKeyword(
  database: Database,
  query: string | ParsedQuery,
  options: KeywordOptions,
): Promise<KeywordResult> {
  const parsed = typeof query === 'string' ? parseQuery(query) : query;
  const rendered = renderMatch(parsed, options.mode ?? 'all');
  if (!rendered.ok) return { total: 0, hits: [], problem: rendered.reason };
  const cats = categoryFilters(parsed);
  const include = [...(options.categories ?? []), ...cats.include];

  const where: string[] = ['papers_fts MATCH ?'];
  const params: (string | number)[] = [rendered.match];
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
    return `EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND (${parts.join(' OR ')}))`;
  };
  if (include.length > 0) where.push(categoryClause(include));
  if (cats.exclude.length > 0) where.push(`NOT ${categoryClause(cats.exclude)}`);
  if (options.from !== undefined) {
    where.push('p.announced_on >= ?');
    params.push(options.from);
  }
  if (options.to !== undefined) {
    where.push('p.announced_on <= ?');
    params.push(options.to);
  }
  const from = `FROM papers_fts JOIN papers p ON p.id = papers_fts.rowid WHERE ${where.join(' AND ')}`;
  const w = options.weights ?? WEIGHTS;
  const snippet = options.snippets === false ? 'NULL' : `snippet(papers_fts, 2, '${OPEN}', '${CLOSE}', '…', 24)`;
  const select =
    `SELECT p.id, p.arxiv_id, p.title_text, p.authors_text, bm25(papers_fts, ?, ?, ?) AS score, ${snippet} AS snippet ` +
    `${from} ORDER BY score, p.id LIMIT ? OFFSET ?`;
  const selectParams = [w.title, w.authors, w.abstract, ...params, options.limit, options.offset ?? 0];

  return database.db.connection().execute(async () => {
    const sqlite = database.sqlite;
    try {
      const rows = prepare(sqlite, select).all(...selectParams) as Row[];
      const total =
        options.count === false ? null : (prepare(sqlite, `SELECT count(*) ${from}`).pluck().get(...params) as number);
      return {
        total,
        hits: rows.map((r) => ({
          paperId: r.id,
          arxivId: r.arxiv_id,
          title: r.title_text,
          authorsText: r.authors_text,
          score: -r.score,
          snippet: snippetHtml(r.snippet ?? ''),
        })),
      };
    } catch (err) {
      // The renderer quotes everything, so this is a bug, not bad input; the
      // user still gets an answer instead of a 500.
      if (err instanceof Error && /fts5/i.test(err.message)) return { total: 0, hits: [], problem: `search failed: ${err.message}` };
      throw err;
    }
  });
}
