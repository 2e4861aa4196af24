/**
 * One entry point for every search mode (docs/decisions/013-semantic-search.md):
 * keyword (field-weighted BM25), semantic (nearest vectors of the active
 * model) and hybrid (both rankings fused, the default where vectors exist).
 *
 * Query syntax is keyword syntax. The semantic half embeds the query's words
 * and applies its filters (`cat:`, category, dates, featured) in SQL, and its
 * `-exclusions` and `author:`/`title:` terms as plain-text checks, so a paper
 * the keyword half would refuse is not let back in by meaning.
 */
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import type { SearchMode } from '../db/schema.js';
import { feedbackQuery, fuseScored, FUSION } from '../semantic/fusion.js';
import { readVectors } from '../db/vector-store.js';
import { embedQuery } from '../semantic/models.js';
import { nearestPapers, VectorIndexWarming } from '../semantic/vector-index.js';
import { escapeHtml, SafeHtml } from '../web/html.js';
import { searchKeyword, type KeywordOptions } from './keyword.js';
import { categoryFilters, parseQuery, type ParsedQuery, type TermNode } from './query.js';

export type { SearchMode } from '../db/schema.js';
export const SEARCH_MODES: readonly SearchMode[] = ['keyword', 'semantic', 'hybrid'];

/** Most results a semantic or hybrid search ranks (and so pages through). */
export const MEANING_WINDOW = 200;
/** How many neighbours the index is asked for at most while filters thin them out. */
const MAX_NEIGHBOURS = 4_000;
const EXCERPT_CHARS = 240;

export interface SearchOptions {
  /** Default: hybrid (keyword when no model is active yet). */
  mode?: SearchMode;
  limit: number;
  offset?: number;
  categories?: string[];
  from?: string;
  to?: string;
  featuredOnly?: boolean;
  snippets?: boolean;
  /** Only papers with a larger id (new matches of a saved search). */
  minPaperId?: number;
}

export interface SearchHit {
  paperId: number;
  arxivId: string;
  title: string;
  authorsText: string;
  /** Higher is better; comparable only within one result list. */
  score: number;
  snippet: SafeHtml;
  /** Cosine similarity to the query (semantic and hybrid). */
  similarity: number | null;
  keywordRank: number | null;
  semanticRank: number | null;
}

export interface SearchResult {
  /** The mode that ran. */
  mode: SearchMode;
  requestedMode: SearchMode;
  hits: SearchHit[];
  /** Keyword: the match count (up to the match window); semantic and hybrid: how many results were ranked. */
  total: number | null;
  totalIsLowerBound: boolean;
  problem?: string;
  /** Why a semantic or hybrid search ran as keyword only. */
  semanticUnavailable?: string;
}

interface Candidate {
  id: number;
  arxiv_id: string;
  title_text: string;
  authors_text: string;
  abstract_text: string;
}

