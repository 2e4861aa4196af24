/**
 * An HNSW graph over unit vectors keyed by paper id (usearch), and its files.
 *
 * A saved file's name says everything needed to trust it: the caller's prefix
 * (model, dimensions, format), the sync mark the content is current to, and
 * a hash of the bytes (`<prefix>.<mark>.<hash>.usearch`). It is written under
 * a temporary name, flushed and renamed, so a crash at any point leaves the
 * old file or the new one, never a file whose name claims more than it holds.
 * usearch aborts the whole process on some damaged files rather than
 * throwing, so a file is loaded only when its bytes hash to its name.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';

export interface Neighbour {
  paperId: number;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

export interface AnnParams {
  /** Edges per node (HNSW M). */
  connectivity: number;
  /** Candidates kept while inserting (efConstruction). */
  expansionAdd: number;
  /**
   * Candidates kept while searching (ef). usearch fixes ef when the graph is
   * made, but a search for k > ef keeps k, so a search asks for at least this
   * many and keeps the best: the breadth can change per index and per search.
   */
  expansionSearch: number;
  /** How vectors are held in the graph: half precision halves the memory of float32. */
  quantization: 'f32' | 'f16' | 'i8';
}

/**
 * Chosen by measurement (src/bench/scenarios/ann.ts): on the built-in
 * embedder's vectors of 100k synthetic papers (nearly uniform, the hard case)
 * M 32 / ef_add 128 reaches recall@20 0.97 at ef 1024; on 30k, M 16 at ef 512
 * reached 0.92 where M 32 at ef 256 reached 0.95. The search breadth here is
 * only the fallback for a file saved without its measured breadth: a process
 * measures and picks its own (Calibration). Half precision: the same recall
 * as float32 at half the memory.
 */
export const ANN_PARAMS: AnnParams = { connectivity: 32, expansionAdd: 128, expansionSearch: 1024, quantization: 'f16' };

const SCALAR = { f32: ScalarKind.F32, f16: ScalarKind.F16, i8: ScalarKind.I8 } as const;
const SUFFIX = '.usearch';

export interface VectorEntry {
  paperId: number;
  vector: Float32Array;
}

export class AnnIndex {
  /** Candidates a search looks at (see AnnParams.expansionSearch). */
  breadth: number;
  /** recall@20 against exact search at `breadth`, as last measured on this index's own vectors (null: not measured). */
  recall: number | null = null;

  private constructor(
    private readonly graph: Index,
    readonly dimensions: number,
    params: AnnParams,
  ) {
    this.breadth = params.expansionSearch;
  }

  static create(dimensions: number, params: AnnParams = ANN_PARAMS): AnnIndex {
    return new AnnIndex(AnnIndex.graphOf(dimensions, params), dimensions, params);
  }

  private static graphOf(dimensions: number, params: AnnParams): Index {
    return new Index({
      dimensions,
      metric: MetricKind.IP,
      quantization: SCALAR[params.quantization],
      connectivity: params.connectivity,
      expansion_add: params.expansionAdd,
      // Low, so the breadth asked for per search (at least expansionSearch) decides.
      expansion_search: Math.min(params.expansionSearch, 64),
      multi: false,
    });
  }

  get size(): number {
    return this.graph.size();
  }

