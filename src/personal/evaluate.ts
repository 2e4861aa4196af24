/**
 * Offline evaluation of For you's ranking (scripts/eval-for-you.js runs it on
 * the shared arXiv data). Synthetic users: each likes papers of one primary
 * category (or two, for people with two interests); some of their papers of
 * that category are held out, and a ranking of every other paper is good
 * when the held-out papers and papers of the liked categories come first.
 *
 * Rankers compared:
 * - centroid: cosine to the mean of the liked papers' vectors;
 * - max-sim: cosine to the closest liked paper;
 * - blend: FOR_YOU.maxSimShare · max-sim + the rest · centroid (For you's score);
 * - linear: an L2-regularised logistic regression over TF-IDF, liked papers
 *   against all others (arxiv-sanity's SVM idea), class-balanced;
 * each over built-in model vectors (LSA) and, for the first three, over raw
 * TF-IDF too. Metrics per user: hit@20 (a held-out paper in the top 20),
 * recall@20 of the held-out papers, and precision@20 (share of the top 20
 * in a liked category); MMR's effect is the mean pairwise cosine of the top 20.
 */
import { Rng } from '../bench/prng.js';
import { builtinEmbedder, fitBuiltinModel, tokenize } from '../semantic/builtin.js';
import { documentText, dot } from '../semantic/embedder.js';
import { centroid, FOR_YOU, mmr } from './ranking.js';

export interface EvalPaper {
  id: number;
  title: string;
  abstract: string;
  category: string;
}

export interface EvalOptions {
  users: number;
  /** Liked papers per interest, and held-out papers per interest. */
  liked: number;
  heldOut: number;
  seed: number;
}

export interface MethodResult {
  method: string;
  hit20: number;
  recall20: number;
  precision20: number;
  /** Mean pairwise cosine (LSA) of the top 20: lower is more diverse. */
  redundancy20: number;
}

type Sparse = Map<number, number>;

/** TF-IDF (log tf, smooth idf), L2-normalised, over the built-in tokenizer's terms. */
function tfidf(docs: readonly string[]): Sparse[] {
  const vocab = new Map<string, number>();
  const counts = docs.map((d) => {
    const c = new Map<number, number>();
    for (const t of tokenize(d)) {
      let id = vocab.get(t);
      if (id === undefined) vocab.set(t, (id = vocab.size));
      c.set(id, (c.get(id) ?? 0) + 1);
    }
    return c;
  });
  const df = new Float64Array(vocab.size);
  for (const c of counts) for (const id of c.keys()) df[id] = (df[id] ?? 0) + 1;
  return counts.map((c) => {
    const v: Sparse = new Map();
    let norm = 0;
    for (const [id, n] of c) {
      const w = (1 + Math.log(n)) * Math.log((1 + docs.length) / (1 + (df[id] ?? 0)) + 1);
      v.set(id, w);
      norm += w * w;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [id, w] of v) v.set(id, w * inv);
    return v;
  });
}

function sparseDot(a: Sparse, b: Sparse): number {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [id, w] of small) s += w * (large.get(id) ?? 0);
  return s;
}

function sparseCentroid(vs: readonly Sparse[]): Sparse {
  const out: Sparse = new Map();
  for (const v of vs) for (const [id, w] of v) out.set(id, (out.get(id) ?? 0) + w / vs.length);
  return out;
}

/** Class-balanced logistic regression by SGD over sparse vectors; returns a scorer. */
function linearModel(x: readonly Sparse[], positives: ReadonlySet<number>, rng: Rng): (v: Sparse) => number {
  const w = new Map<number, number>();
  let bias = 0;
  const lambda = 1e-4;
  const pos = [...positives];
  const negWeight = pos.length / Math.max(1, x.length - pos.length);
  for (let epoch = 0; epoch < 8; epoch++) {
    const rate = 0.5 / (1 + epoch);
    // Each epoch: every positive a few times, and an equal-weight sample of negatives.
    const order: number[] = [];
    for (let r = 0; r < 10; r++) order.push(...pos);
    for (let i = 0; i < x.length; i++) if (!positives.has(i) && rng.chance(Math.min(1, 20 * negWeight))) order.push(i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
    }
    for (const i of order) {
      const v = x[i];
      if (v === undefined) continue;
      const y = positives.has(i) ? 1 : 0;
      let z = bias;
      for (const [id, val] of v) z += (w.get(id) ?? 0) * val;
      const g = 1 / (1 + Math.exp(-z)) - y;
      for (const [id, val] of v) w.set(id, (w.get(id) ?? 0) * (1 - rate * lambda) - rate * g * val);
      bias -= rate * g;
    }
  }
  return (v) => {
    let z = bias;
    for (const [id, val] of v) z += (w.get(id) ?? 0) * val;
    return z;
  };
}

interface User {
  liked: number[];
  heldOut: Set<number>;
  categories: Set<string>;
}

function makeUsers(papers: readonly EvalPaper[], options: EvalOptions): User[] {
  const rng = new Rng(options.seed);
  const byCategory = new Map<string, number[]>();
  papers.forEach((p, i) => byCategory.set(p.category, [...(byCategory.get(p.category) ?? []), i]));
  const big = [...byCategory.entries()].filter(([, list]) => list.length >= options.liked + options.heldOut + 5).map(([c]) => c).sort();
  const users: User[] = [];
  for (let u = 0; u < options.users; u++) {
    const interests = u % 2 === 0 ? 1 : 2;
    const categories = new Set<string>();
    while (categories.size < Math.min(interests, big.length)) categories.add(rng.pick(big));
    const liked: number[] = [];
    const heldOut = new Set<number>();
    for (const c of categories) {
      const list = [...(byCategory.get(c) ?? [])];
      for (let i = list.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [list[i], list[j]] = [list[j] ?? 0, list[i] ?? 0];
      }
      liked.push(...list.slice(0, options.liked));
      for (const i of list.slice(options.liked, options.liked + options.heldOut)) heldOut.add(i);
    }
    users.push({ liked, heldOut, categories });
  }
  return users;
}