/** The words a query means: positive terms and phrases of any field but `author:`. */
export function meaningText(parsed: ParsedQuery): string {
  return parsed.nodes
    .filter((n): n is TermNode => n.kind === 'term' && !n.negated && n.field !== 'author')
    .map((n) => n.text)
    .join(' ')
    .trim();
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/** Whether a paper passes the query's exclusions and author:/title: terms (the text checks of the semantic half). */
function passesTextTerms(parsed: ParsedQuery, c: Candidate): boolean {
  for (const n of parsed.nodes) {
    if (n.kind !== 'term') continue;
    const text =
      n.field === 'author' ? c.authors_text : n.field === 'title' ? c.title_text : n.field === 'abstract' ? c.abstract_text : `${c.title_text}\n${c.authors_text}\n${c.abstract_text}`;
    if (n.negated && contains(text, n.text)) return false;
    if (!n.negated && (n.field === 'author' || n.field === 'title') && !contains(text, n.text)) return false;
  }
  return true;
}

function excerpt(abstract: string): SafeHtml {
  const flat = abstract.replace(/\s+/g, ' ').trim();
  const cut = flat.length <= EXCERPT_CHARS ? flat : `${flat.slice(0, flat.lastIndexOf(' ', EXCERPT_CHARS) > 0 ? flat.lastIndexOf(' ', EXCERPT_CHARS) : EXCERPT_CHARS)}…`;
  return new SafeHtml(escapeHtml(cut));
}

/** Rows of the given papers that pass the filters, in no particular order. */
async function filterCandidates(ctx: AppContext, ids: readonly number[], options: SearchOptions, parsed: ParsedQuery): Promise<Map<number, Candidate>> {
  if (ids.length === 0) return new Map();
  const cats = categoryFilters(parsed);
  const include = [...(options.categories ?? []), ...cats.include];
  const rows = await ctx.database.db
    .selectFrom('papers as p')
    .select(['p.id', 'p.arxiv_id', 'p.title_text', 'p.authors_text', (eb) => eb.fn.coalesce('p.abstract_text', 'p.abstract').as('abstract_text')])
    .where('p.id', 'in', [...ids])
    .$if(options.minPaperId !== undefined, (q) => q.where('p.id', '>', options.minPaperId ?? 0))
    .$if(options.from !== undefined, (q) => q.where('p.announced_on', '>=', options.from ?? ''))
    .$if(options.to !== undefined, (q) => q.where('p.announced_on', '<=', options.to ?? ''))
    .$if(include.length > 0, (q) =>
      q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('paper_categories as c')
            .select(sql`1`.as('one'))
            .whereRef('c.paper_id', '=', 'p.id')
            .where((e) => e.or(include.map((cat) => (cat.includes('.') ? e('c.category', '=', cat) : e('c.category', 'like', `${cat}.%`))))),
        ),
      ),
    )
    .$if(cats.exclude.length > 0, (q) =>
      q.where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('paper_categories as c')
              .select(sql`1`.as('one'))
              .whereRef('c.paper_id', '=', 'p.id')
              .where((e) => e.or(cats.exclude.map((cat) => (cat.includes('.') ? e('c.category', '=', cat) : e('c.category', 'like', `${cat}.%`))))),
          ),
        ),
      ),
    )
    .$if(options.featuredOnly === true, (q) =>
      q.where((eb) =>
        eb.exists(eb.selectFrom('featured as f').select(sql`1`.as('one')).whereRef('f.paper_id', '=', 'p.id').where('f.hidden_at', 'is', null)),
      ),
    )
    .execute();
  return new Map(rows.filter((r) => passesTextTerms(parsed, r)).map((r) => [r.id, r]));
}

/** The semantic ranking: nearest papers that pass the filters, best first, up to `want`. */
async function semanticRanking(
  ctx: AppContext,
  query: { modelId: number; vector: Float32Array },
  want: number,
  options: SearchOptions,
  parsed: ParsedQuery,
): Promise<{ candidate: Candidate; similarity: number }[]> {
  for (let k = Math.max(want, 50); ; k *= 4) {
    const neighbours = await nearestPapers(ctx.database, query.modelId, query.vector, Math.min(k, MAX_NEIGHBOURS), { interactive: true });
    const passing = await filterCandidates(ctx, neighbours.map((n) => n.paperId), options, parsed);
    const ranked = neighbours.flatMap((n) => {
      const candidate = passing.get(n.paperId);
      return candidate === undefined ? [] : [{ candidate, similarity: n.similarity }];
    });
    // Fewer neighbours than asked for means the index has no more.
    if (ranked.length >= want || neighbours.length < Math.min(k, MAX_NEIGHBOURS) || k >= MAX_NEIGHBOURS) return ranked.slice(0, want);
  }
}

function keywordOptions(options: SearchOptions, limit: number, offset: number): KeywordOptions {
  return {
    limit,
    offset,
    ...(options.categories !== undefined ? { categories: options.categories } : {}),
    ...(options.from !== undefined ? { from: options.from } : {}),
    ...(options.to !== undefined ? { to: options.to } : {}),
    ...(options.minPaperId !== undefined ? { minPaperId: options.minPaperId } : {}),
    featuredOnly: options.featuredOnly === true,
    snippets: options.snippets !== false,
  };
}

