/**
 * The built-in embedder: latent semantic analysis (LSA) learned from the
 * instance's own papers, so it needs no downloaded weights
 * (docs/decisions/013-semantic-search.md).
 *
 * Fitting: Porter-stemmed words, the most common terms (min df 2) weighted by
 * sublinear tf × idf with unit-length rows; a truncated SVD of that
 * document-term matrix by randomized block power iteration gives one vector per
 * term. Embedding a text is the tf-idf weighted sum of its terms' vectors,
 * scaled to unit length: words that occur in similar abstracts get similar
 * vectors, so "heart attack" finds "myocardial infarction".
 *
 * Everything is deterministic: a seeded generator, fixed iteration counts and
 * orders, so fitting the same documents gives the same bytes.
 */
import type { Embedder, EmbedKind } from './embedder.js';
import { normalize } from './embedder.js';
import { porterStem } from './porter.js';

/** Algorithm version: part of every built-in model's fingerprint. */
export const BUILTIN_VERSION = 'lsa-ict-2';

/** The most documents a model is fitted on; larger corpora are sampled (50k: about 5 min and 0.9 GB on one core with the default training pairs; 2 min with the first design's 20,000). */
export const FIT_SAMPLE_MAX = 50_000;

export const DEFAULT_DIMENSIONS = 256;
const DEFAULT_MAX_VOCABULARY = 50_000;
const DEFAULT_MIN_DF = 2;
const OVERSAMPLE = 16;
const POWER_ITERATIONS = 3;

export interface BuiltinModel {
  readonly dimensions: number;
  /** Stemmed terms, in column order. */
  readonly vocabulary: readonly string[];
  /** Inverse document frequency per term. */
  readonly idf: Float32Array;
  /** vocabulary.length × dimensions, row-major: each term's vector. */
  readonly termVectors: Float32Array;
  /** How many documents it was fitted on. */
  readonly documents: number;
}

export interface FitOptions {
  dimensions?: number;
  /** Most terms kept (by document frequency). */
  maxVocabulary?: number;
  minDf?: number;
  /**
   * Term vectors are V·Σ^(exponent-1), so a fitted document embeds as UΣ^exponent:
   * 1 is classic LSA fold-in, 0 weights every latent dimension equally.
   */
  sigmaExponent?: number;
  powerIterations?: number;
  /** Contrastive passes over the corpus after the SVD (0: plain LSA); by default from trainingPairs. */
  epochs?: number;
  /** Inverse-cloze pairs to train on (0: plain LSA); DEFAULT_TRAINING_PAIRS when unset. */
  trainingPairs?: number;
  learningRate?: number;
  temperature?: number;
  batchSize?: number;
}

/**
 * Inverse-cloze training pairs per fit (a sentence or title and the rest of its
 * paper): passes over the corpus are this many pairs over its size, at least 1
 * and at most MAX_EPOCHS. More pairs kept improving SciFact (semantic-only
 * nDCG@10 0.50 → 0.54 → 0.61 at 0, 4 and 29 passes over its 5k papers); each
 * pair costs about 0.35 ms on one core (a 5k corpus fits in 72 s instead of 24 s).
 */
export const DEFAULT_TRAINING_PAIRS = 150_000;
const MAX_EPOCHS = 30;

function epochsFor(documents: number, pairs: number): number {
  if (pairs === 0) return 0;
  return Math.max(1, Math.min(MAX_EPOCHS, Math.round(pairs / Math.max(documents, 1))));
}

const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves also may might must shall us et al however thus therefore although ' +
    'whether within without via upon among across'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;

/** Lowercased, stop words dropped, Porter-stemmed words of a text (the keyword index stems the same way). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const word = m[0];
    if (word.length < 2 || STOPWORDS.has(word)) continue;
    // Bare numbers are mostly years, counts and p-values: noise for meaning.
    if (/^\d+$/.test(word)) continue;
    out.push(porterStem(word));
  }
  return out;
}

/** Term index → count for the in-vocabulary terms of a text. */
function termCounts(tokens: readonly string[], index: ReadonlyMap<string, number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  return counts;
}

/** mulberry32: a small seeded generator, so the random projection (and the model) is reproducible; tests and benchmarks use it too. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sparse rows (CSR): the weighted document-term matrix. */
interface Csr {
  rows: number;
  cols: number;
  start: Int32Array;
  col: Int32Array;
  value: Float32Array;
}