  /** Adds or replaces vectors (a key present is removed first: the graph keeps one vector per key). Blocks while it runs: callers chunk. */
  upsert(entries: readonly VectorEntry[], threads = 1): void {
    if (entries.length === 0) return;
    const d = this.dimensions;
    const keys = new BigUint64Array(entries.length);
    const matrix = new Float32Array(entries.length * d);
    const seen = new Set<number>();
    let n = 0;
    // Last write wins within a batch too (usearch rejects a key twice in one add).
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (e === undefined || seen.has(e.paperId)) continue;
      if (e.vector.length !== d) throw new Error(`vector of paper ${e.paperId} has ${e.vector.length} dimensions, the index ${d}`);
      seen.add(e.paperId);
      keys[n] = BigInt(e.paperId);
      matrix.set(e.vector, n * d);
      n++;
    }
    const used = keys.subarray(0, n);
    const present = this.graph.contains(used);
    const stale = used.filter((_, i) => (Array.isArray(present) ? present[i] : present) === true);
    if (stale.length > 0) this.graph.remove(stale);
    this.graph.add(used, matrix.subarray(0, n * d), threads);
  }

  remove(paperIds: readonly number[]): void {
    for (const id of paperIds) if (this.graph.contains(BigInt(id)) === true) this.graph.remove(BigInt(id));
  }

  /** Up to `k` nearest keys, best first, skipping `exclude` (over-fetched so k remain when the graph has them). */
  search(query: Float32Array, k: number, exclude: ReadonlySet<number> = new Set()): Neighbour[] {
    const size = this.size;
    if (k <= 0 || size === 0) return [];
    const wanted = Math.min(size, Math.max(k + exclude.size, this.breadth));
    const matches = this.graph.search(query.subarray(0, this.dimensions), wanted, 1);
    const out: Neighbour[] = [];
    for (let i = 0; i < matches.keys.length && out.length < k; i++) {
      const paperId = Number(matches.keys[i]);
      if (exclude.has(paperId)) continue;
      // Inner-product distance is 1 - dot.
      out.push({ paperId, similarity: 1 - (matches.distances[i] ?? 1) });
    }
    return out;
  }

  /**
   * Saves to `<dir>/<prefix>.<mark>.<hash>.usearch` and removes this prefix's
   * files with an older mark; returns the file. Another process may save the
   * same prefix at the same time: each writes its own temporary file and each
   * name is right about its content, so either result is sound.
   */
  save(dir: string, prefix: string, mark: number): string {
    mkdirSync(dir, { recursive: true });
    removeStaleTemporaries(dir);
    const tmp = join(dir, `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}${SUFFIX}`);
    try {
      this.graph.save(tmp);
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      const file = join(dir, `${prefix}.${mark}.${hashFile(tmp)}${SUFFIX}`);
      renameSync(tmp, file);
      syncDir(dir);
      // What the file's name cannot say, after it: a crash between the two leaves a file without it, which loads with defaults.
      const meta: AnnFileMeta = { format: 1, size: this.size, breadth: this.breadth, recall: this.recall };
      writeFileSync(`${tmp}.json`, JSON.stringify(meta));
      renameSync(`${tmp}.json`, `${file}.json`);
      for (const old of savedAnnFiles(dir, prefix)) {
        if (old.mark >= mark) continue;
        rmSync(old.file, { force: true });
        rmSync(`${old.file}.json`, { force: true });
      }
      return file;
    } catch (err) {
      rmSync(tmp, { force: true });
      rmSync(`${tmp}.json`, { force: true });
      throw err;
    }
  }

  /**
   * Loads a saved file, or returns null (having deleted it) when its bytes do
   * not hash to its name, usearch rejects it, or it holds other dimensions.
   */
  static load(file: SavedAnnFile, dimensions: number, params: AnnParams = ANN_PARAMS): AnnIndex | null {
    try {
      if (hashFile(file.file) !== file.hash) throw new Error('hash differs');
      const graph = AnnIndex.graphOf(dimensions, params);
      graph.load(file.file);
      if (graph.dimensions() !== dimensions) throw new Error('dimensions differ');
      const index = new AnnIndex(graph, dimensions, params);
      const meta = readMeta(`${file.file}.json`);
      if (meta !== null && meta.size === index.size) {
        index.breadth = meta.breadth;
        index.recall = meta.recall;
      }
      return index;
    } catch {
      rmSync(file.file, { force: true });
      rmSync(`${file.file}.json`, { force: true });
      return null;
    }
  }
}

