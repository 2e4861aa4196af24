/**
 * Similar papers: the nearest vectors of the active model to a paper's own,
 * sortable by similarity, recency or popularity. Recency and popularity
 * re-sort a pool of the most similar papers, so "newest" means the newest of
 * the closely related ones, not the newest paper of the instance.
 */
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import { readVectors } from '../db/vector-store.js';
import { currentModel } from './models.js';
import { nearestPapers, VectorIndexWarming } from './vector-index.js';

export const SIMILAR_SORTS = ['similarity', 'recency', 'popularity'] as const;
export type SimilarSort = (typeof SIMILAR_SORTS)[number];

/** Neighbours re-sorted by recency or popularity: at least this many, and three times the limit. */
const POOL_MIN = 30;
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 5_000;

export interface SimilarPaper {
  paperId: number;
  similarity: number;
}

export type SimilarResult =
  | { available: true; modelId: number; papers: SimilarPaper[] }
  | { available: false; reason: string };

interface Ranked {
  at: number;
  result: Promise<SimilarResult>;
}

// Paper pages ask for the same lists over and over; the lists change only as
// papers are embedded, so a minute's staleness costs nothing a reader sees.
const caches = new WeakMap<Database, Map<string, Ranked>>();

async function rank(ctx: AppContext, paperId: number, limit: number, sort: SimilarSort): Promise<SimilarResult> {
  const model = await currentModel(ctx.database);
  if (model === null) return { available: false, reason: 'papers are not embedded yet' };
  const [own] = await readVectors(ctx.database, model.id, [paperId]);
  if (own === undefined) return { available: false, reason: 'this paper is not embedded yet' };
  const pool = sort === 'similarity' ? limit : Math.max(POOL_MIN, limit * 3);
  let neighbours: SimilarPaper[];
  try {
    neighbours = await nearestPapers(ctx.database, model.id, own.vector, pool, { exclude: new Set([paperId]), interactive: true });
  } catch (err) {
    if (err instanceof VectorIndexWarming) return { available: false, reason: err.message };
    throw err;
  }
  if (sort === 'similarity' || neighbours.length === 0) return { available: true, modelId: model.id, papers: neighbours.slice(0, limit) };
  const rows = await ctx.database.db
    .selectFrom('papers')
    .select(['id', 'upvotes', 'announced_on', 'published_at'])
    .where('id', 'in', neighbours.map((n) => n.paperId))
    .execute();
  const info = new Map(rows.map((r) => [r.id, r]));
  const key = (n: SimilarPaper): string | number => {
    const r = info.get(n.paperId);
    return sort === 'recency' ? (r?.announced_on ?? r?.published_at ?? '') : (r?.upvotes ?? 0);
  };
  const sorted = neighbours
    .filter((n) => info.has(n.paperId))
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka < kb ? 1 : ka > kb ? -1 : b.similarity - a.similarity;
    });
  return { available: true, modelId: model.id, papers: sorted.slice(0, limit) };
}

/** The papers most like `paperId`, best first in the chosen order (cached per process for a minute). */
export function similarPapers(ctx: AppContext, paperId: number, limit: number, sort: SimilarSort = 'similarity', now = Date.now()): Promise<SimilarResult> {
  let cache = caches.get(ctx.database);
  if (cache === undefined) {
    cache = new Map();
    caches.set(ctx.database, cache);
  }
  const key = `${paperId}:${limit}:${sort}`;
  const hit = cache.get(key);
  if (hit !== undefined && now - hit.at < CACHE_TTL_MS) return hit.result;
  const result = rank(ctx, paperId, limit, sort);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, { at: now, result });
  // Only lists are kept: a paper that is not embedded yet may be by the next request.
  result.then(
    (r) => {
      if (!r.available) cache.delete(key);
    },
    () => cache.delete(key),
  );
  return result;
}