/** out (rows × l) = A · M, where M is cols × l, both row-major. */
function multiply(a: Csr, m: Float64Array, l: number): Float64Array {
  const out = new Float64Array(a.rows * l);
  for (let r = 0; r < a.rows; r++) {
    const o = r * l;
    for (let p = a.start[r]!; p < a.start[r + 1]!; p++) {
      const v = a.value[p]!;
      const mo = a.col[p]! * l;
      for (let j = 0; j < l; j++) out[o + j]! += v * m[mo + j]!;
    }
  }
  return out;
}

/** out (cols × l) = Aᵀ · M, where M is rows × l, both row-major. */
function multiplyTransposed(a: Csr, m: Float64Array, l: number): Float64Array {
  const out = new Float64Array(a.cols * l);
  for (let r = 0; r < a.rows; r++) {
    const mo = r * l;
    for (let p = a.start[r]!; p < a.start[r + 1]!; p++) {
      const v = a.value[p]!;
      const o = a.col[p]! * l;
      for (let j = 0; j < l; j++) out[o + j]! += v * m[mo + j]!;
    }
  }
  return out;
}

/**
 * Orthonormalises the l columns of a row-major n × l matrix in place
 * (Cholesky QR; a second pass restores the orthogonality the first loses
 * on ill-conditioned blocks, needed only at the end). A column that is numerically
 * dependent on earlier ones is zeroed.
 */
function orthonormalize(m: Float64Array, n: number, l: number, passes = 2): void {
  for (let pass = 0; pass < passes; pass++) {
    const gram = new Float64Array(l * l);
    for (let r = 0; r < n; r++) {
      const o = r * l;
      for (let i = 0; i < l; i++) {
        const x = m[o + i]!;
        if (x === 0) continue;
        const g = i * l;
        for (let j = i; j < l; j++) gram[g + j]! += x * m[o + j]!;
      }
    }
    // Cholesky: gram = RᵀR, R upper triangular (stored in gram's upper triangle).
    let scale = 0;
    for (let i = 0; i < l; i++) scale = Math.max(scale, gram[i * l + i]!);
    const tiny = scale * 1e-12;
    const alive = new Uint8Array(l);
    for (let i = 0; i < l; i++) {
      let d = gram[i * l + i]!;
      for (let k = 0; k < i; k++) d -= gram[k * l + i]! ** 2;
      if (d <= tiny) {
        for (let j = i; j < l; j++) gram[i * l + j] = 0;
        continue;
      }
      alive[i] = 1;
      const rii = Math.sqrt(d);
      gram[i * l + i] = rii;
      for (let j = i + 1; j < l; j++) {
        let s = gram[i * l + j]!;
        for (let k = 0; k < i; k++) s -= gram[k * l + i]! * gram[k * l + j]!;
        gram[i * l + j] = s / rii;
      }
    }
    // M ← M R⁻¹, one row at a time (forward substitution on the row vector).
    const row = new Float64Array(l);
    for (let r = 0; r < n; r++) {
      const o = r * l;
      for (let j = 0; j < l; j++) {
        if (alive[j] === 0) {
          row[j] = 0;
          continue;
        }
        let s = m[o + j]!;
        for (let k = 0; k < j; k++) s -= row[k]! * gram[k * l + j]!;
        row[j] = s / gram[j * l + j]!;
      }
      m.set(row, o);
    }
  }
}