/** The side file `<index file>.json`. */
interface AnnFileMeta {
  format: 1;
  size: number;
  breadth: number;
  recall: number | null;
}

function readMeta(file: string): AnnFileMeta | null {
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Partial<AnnFileMeta>;
    const { size, breadth, recall } = meta;
    if (meta.format !== 1 || !Number.isSafeInteger(size) || !Number.isSafeInteger(breadth) || (breadth ?? 0) < 1 || (breadth ?? 0) > 100_000) return null;
    if (recall !== null && (typeof recall !== 'number' || !(recall >= 0 && recall <= 1))) return null;
    return { format: 1, size: size ?? 0, breadth: breadth ?? 1, recall: recall ?? null };
  } catch {
    return null;
  }
}

export interface SavedAnnFile {
  file: string;
  mark: number;
  hash: string;
}

/** This prefix's saved files in `dir`, newest mark first. */
export function savedAnnFiles(dir: string, prefix: string): SavedAnnFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: SavedAnnFile[] = [];
  for (const name of names) {
    if (!name.startsWith(`${prefix}.`) || !name.endsWith(SUFFIX)) continue;
    const [mark, hash, ...rest] = name.slice(prefix.length + 1, -SUFFIX.length).split('.');
    if (rest.length > 0 || mark === undefined || hash === undefined || !/^\d+$/.test(mark) || !/^[0-9a-f]{32}$/.test(hash)) continue;
    out.push({ file: join(dir, name), mark: Number(mark), hash });
  }
  return out.sort((a, b) => b.mark - a.mark);
}

/** Removes temporary files a crashed save left (older than an hour, so a save running in another process is not hit). */
export function removeStaleTemporaries(dir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.tmp-\d+-(\d+)-/.exec(name);
    if (m !== null && now - Number(m[1]) > 3_600_000) rmSync(join(dir, name), { force: true });
  }
}

function hashFile(file: string): string {
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can sync a directory; the rename itself is still atomic.
  }
}

/** Exact nearest neighbours over a growable matrix: small indexes, and the reference recall is measured against. */
export class ExactVectors {
  private matrix: Float32Array;
  private keys: number[] = [];
  private slots = new Map<number, number>();

  constructor(readonly dimensions: number) {
    this.matrix = new Float32Array(dimensions * 256);
  }

  get size(): number {
    return this.keys.length;
  }

  upsert(entries: readonly VectorEntry[]): void {
    const d = this.dimensions;
    for (const { paperId, vector } of entries) {
      let slot = this.slots.get(paperId);
      if (slot === undefined) {
        slot = this.keys.length;
        if ((slot + 1) * d > this.matrix.length) {
          const grown = new Float32Array(this.matrix.length * 2);
          grown.set(this.matrix);
          this.matrix = grown;
        }
        this.keys.push(paperId);
        this.slots.set(paperId, slot);
      }
      this.matrix.set(vector.subarray(0, d), slot * d);
    }
  }

  remove(paperIds: readonly number[]): void {
    const d = this.dimensions;
    for (const id of paperIds) {
      const slot = this.slots.get(id);
      if (slot === undefined) continue;
      // Move the last vector into the hole.
      const last = this.keys.length - 1;
      const lastKey = this.keys[last] as number;
      this.matrix.copyWithin(slot * d, last * d, (last + 1) * d);
      this.keys[slot] = lastKey;
      this.slots.set(lastKey, slot);
      this.keys.pop();
      this.slots.delete(id);
    }
  }