/** Runs a search in the requested mode, falling back to keyword (and saying why) when meaning is not available. */
export async function searchPapers(ctx: AppContext, query: string, options: SearchOptions): Promise<SearchResult> {
  const requested = options.mode ?? 'hybrid';
  const parsed = parseQuery(query);
  const limit = Math.max(0, Math.floor(options.limit));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));

  const keywordOnly = async (semanticUnavailable?: string): Promise<SearchResult> => {
    const result = await searchKeyword(ctx.database, parsed, keywordOptions(options, limit, offset));
    return {
      mode: 'keyword',
      requestedMode: requested,
      hits: result.hits.map((h, i) => ({ ...h, similarity: null, keywordRank: offset + i + 1, semanticRank: null })),
      total: result.total,
      totalIsLowerBound: result.totalIsLowerBound,
      ...(result.problem !== undefined ? { problem: result.problem } : {}),
      ...(semanticUnavailable !== undefined ? { semanticUnavailable } : {}),
    };
  };
  if (requested === 'keyword') return keywordOnly();
  const text = meaningText(parsed);
  if (text === '') return keywordOnly('the query has no words to search by meaning');
  const embedded = await embedQuery(ctx, text);
  if (embedded === null) return keywordOnly('papers are not embedded yet: semantic search starts once the first model is built');
  // A zero vector: no word of the query is known to the model, so every paper would be equally close.
  // In hybrid mode the words alone decide then, which needs no apology.
  if (embedded.vector.every((x) => x === 0)) return keywordOnly(requested === 'semantic' ? 'none of the query’s words is known to the embedding model' : undefined);

  // While this process builds its first vector index (minutes at a million papers), the words alone answer.
  try {
    return await rankByMeaning(embedded);
  } catch (err) {
    if (err instanceof VectorIndexWarming) return keywordOnly(err.message);
    throw err;
  }

  async function rankByMeaning(meaning: { modelId: number; vector: Float32Array }): Promise<SearchResult> {
    if (requested === 'semantic') {
      const semantic = await semanticRanking(ctx, meaning, Math.min(MEANING_WINDOW, offset + limit), options, parsed);
      const hits = semantic.slice(offset, offset + limit).map(({ candidate: c, similarity }, i) => ({
        paperId: c.id,
        arxivId: c.arxiv_id,
        title: c.title_text,
        authorsText: c.authors_text,
        score: similarity,
        snippet: options.snippets === false ? new SafeHtml('') : excerpt(c.abstract_text),
        similarity,
        keywordRank: null,
        semanticRank: offset + i + 1,
      }));
      return { mode: 'semantic', requestedMode: requested, hits, total: semantic.length, totalIsLowerBound: semantic.length >= MEANING_WINDOW };
    }

    // Hybrid: the keyword ranking first (without snippets: only the page's hits
    // need them, fetched below), then the query vector moved towards its best
    // hits (pseudo-relevance feedback, tuned on SciFact), then the two score
    // lists mixed (src/semantic/fusion.ts).
    const want = Math.min(MEANING_WINDOW, Math.max(offset + limit, FUSION.depth));
    const keyword = await searchKeyword(ctx.database, parsed, { ...keywordOptions(options, want, 0), snippets: false, count: false });
    const keywordHits = keyword.problem === undefined ? keyword.hits : [];
    const top = keywordHits.slice(0, FUSION.feedbackDocs);
    const topVectors = new Map((await readVectors(ctx.database, meaning.modelId, top.map((h) => h.paperId))).map((v) => [v.paperId, v.vector]));
    const feedback = top.flatMap((h) => {
      const vector = topVectors.get(h.paperId);
      return vector === undefined ? [] : [{ vector, score: h.score }];
    });
    const semantic = await semanticRanking(ctx, { modelId: meaning.modelId, vector: feedbackQuery(meaning.vector, feedback) }, want, options, parsed);
    const fused = fuseScored(
      keywordHits.map((h) => ({ id: h.paperId, score: h.score })),
      semantic.map((s) => ({ id: s.candidate.id, score: s.similarity })),
      FUSION,
    );
    const page = fused.slice(offset, offset + limit);
    const byKeyword = new Map(keywordHits.map((h) => [h.paperId, h]));
    if (options.snippets !== false) {
      const ids = page.filter((f) => byKeyword.has(f.id)).map((f) => f.id);
      const withSnippets = await searchKeyword(ctx.database, parsed, { ...keywordOptions(options, ids.length, 0), onlyIds: ids, count: false });
      for (const h of withSnippets.hits) byKeyword.set(h.paperId, h);
    }
    const bySemantic = new Map(semantic.map((s) => [s.candidate.id, s]));
    const hits: SearchHit[] = [];
    for (const f of page) {
      const k = byKeyword.get(f.id);
      const s = bySemantic.get(f.id);
      const base = k ?? (s === undefined ? undefined : { paperId: s.candidate.id, arxivId: s.candidate.arxiv_id, title: s.candidate.title_text, authorsText: s.candidate.authors_text, snippet: options.snippets === false ? new SafeHtml('') : excerpt(s.candidate.abstract_text) });
      if (base === undefined) continue;
      hits.push({
        paperId: base.paperId,
        arxivId: base.arxivId,
        title: base.title,
        authorsText: base.authorsText,
        snippet: base.snippet,
        score: f.score,
        similarity: s?.similarity ?? null,
        keywordRank: f.keywordRank,
        semanticRank: f.semanticRank,
      });
    }
    return { mode: 'hybrid', requestedMode: requested, hits, total: fused.length, totalIsLowerBound: fused.length >= MEANING_WINDOW };
  }
}