/** Eigenvalues (descending) and eigenvectors (columns of a row-major l × l matrix) of a symmetric matrix, by cyclic Jacobi. */
function symmetricEigen(a: Float64Array, l: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(l * l);
  for (let i = 0; i < l; i++) v[i * l + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < l; j++) {
        const x = m[i * l + j]! ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= total * 1e-24) break;
    for (let p = 0; p < l - 1; p++) {
      for (let q = p + 1; q < l; q++) {
        const apq = m[p * l + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * l + p]!;
        const aqq = m[q * l + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < l; k++) {
          const mkp = m[k * l + p]!;
          const mkq = m[k * l + q]!;
          m[k * l + p] = c * mkp - s * mkq;
          m[k * l + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < l; k++) {
          const mpk = m[p * l + k]!;
          const mqk = m[q * l + k]!;
          m[p * l + k] = c * mpk - s * mqk;
          m[q * l + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < l; k++) {
          const vkp = v[k * l + p]!;
          const vkq = v[k * l + q]!;
          v[k * l + p] = c * vkp - s * vkq;
          v[k * l + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: l }, (_, i) => i).sort((x, y) => m[y * l + y]! - m[x * l + x]! || x - y);
  const values = new Float64Array(l);
  const vectors = new Float64Array(l * l);
  order.forEach((src, dst) => {
    values[dst] = m[src * l + src]!;
    for (let k = 0; k < l; k++) vectors[k * l + dst] = v[k * l + src]!;
  });
  return { values, vectors };
}

/**
 * Fits a model on documents (documentText() of each paper). The same documents
 * in the same order give the same model, byte for byte.
 */
export function fitBuiltinModel(documents: readonly string[], options: FitOptions = {}): BuiltinModel {
  const wanted = options.dimensions ?? DEFAULT_DIMENSIONS;
  const maxVocabulary = options.maxVocabulary ?? DEFAULT_MAX_VOCABULARY;
  const minDf = options.minDf ?? DEFAULT_MIN_DF;
  const sigmaExponent = options.sigmaExponent ?? 0.5;
  const powerIterations = options.powerIterations ?? POWER_ITERATIONS;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > 4096) throw new RangeError(`dimensions must be 1-4096, not ${wanted}`);

  // Document frequencies, then the vocabulary: most frequent first, ties alphabetical.
  const tokenized = documents.map(tokenize);
  const df = new Map<string, number>();
  for (const tokens of tokenized) for (const t of new Set(tokens)) df.set(t, (df.get(t) ?? 0) + 1);
  const n = documents.length;
  const vocabulary = [...df.entries()]
    // A tiny instance keeps its rare words: there they are most of what a query can match.
    .filter(([, f]) => f >= (n < 1000 ? 1 : minDf) && (n < 10 || f <= n * 0.5))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxVocabulary)
    .map(([t]) => t)
    .sort();
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  const idf = new Float32Array(vocabulary.length);
  vocabulary.forEach((t, i) => (idf[i] = Math.log((n + 1) / ((df.get(t) ?? 0) + 1)) + 1));

  // The weighted document-term matrix, one unit-length row per document.
  const start = new Int32Array(n + 1);
  const cols: number[] = [];
  const values: number[] = [];
  tokenized.forEach((tokens, r) => {
    const counts = [...termCounts(tokens, index).entries()].sort((a, b) => a[0] - b[0]);
    let norm = 0;
    const row = counts.map(([c, tf]) => {
      const w = (1 + Math.log(tf)) * idf[c]!;
      norm += w * w;
      return [c, w] as const;
    });
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [c, w] of row) {
      cols.push(c);
      values.push(w * inv);
    }
    start[r + 1] = cols.length;
  });
  tokenized.length = 0;
  const matrix: Csr = { rows: n, cols: vocabulary.length, start, col: Int32Array.from(cols), value: Float32Array.from(values) };
  cols.length = 0;
  values.length = 0;

  const dimensions = Math.max(1, Math.min(wanted, n, vocabulary.length));
  const termVectors = new Float32Array(vocabulary.length * dimensions);
  if (vocabulary.length > 0 && n > 0) {
    // Randomized SVD (Halko, Martinsson & Tropp 2011): a random block, power
    // iterations to sharpen the spectrum, then the exact SVD of a small matrix.
    const l = Math.min(dimensions + OVERSAMPLE, n, vocabulary.length);
    const random = seededRandom(0x5eed);
    const omega = new Float64Array(vocabulary.length * l);
    for (let i = 0; i < omega.length; i++) omega[i] = random() * 2 - 1;
    let q = multiply(matrix, omega, l);
    orthonormalize(q, n, l, 1);
    for (let it = 0; it < powerIterations; it++) {
      const z = multiplyTransposed(matrix, q, l);
      orthonormalize(z, vocabulary.length, l, 1);
      q = multiply(matrix, z, l);
      orthonormalize(q, n, l, it === powerIterations - 1 ? 2 : 1);
    }
    // Bᵀ = Aᵀ Q (terms × l); B Bᵀ = U Σ² Uᵀ; right singular vectors V = Bᵀ U Σ⁻¹.
    const bt = multiplyTransposed(matrix, q, l);
    const gram = new Float64Array(l * l);
    for (let r = 0; r < vocabulary.length; r++) {
      const o = r * l;
      for (let i = 0; i < l; i++) {
        const x = bt[o + i]!;
        if (x === 0) continue;
        for (let j = i; j < l; j++) gram[i * l + j]! += x * bt[o + j]!;
      }
    }
    for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) gram[i * l + j] = gram[j * l + i]!;
    const { values: eigen, vectors: u } = symmetricEigen(gram, l);
    const coef = new Float64Array(l * dimensions);
    for (let k = 0; k < dimensions; k++) {
      const sigma = Math.sqrt(Math.max(eigen[k]!, 0));
      // V·Σ^(e-1) = Bᵀ U Σ^(e-2); a vanishing singular value contributes nothing.
      const f = sigma > 1e-9 ? sigma ** (sigmaExponent - 2) : 0;
      // Fix each vector's sign (largest-magnitude entry of U positive) so it does not depend on rounding.
      let pivot = 0;
      for (let i = 0; i < l; i++) if (Math.abs(u[i * l + k]!) > Math.abs(u[pivot * l + k]!)) pivot = i;
      const sign = u[pivot * l + k]! < 0 ? -1 : 1;
      for (let i = 0; i < l; i++) coef[i * dimensions + k] = u[i * l + k]! * f * sign;
    }
    for (let r = 0; r < vocabulary.length; r++) {
      const o = r * l;
      for (let k = 0; k < dimensions; k++) {
        let s = 0;
        for (let i = 0; i < l; i++) s += bt[o + i]! * coef[i * dimensions + k]!;
        termVectors[r * dimensions + k] = s;
      }
    }
  }
  const epochs = options.epochs ?? epochsFor(n, options.trainingPairs ?? DEFAULT_TRAINING_PAIRS);
  if (epochs > 0 && n > 1) {
    contrastive(documents, index, idf, termVectors, dimensions, {
      epochs,
      learningRate: options.learningRate ?? 0.1,
      temperature: options.temperature ?? 0.1,
      batchSize: options.batchSize ?? 128,
    });
  }
  return { dimensions, vocabulary, idf, termVectors, documents: n };
}