  search(query: Float32Array, k: number, exclude: ReadonlySet<number> = new Set()): Neighbour[] {
    if (k <= 0) return [];
    const d = this.dimensions;
    const m = this.matrix;
    const q = query.subarray(0, d);
    const best: Neighbour[] = [];
    let floor = -Infinity;
    for (let s = 0, base = 0; s < this.keys.length; s++, base += d) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += (m[base + i] as number) * (q[i] as number);
      if (dot <= floor) continue;
      const paperId = this.keys[s] as number;
      if (exclude.has(paperId)) continue;
      best.push({ paperId, similarity: dot });
      if (best.length >= 2 * k) {
        best.sort((a, b) => b.similarity - a.similarity);
        best.length = k;
        floor = best[k - 1]?.similarity ?? -Infinity;
      }
    }
    best.sort((a, b) => b.similarity - a.similarity);
    if (best.length > k) best.length = k;
    return best;
  }

  *entries(): Generator<VectorEntry> {
    const d = this.dimensions;
    for (let s = 0; s < this.keys.length; s++) yield { paperId: this.keys[s] as number, vector: this.matrix.subarray(s * d, (s + 1) * d) };
  }
}

/** Search breadths a calibration tries, smallest first. */
export const CALIBRATION_BREADTHS = [128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096] as const;
/** What a calibration aims for: above the 0.95 required, since a few dozen probes measure it roughly. */
export const CALIBRATION_TARGET = 0.97;
const CALIBRATION_K = 20;

/**
 * Measures an index's recall on its own vectors and picks the smallest search
 * breadth that reaches the target: how well HNSW does depends on the vectors
 * (embeddings of papers on distinct topics are easy, nearly uniform ones
 * hard), so no fixed ef fits every instance. A few papers' vectors are the
 * probes; every vector the index takes in is also compared with them, so the
 * exact top 20 of each probe is known at the cost of `probes` dot products
 * per vector.
 */
export class Calibration {
  private readonly probes: { paperId: number; query: Float32Array; top: Neighbour[] }[] = [];

  constructor(
    readonly dimensions: number,
    private readonly count = 32,
  ) {}

  private observed = 0;

  /** Takes in vectors as the index does; the first batch's first vectors become the probes (a probe must see every vector). */
  observe(entries: readonly VectorEntry[]): void {
    if (this.observed === 0) {
      for (const { paperId, vector } of entries) {
        if (this.probes.length >= this.count) break;
        if (!this.probes.some((p) => p.paperId === paperId)) this.probes.push({ paperId, query: vector.slice(), top: [] });
      }
    }
    this.observed += entries.length;
    for (const { paperId, vector } of entries) {
      for (const probe of this.probes) {
        const q = probe.query;
        let dot = 0;
        for (let i = 0; i < this.dimensions; i++) dot += (q[i] as number) * (vector[i] as number);
        const top = probe.top;
        const at = top.findIndex((n) => n.paperId === paperId);
        if (at >= 0) top.splice(at, 1);
        if (top.length >= CALIBRATION_K && dot <= (top[top.length - 1]?.similarity ?? -Infinity)) continue;
        let pos = top.length;
        while (pos > 0 && (top[pos - 1]?.similarity ?? 0) < dot) pos--;
        top.splice(pos, 0, { paperId, similarity: dot });
        if (top.length > CALIBRATION_K) top.length = CALIBRATION_K;
      }
    }
  }

  /** recall@20 of `index` at its current breadth against the probes' exact neighbours. */
  recallOf(index: AnnIndex): number {
    let hits = 0;
    let total = 0;
    for (const probe of this.probes) {
      const truth = new Set(probe.top.map((n) => n.paperId));
      total += truth.size;
      for (const n of index.search(probe.query, CALIBRATION_K)) if (truth.has(n.paperId)) hits++;
    }
    return total === 0 ? 1 : hits / total;
  }

  /** Sets `index.breadth` to the smallest that reaches the target (else the largest tried) and `index.recall` to what it measured. */
  async tune(index: AnnIndex): Promise<void> {
    for (const breadth of CALIBRATION_BREADTHS) {
      index.breadth = breadth;
      index.recall = this.recallOf(index);
      if (index.recall >= CALIBRATION_TARGET) return;
      // Wider searches take longer: let requests run between them.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
