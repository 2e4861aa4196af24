/**
 * Hybrid search: one ranking from the keyword (BM25) and the semantic
 * (cosine) rankings by weighted reciprocal rank fusion (Cormack et al. 2009).
 * Ranks, not scores, are fused, so BM25's unbounded scores and cosines need
 * no common scale. The parameters are tuned on SciFact train with
 * `npm run eval -- --mode hybrid` (README, "Search quality").
 */

export interface FusionParams {
  /** Rank offset: larger k flattens the difference between first and tenth place. */
  k: number;
  keywordWeight: number;
  semanticWeight: number;
  /** How many of each ranking are fused; anything below contributes nothing. */
  depth: number;
}

export interface FusedHit {
  id: number;
  score: number;
  /** 1-based rank in each input, null when the id was not in its first `depth`. */
  keywordRank: number | null;
  semanticRank: number | null;
}

/**
 * Tuned on SciFact train (809 queries; the best on odd and on even query ids
 * too): the built-in embedder is weaker than BM25 there, so keyword order
 * dominates and the semantic ranking reorders close calls and adds papers
 * with no matching word below the strong keyword matches.
 */
export const FUSION: FusionParams = { k: 5, keywordWeight: 1, semanticWeight: 0.1, depth: 100 };

/**
 * Fuses two rankings (ids, best first): each id scores Σ weight / (k + rank)
 * over the lists it is in. Sorted by score, then by its best rank, then by id,
 * so equal inputs always give the same order. An id repeated within one list
 * counts at its first (best) place only.
 */
export function fuseRankings(
  keyword: readonly number[],
  semantic: readonly number[],
  params: FusionParams = FUSION,
): FusedHit[] {
  const hits = new Map<number, FusedHit>();
  const add = (ranking: readonly number[], weight: number, which: 'keywordRank' | 'semanticRank'): void => {
    const n = Math.min(ranking.length, Math.max(0, Math.floor(params.depth)));
    for (let i = 0; i < n; i++) {
      const id = ranking[i]!;
      let hit = hits.get(id);
      if (hit === undefined) hits.set(id, (hit = { id, score: 0, keywordRank: null, semanticRank: null }));
      if (hit[which] !== null) continue;
      hit[which] = i + 1;
      hit.score += weight / (params.k + i + 1);
    }
  };
  add(keyword, params.keywordWeight, 'keywordRank');
  add(semantic, params.semanticWeight, 'semanticRank');
  const best = (h: FusedHit): number => Math.min(h.keywordRank ?? Infinity, h.semanticRank ?? Infinity);
  return [...hits.values()].sort((a, b) => b.score - a.score || best(a) - best(b) || a.id - b.id);
}