/** A text as term indexes and weights (sublinear tf × idf). */
interface Bag {
  terms: Int32Array;
  weights: Float64Array;
}

function bag(tokens: readonly string[], index: ReadonlyMap<string, number>, idf: Float32Array): Bag {
  const counts = [...termCounts(tokens, index).entries()].sort((a, b) => a[0] - b[0]);
  return {
    terms: Int32Array.from(counts.map(([t]) => t)),
    weights: Float64Array.from(counts.map(([t, tf]) => (1 + Math.log(tf)) * idf[t]!)),
  };
}

const SENTENCE_END = /(?<=[.!?])\s+(?=[A-Z0-9([])/;

/**
 * Inverse cloze training (Lee et al. 2019) of the term vectors in place: a
 * sentence (or the title) of a paper must embed closer to the rest of that
 * paper than to the other papers of its batch (softmax over in-batch
 * negatives). Claims and questions look like such sentences, so this teaches
 * the bag-of-words encoder the paraphrases the corpus itself contains.
 */
function contrastive(
  documents: readonly string[],
  index: ReadonlyMap<string, number>,
  idf: Float32Array,
  vectors: Float32Array,
  d: number,
  o: { epochs: number; learningRate: number; temperature: number; batchSize: number },
): void {
  const vocabularySize = idf.length;
  // Start from the SVD solution, rescaled so an average term vector has length 1.
  const e = Float64Array.from(vectors);
  let total = 0;
  for (let t = 0; t < vocabularySize; t++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += e[t * d + k]! ** 2;
    total += Math.sqrt(s);
  }
  const scale = total > 0 ? vocabularySize / total : 1;
  for (let i = 0; i < e.length; i++) e[i]! *= scale;
  const accumulated = new Float64Array(vocabularySize); // Adagrad, one rate per term
  // Each paper as parts (title, sentences), each part's tokens.
  const parts = documents.map((text) => {
    const [title = '', ...rest] = text.split('\n\n');
    const sentences = rest.join(' ').split(SENTENCE_END);
    return [title, ...sentences].map(tokenize).filter((p) => p.length > 0);
  });
  const usable = parts.map((p, i) => [p, i] as const).filter(([p]) => p.length >= 2).map(([, i]) => i);
  const random = seededRandom(0x1c7);
  const encode = (b: Bag, out: Float64Array): number => {
    out.fill(0);
    for (let j = 0; j < b.terms.length; j++) {
      const w = b.weights[j]!;
      const at = b.terms[j]! * d;
      for (let k = 0; k < d; k++) out[k]! += w * e[at + k]!;
    }
    let s = 0;
    for (let k = 0; k < d; k++) s += out[k]! ** 2;
    const norm = Math.sqrt(s);
    if (norm > 0) for (let k = 0; k < d; k++) out[k]! /= norm;
    return norm;
  };
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = usable.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let b0 = 0; b0 + 1 < order.length; b0 += o.batchSize) {
      const batch = order.slice(b0, b0 + o.batchSize);
      const m = batch.length;
      if (m < 2) break;
      const queries: Bag[] = [];
      const positives: Bag[] = [];
      for (const doc of batch) {
        const p = parts[doc]!;
        const pick = Math.floor(random() * p.length);
        queries.push(bag(p[pick]!, index, idf));
        // Mostly the sentence is left out of the positive, so matching its words is not enough.
        const keep = random() < 0.1;
        positives.push(bag(p.filter((_, i) => keep || i !== pick).flat(), index, idf));
      }
      const q = new Float64Array(m * d);
      const v = new Float64Array(m * d);
      const qNorm = new Float64Array(m);
      const vNorm = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        qNorm[i] = encode(queries[i]!, q.subarray(i * d, (i + 1) * d));
        vNorm[i] = encode(positives[i]!, v.subarray(i * d, (i + 1) * d));
      }
      // Softmax over each query's similarities to every positive of the batch.
      const gq = new Float64Array(m * d);
      const gv = new Float64Array(m * d);
      const row = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let max = -Infinity;
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += q[i * d + k]! * v[j * d + k]!;
          row[j] = s / o.temperature;
          if (row[j]! > max) max = row[j]!;
        }
        let z = 0;
        for (let j = 0; j < m; j++) z += (row[j] = Math.exp(row[j]! - max));
        for (let j = 0; j < m; j++) {
          const c = (row[j]! / z - (i === j ? 1 : 0)) / (m * o.temperature);
          if (c === 0) continue;
          for (let k = 0; k < d; k++) {
            gq[i * d + k]! += c * v[j * d + k]!;
            gv[j * d + k]! += c * q[i * d + k]!;
          }
        }
      }
      // Back through the normalisation (g − (g·x)x)/|u|, then into each term's vector.
      const grad = new Map<number, Float64Array>();
      const backward = (bags: Bag[], x: Float64Array, g: Float64Array, norms: Float64Array): void => {
        for (let i = 0; i < m; i++) {
          if (norms[i]! === 0) continue;
          let gx = 0;
          for (let k = 0; k < d; k++) gx += g[i * d + k]! * x[i * d + k]!;
          const b = bags[i]!;
          for (let j = 0; j < b.terms.length; j++) {
            const t = b.terms[j]!;
            let acc = grad.get(t);
            if (acc === undefined) grad.set(t, (acc = new Float64Array(d)));
            const f = b.weights[j]! / norms[i]!;
            for (let k = 0; k < d; k++) acc[k]! += f * (g[i * d + k]! - gx * x[i * d + k]!);
          }
        }
      };
      backward(queries, q, gq, qNorm);
      backward(positives, v, gv, vNorm);
      for (const t of [...grad.keys()].sort((a, b) => a - b)) {
        const g = grad.get(t)!;
        let s = 0;
        for (let k = 0; k < d; k++) s += g[k]! ** 2;
        accumulated[t]! += s / d;
        const rate = o.learningRate / Math.sqrt(accumulated[t]! + 1e-10);
        for (let k = 0; k < d; k++) e[t * d + k]! -= rate * g[k]!;
      }
    }
  }
  for (let i = 0; i < e.length; i++) vectors[i] = e[i]!;
}

