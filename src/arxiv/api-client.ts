import { readAtomPage } from '../ingest/parsers/atom.js';
import type { ParseItem, RawPaper } from '../ingest/record.js';
import type { ArxivHttpClient } from './http.js';

/** Client for the arXiv API (`/api/query`): id lookups, searches and category listings. */

export const SORT_BY = ['relevance', 'lastUpdatedDate', 'submittedDate'] as const;
export type SortBy = (typeof SORT_BY)[number];
export type SortOrder = 'ascending' | 'descending';

/** arXiv rejects id_list requests much longer than this. */
export const MAX_IDS_PER_REQUEST = 100;
/** arXiv's documented ceiling for one response. */
export const MAX_RESULTS_PER_REQUEST = 2000;
// The API refuses to page past this many results of one query.
const MAX_START = 30_000;
// The API sometimes answers a page inside the result set with no entries;
// asking again usually returns them.
const EMPTY_PAGE_RETRIES = 2;

/** The API refused the query; `message` is arXiv's own explanation. Asking again will not help. */
export class ArxivApiError extends Error {
  override name = 'ArxivApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One response of the API. */
export interface ApiPage {
  /** Every parsed item, papers and skips alike, in feed order. */
  items: ParseItem[];
  papers: RawPaper[];
  totalResults: number | null;
  startIndex: number | null;
  itemsPerPage: number | null;
}

/** What a lookup found, and which requested ids arXiv does not know. */
export interface LookupResult {
  items: ParseItem[];
  papers: RawPaper[];
  /** Requested ids (as given) with no paper in the answer. */
  missing: string[];
}

export interface SearchOptions {
  start?: number;
  maxResults?: number;
  sortBy?: SortBy;
  sortOrder?: SortOrder;
  signal?: AbortSignal;
}

export interface PagingOptions {
  /** Results per request (default 100). */
  pageSize?: number;
  /** Stop after this many results (default: all the API will page through). */
  limit?: number;
  sortBy?: SortBy;
  sortOrder?: SortOrder;
  signal?: AbortSignal;
}

const ID_IN = /(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?\/\d{7})(v\d+)?$/i;

/**
 * An id as the API wants it: `2104.12255`, `2104.12255v1`, `hep-th/9901001`,
 * from any of the forms people paste (`arXiv:…`, abs or pdf URLs).
 */
export function apiId(input: string): string {
  const trimmed = input
    .trim()
    .replace(/\.pdf$/i, '')
    .replace(/\/+$/, '');
  return ID_IN.exec(trimmed)?.[0] ?? trimmed;
}

/** The id without version, for matching answers to requests. */
export function baseId(input: string): string {
  return apiId(input).replace(/v\d+$/i, '');
}

/** A client for arXiv's query API; all requests go through the polite HTTP client. */
export class ArxivApiClient {
  constructor(
    private readonly http: ArxivHttpClient,
    /** Full query endpoint, e.g. `https://export.arxiv.org/api/query`. */
    private readonly apiUrl: string,
  ) {}

  /** Fetches papers by id, in batches of at most 100 ids per request. */
  async lookup(ids: readonly string[], options: { signal?: AbortSignal } = {}): Promise<LookupResult> {
    const wanted = [...new Set(ids.map(apiId).filter((id) => id !== ''))];
    const items: ParseItem[] = [];
    const papers: RawPaper[] = [];
    for (let i = 0; i < wanted.length; i += MAX_IDS_PER_REQUEST) {
      const batch = wanted.slice(i, i + MAX_IDS_PER_REQUEST);
      const page = await this.query(
        { id_list: batch.join(','), start: '0', max_results: String(MAX_IDS_PER_REQUEST) },
        options.signal,
      );
      items.push(...page.items);
      papers.push(...page.papers);
    }
    const found = new Set(papers.map((p) => baseId(p.id)));
    const missing = ids.filter((id) => !found.has(baseId(id)));
    return { items, papers, missing };
  }

  /** One page of a search (`search_query` syntax: `ti:`, `au:`, `cat:`, `AND`, …). */
  async search(query: string, options: SearchOptions = {}): Promise<ApiPage> {
    const start = options.start ?? 0;
    const maxResults = options.maxResults ?? 10;
    if (!Number.isInteger(start) || start < 0) throw new RangeError('start must be a non-negative integer');
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_PER_REQUEST) {
      throw new RangeError(`maxResults must be an integer from 1 to ${MAX_RESULTS_PER_REQUEST}`);
    }
    return this.query(
      {
        search_query: query,
        start: String(start),
        max_results: String(maxResults),
        sortBy: options.sortBy ?? 'relevance',
        sortOrder: options.sortOrder ?? 'descending',
      },
      options.signal,
    );
  }

  /** Pages through a search with start/max_results until the results or `limit` run out. */
  async *searchAll(query: string, options: PagingOptions = {}): AsyncGenerator<ApiPage> {
    const pageSize = options.pageSize ?? 100;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let start = 0;
    let emptyRetries = 0;
    while (start < limit && start < MAX_START) {
      const maxResults = Math.min(pageSize, limit - start);
      const page = await this.search(query, { ...options, start, maxResults });
      const total = page.totalResults ?? 0;
      if (page.papers.length === 0) {
        if (start < total && emptyRetries < EMPTY_PAGE_RETRIES) {
          emptyRetries += 1;
          continue;
        }
        return;
      }
      emptyRetries = 0;
      yield page;
      start += page.papers.length;
      if (start >= total) return;
    }
  }

  /** Newest papers of a category (or archive, e.g. `hep-th`), page by page. */
  category(category: string, options: PagingOptions = {}): AsyncGenerator<ApiPage> {
    return this.searchAll(`cat:${category}`, {
      sortBy: 'submittedDate',
      sortOrder: 'descending',
      ...options,
    });
  }

  private async query(params: Record<string, string>, signal: AbortSignal | undefined): Promise<ApiPage> {
    const url = new URL(this.apiUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await this.http.get(url, { accept: 'application/atom+xml', signal });
    const page = await readAtomPage(response.body);
    // The API reports a bad query as a one-entry feed (HTTP 400) whose summary
    // is the explanation; the Atom parser turns that entry into an error item.
    for (const item of page.items) {
      if (item.kind === 'error') {
        const apiMessage = /^arXiv API error: (.*)$/s.exec(item.reason)?.[1];
        if (apiMessage !== undefined) throw new ArxivApiError(response.status, `arXiv API: ${apiMessage}`);
      }
    }
    if (response.status !== 200) {
      throw new ArxivApiError(response.status, `arXiv API answered HTTP ${response.status} for ${url.search}`);
    }
    const broken = page.items.find((i) => i.kind === 'error' && i.at.record === undefined);
    if (broken !== undefined && broken.kind === 'error') {
      throw new ArxivApiError(response.status, `unusable arXiv API response: ${broken.reason}`);
    }
    const papers = page.items.flatMap((i) => (i.kind === 'paper' ? [i.paper] : []));
    return { items: page.items, papers, totalResults: page.totalResults, startIndex: page.startIndex, itemsPerPage: page.itemsPerPage };
  }
}