/** Runs every ranker over the same synthetic users; one row per method, plus an MMR row. */
export async function evaluateForYou(papers: readonly EvalPaper[], options: EvalOptions): Promise<{ rows: MethodResult[]; corpus: number; categories: number }> {
  const texts = papers.map((p) => documentText(p.title, p.abstract));
  const model = fitBuiltinModel(texts);
  const dense = await builtinEmbedder(model, 'eval').embed(texts, 'document');
  const sparse = tfidf(texts);
  const users = makeUsers(papers, options);
  const rng = new Rng(options.seed + 1);

  type Ranker = (user: User) => number[];
  const rankBy = (user: User, scoreOf: (i: number) => number): number[] => {
    const liked = new Set(user.liked);
    return papers
      .map((_, i) => i)
      .filter((i) => !liked.has(i))
      .map((i) => ({ i, s: scoreOf(i) }))
      .sort((a, b) => b.s - a.s)
      .map((r) => r.i);
  };
  const denseOf = (i: number): Float32Array => dense[i] ?? new Float32Array(model.dimensions);
  const sparseOf = (i: number): Sparse => sparse[i] ?? new Map();
  const maxOf = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), -Infinity);
  const rankers: [string, Ranker][] = [
    ['centroid (LSA)', (u) => {
      const c = centroid(u.liked.map(denseOf));
      return rankBy(u, (i) => (c === undefined ? 0 : dot(denseOf(i), c)));
    }],
    ['max-sim (LSA)', (u) => rankBy(u, (i) => maxOf(u.liked.map((l) => dot(denseOf(i), denseOf(l)))))],
    ...[0.3, 0.5, 0.7].map((share): [string, Ranker] => [`blend ${share}/${(1 - share).toFixed(1)} (LSA)`, (u) => {
      const c = centroid(u.liked.map(denseOf));
      return rankBy(u, (i) => share * maxOf(u.liked.map((l) => dot(denseOf(i), denseOf(l)))) + (1 - share) * (c === undefined ? 0 : dot(denseOf(i), c)));
    }]),
    ['centroid (TF-IDF)', (u) => {
      const c = sparseCentroid(u.liked.map(sparseOf));
      return rankBy(u, (i) => sparseDot(sparseOf(i), c));
    }],
    ['max-sim (TF-IDF)', (u) => rankBy(u, (i) => maxOf(u.liked.map((l) => sparseDot(sparseOf(i), sparseOf(l)))))],
    ['linear model (TF-IDF)', (u) => {
      const scorer = linearModel(sparse, new Set(u.liked), rng);
      return rankBy(u, (i) => scorer(sparseOf(i)));
    }],
  ];
  const redundancy = (top: readonly number[]): number => {
    let sum = 0;
    let n = 0;
    for (let a = 0; a < top.length; a++) for (let b = a + 1; b < top.length; b++) {
      sum += dot(denseOf(top[a] ?? 0), denseOf(top[b] ?? 0));
      n++;
    }
    return n === 0 ? 0 : sum / n;
  };
  const measure = (method: string, rankings: number[][]): MethodResult => {
    let hit = 0;
    let recall = 0;
    let precision = 0;
    let red = 0;
    users.forEach((u, k) => {
      const top = (rankings[k] ?? []).slice(0, 20);
      const found = top.filter((i) => u.heldOut.has(i)).length;
      hit += found > 0 ? 1 : 0;
      recall += found / u.heldOut.size;
      precision += top.filter((i) => u.categories.has(papers[i]?.category ?? '')).length / top.length;
      red += redundancy(top);
    });
    const n = users.length;
    return { method, hit20: hit / n, recall20: recall / n, precision20: precision / n, redundancy20: red / n };
  };
  const rows: MethodResult[] = [];
  let blendRankings: number[][] = [];
  for (const [name, ranker] of rankers) {
    const rankings = users.map(ranker);
    if (name.startsWith(`blend ${FOR_YOU.maxSimShare}/`)) blendRankings = rankings;
    rows.push(measure(name, rankings));
  }
  // MMR over the blend's top 80, as For you picks a page.
  const mmrRankings = blendRankings.map((ranking, k) => {
    const user = users[k];
    if (user === undefined) return ranking;
    const c = centroid(user.liked.map(denseOf));
    const scored = ranking.slice(0, 80).map((i) => ({
      i,
      score: FOR_YOU.maxSimShare * maxOf(user.liked.map((l) => dot(denseOf(i), denseOf(l)))) + (1 - FOR_YOU.maxSimShare) * (c === undefined ? 0 : dot(denseOf(i), c)),
    }));
    return mmr(scored, 20, (a, b) => Math.max(0, dot(denseOf(a.i), denseOf(b.i)))).map((s) => s.i);
  });
  rows.push(measure(`blend + MMR λ=${FOR_YOU.lambda} (LSA)`, mmrRankings));
  return { rows, corpus: papers.length, categories: new Set(papers.map((p) => p.category)).size };
}