/** Embeds one text with a fitted model: the tf-idf weighted sum of its term vectors, unit length (zero when no term is known). */
export function embedText(model: BuiltinModel, index: ReadonlyMap<string, number>, text: string): Float32Array {
  const d = model.dimensions;
  const acc = new Float64Array(d);
  for (const [term, tf] of termCounts(tokenize(text), index)) {
    const w = (1 + Math.log(tf)) * model.idf[term]!;
    const o = term * d;
    for (let k = 0; k < d; k++) acc[k]! += w * model.termVectors[o + k]!;
  }
  return normalize(Float32Array.from(acc));
}

const MAGIC = [0x50, 0x42, 0x4c, 0x53]; // "PBLS"
const FORMAT = 1;

/** CRC-32 (IEEE), to tell a damaged model from a valid one. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The model as bytes: "PBLS", format byte, dimensions, vocabulary size and
 * document count (u32 LE), then each term (u16 byte length + UTF-8), idf and
 * term vectors (float32 LE), then a CRC-32 of everything before it.
 */
export function serializeBuiltinModel(model: BuiltinModel): Uint8Array {
  const encoder = new TextEncoder();
  const terms = model.vocabulary.map((t) => encoder.encode(t));
  const termBytes = terms.reduce((s, t) => s + 2 + t.length, 0);
  const header = 4 + 1 + 3 * 4;
  const size = header + termBytes + 4 * model.idf.length + 4 * model.termVectors.length + 4;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[4] = FORMAT;
  view.setUint32(5, model.dimensions, true);
  view.setUint32(9, model.vocabulary.length, true);
  view.setUint32(13, model.documents, true);
  let at = header;
  for (const t of terms) {
    if (t.length > 0xffff) throw new RangeError('a vocabulary term is longer than 65535 bytes');
    view.setUint16(at, t.length, true);
    bytes.set(t, at + 2);
    at += 2 + t.length;
  }
  for (const x of model.idf) {
    view.setFloat32(at, x, true);
    at += 4;
  }
  for (const x of model.termVectors) {
    view.setFloat32(at, x, true);
    at += 4;
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

/** The inverse of {@link serializeBuiltinModel}; throws an Error saying what is wrong with damaged bytes. */
export function deserializeBuiltinModel(bytes: Uint8Array): BuiltinModel {
  const fail = (why: string): never => {
    throw new Error(`not a valid built-in embedding model: ${why}`);
  };
  if (bytes.length < 21 || MAGIC.some((b, i) => bytes[i] !== b)) fail('bad header');
  if (bytes[4] !== FORMAT) fail(`format ${bytes[4]}, expected ${FORMAT}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) fail('checksum mismatch');
  const dimensions = view.getUint32(5, true);
  const size = view.getUint32(9, true);
  const documents = view.getUint32(13, true);
  if (dimensions < 1 || dimensions > 4096) fail(`${dimensions} dimensions`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const vocabulary: string[] = [];
  let at = 17;
  for (let i = 0; i < size; i++) {
    if (at + 2 > bytes.length) fail('truncated vocabulary');
    const len = view.getUint16(at, true);
    if (at + 2 + len > bytes.length) fail('truncated vocabulary');
    vocabulary.push(decoder.decode(bytes.subarray(at + 2, at + 2 + len)));
    at += 2 + len;
  }
  if (at + 4 * (size + size * dimensions) + 4 !== bytes.length) fail('length does not match the header');
  const idf = new Float32Array(size);
  for (let i = 0; i < size; i++, at += 4) idf[i] = view.getFloat32(at, true);
  const termVectors = new Float32Array(size * dimensions);
  for (let i = 0; i < termVectors.length; i++, at += 4) termVectors[i] = view.getFloat32(at, true);
  if (!idf.every(Number.isFinite) || !termVectors.every(Number.isFinite)) fail('non-finite numbers');
  return { dimensions, vocabulary, idf, termVectors, documents };
}

/** An Embedder over a fitted model. Documents and queries embed the same way. */
export function builtinEmbedder(model: BuiltinModel, fingerprint: string): Embedder {
  const index = new Map(model.vocabulary.map((t, i) => [t, i]));
  return {
    name: 'builtin',
    fingerprint,
    dimensions: model.dimensions,
    embed(texts: readonly string[], _kind: EmbedKind, signal?: AbortSignal): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (const text of texts) {
        signal?.throwIfAborted();
        out.push(embedText(model, index, text));
      }
      return Promise.resolve(out);
    },
  };
}
