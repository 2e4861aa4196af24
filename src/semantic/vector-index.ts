/**
 * This process's nearest-neighbour index of the active model's paper vectors,
 * kept like the keyword index in server mode (docs/decisions/009): derived
 * from the database, caught up from the write stamps before each search, and
 * saved under the data directory so a restart does not rebuild it.
 *
 * Small instances search exactly over the vectors in memory (a few ms at
 * EXACT_MAX); past that an HNSW graph (usearch, half-precision) answers.
 * Saved files are named by model and sync mark (`model-7.123456.usearch`),
 * written to a temporary name and renamed, so whatever a crash or another
 * process leaves, a file's name says which writes it holds: a process loads
 * the newest file of its model and reads on from its mark. Rows read twice
 * are upserts.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { onClose, type Database } from '../db/connection.js';
import { activeModel, vectorsAfter, vectorSyncMark, type EmbeddingModel } from '../db/vector-store.js';

export interface Neighbour {
  paperId: number;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

/** Up to this many vectors are searched exactly; above, the HNSW graph is built and used. */
export const EXACT_MAX = 20_000;
/** HNSW parameters (recall measured in BENCHMARKS.md). */
export const HNSW = { connectivity: 16, expansionAdd: 128, expansionSearch: 128 } as const;
const SYNC_BATCH = 2_000;
/** Vectors added to the graph per native call: each blocks the event loop (about 0.1 s). */
const ADD_CHUNK = 250;
/** Save the graph after this many new vectors, or this long after the last save when anything changed. */
const SAVE_AFTER_VECTORS = 20_000;
const SAVE_AFTER_MS = 60_000;

const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Exact search over vectors held in one growable matrix. */
class ExactVectors {
  private matrix: Float32Array;
  private keys: number[] = [];
  private slots = new Map<number, number>();

  constructor(private readonly dims: number) {
    this.matrix = new Float32Array(dims * 1024);
  }

  get size(): number {
    return this.keys.length;
  }

  upsert(paperId: number, vector: Float32Array): void {
    let slot = this.slots.get(paperId);
    if (slot === undefined) {
      slot = this.keys.length;
      if ((slot + 1) * this.dims > this.matrix.length) {
        const grown = new Float32Array(this.matrix.length * 2);
        grown.set(this.matrix);
        this.matrix = grown;
      }
      this.keys.push(paperId);
      this.slots.set(paperId, slot);
    }
    this.matrix.set(vector.subarray(0, this.dims), slot * this.dims);
  }

  search(query: Float32Array, k: number, exclude: ReadonlySet<number>): Neighbour[] {
    const d = this.dims;
    const best: Neighbour[] = [];
    let floor = -Infinity;
    for (let s = 0; s < this.keys.length; s++) {
      let dot = 0;
      const base = s * d;
      for (let i = 0; i < d; i++) dot += (this.matrix[base + i] ?? 0) * (query[i] ?? 0);
      if (best.length >= k && dot <= floor) continue;
      const paperId = this.keys[s] ?? 0;
      if (exclude.has(paperId)) continue;
      best.push({ paperId, similarity: dot });
      if (best.length > k) {
        best.sort((a, b) => b.similarity - a.similarity);
        best.length = k;
        floor = best[k - 1]?.similarity ?? -Infinity;
      }
    }
    return best.sort((a, b) => b.similarity - a.similarity);
  }

  *entries(): Generator<[number, Float32Array]> {
    for (let s = 0; s < this.keys.length; s++) yield [this.keys[s] ?? 0, this.matrix.subarray(s * this.dims, (s + 1) * this.dims)];
  }
}

function newGraph(dims: number): Index {
  return new Index({
    dimensions: dims,
    metric: MetricKind.IP,
    quantization: ScalarKind.F16,
    connectivity: HNSW.connectivity,
    expansion_add: HNSW.expansionAdd,
    expansion_search: HNSW.expansionSearch,
    multi: false,
  });
}

/** One model's index in this process. */
class ModelIndex {
  private exact: ExactVectors | null;
  private graph: Index | null = null;
  /** Resume the next sync from here (see vectorSyncMark). */
  private mark = 0;
  private savedMark = 0;
  private sinceSave = 0;
  private lastSaveAt = Date.now();
  private syncing: Promise<void> | null = null;
  caughtUp = false;
  loadedFromFile = false;

  constructor(
    private readonly database: Database,
    readonly model: EmbeddingModel,
    private readonly dir: string | undefined,
  ) {
    this.exact = new ExactVectors(model.dimensions);
    this.load();
  }

  get size(): number {
    return this.graph?.size() ?? this.exact?.size ?? 0;
  }

  private filePrefix(): string {
    return `model-${this.model.id}.`;
  }

  /** Saved files of this model, newest mark first. */
  private savedFiles(): { file: string; mark: number }[] {
    if (this.dir === undefined) return [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const prefix = this.filePrefix();
    return names
      .filter((n) => n.startsWith(prefix) && n.endsWith('.usearch'))
      .map((n) => ({ file: join(this.dir ?? '', n), mark: Number(n.slice(prefix.length, -'.usearch'.length)) }))
      .filter((f) => Number.isSafeInteger(f.mark))
      .sort((a, b) => b.mark - a.mark);
  }

  private load(): void {
    for (const { file, mark } of this.savedFiles()) {
      try {
        const graph = newGraph(this.model.dimensions);
        graph.load(file);
        if (graph.dimensions() !== this.model.dimensions) throw new Error('dimensions differ');
        this.graph = graph;
        this.exact = null;
        this.mark = mark;
        this.savedMark = mark;
        this.loadedFromFile = true;
        return;
      } catch {
        // A damaged or foreign file: try an older one, else build from the database.
        rmSync(file, { force: true });
      }
    }
  }

  private upsertGraph(graph: Index, batch: readonly { paperId: number; vector: Float32Array }[]): void {
    const dims = this.model.dimensions;
    const keys = new BigUint64Array(batch.length);
    const matrix = new Float32Array(batch.length * dims);
    batch.forEach((v, i) => {
      keys[i] = BigInt(v.paperId);
      matrix.set(v.vector.subarray(0, dims), i * dims);
      if (graph.contains(keys[i] ?? 0n)) graph.remove(keys[i] ?? 0n);
    });
    graph.add(keys, matrix, 0);
  }

  private async addAll(batch: readonly { paperId: number; vector: Float32Array }[]): Promise<void> {
    if (this.graph === null && this.exact !== null) {
      for (const v of batch) this.exact.upsert(v.paperId, v.vector);
      if (this.exact.size <= EXACT_MAX) return;
      // Past the exact limit: move everything into a graph, in chunks so requests keep being served.
      const graph = newGraph(this.model.dimensions);
      const pending: { paperId: number; vector: Float32Array }[] = [];
      for (const [paperId, vector] of this.exact.entries()) {
        pending.push({ paperId, vector: vector.slice() });
        if (pending.length >= ADD_CHUNK) {
          this.upsertGraph(graph, pending.splice(0));
          await yieldToOthers();
        }
      }
      if (pending.length > 0) this.upsertGraph(graph, pending);
      this.graph = graph;
      this.exact = null;
      this.sinceSave = SAVE_AFTER_VECTORS;
      return;
    }
    const graph = this.graph;
    if (graph === null) return;
    for (let i = 0; i < batch.length; i += ADD_CHUNK) {
      this.upsertGraph(graph, batch.slice(i, i + ADD_CHUNK));
      if (i + ADD_CHUNK < batch.length) await yieldToOthers();
    }
  }

  /** Applies every vector written since the last sync (one sync at a time; callers share it). */
  sync(): Promise<void> {
    this.syncing ??= this.runSync().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async runSync(): Promise<void> {
    const next = await vectorSyncMark(this.database, this.model.id);
    let cursor = { stamp: this.mark, paperId: -1 };
    for (;;) {
      const batch = await vectorsAfter(this.database, this.model.id, cursor, SYNC_BATCH);
      const last = batch.at(-1);
      if (last === undefined) break;
      await this.addAll(batch);
      this.sinceSave += batch.length;
      cursor = { stamp: last.stamp, paperId: last.paperId };
      if (batch.length < SYNC_BATCH) break;
    }
    this.mark = next;
    this.caughtUp = true;
    this.maybeSave();
  }

  private maybeSave(now = Date.now()): void {
    if (this.graph === null || this.dir === undefined || this.mark === this.savedMark) return;
    if (this.sinceSave < SAVE_AFTER_VECTORS && now - this.lastSaveAt < SAVE_AFTER_MS) return;
    this.save();
  }

  save(): void {
    if (this.graph === null || this.dir === undefined) return;
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `.tmp-${process.pid}-${Date.now()}.usearch`);
    this.graph.save(tmp);
    renameSync(tmp, join(this.dir, `${this.filePrefix()}${this.mark}.usearch`));
    this.savedMark = this.mark;
    this.sinceSave = 0;
    this.lastSaveAt = Date.now();
    for (const old of this.savedFiles().slice(1)) rmSync(old.file, { force: true });
  }

  search(query: Float32Array, k: number, exclude: ReadonlySet<number>): Neighbour[] {
    if (k <= 0) return [];
    if (this.graph === null) return this.exact?.search(query, k, exclude) ?? [];
    const size = this.graph.size();
    if (size === 0) return [];
    const wanted = Math.min(size, k + exclude.size);
    const matches = this.graph.search(query.subarray(0, this.model.dimensions), wanted, 0);
    const out: Neighbour[] = [];
    for (let i = 0; i < matches.keys.length && out.length < k; i++) {
      const paperId = Number(matches.keys[i]);
      if (exclude.has(paperId)) continue;
      out.push({ paperId, similarity: 1 - (matches.distances[i] ?? 1) });
    }
    return out;
  }
}

interface ProcessIndex {
  current: ModelIndex | null;
}

const indexes = new WeakMap<Database, ProcessIndex>();

function vectorDir(database: Database): string | undefined {
  return database.dataDir === undefined ? undefined : join(database.dataDir, 'vectors');
}

/** This process's index of `modelId`, switching when the active model changes. */
async function indexFor(database: Database, modelId: number): Promise<ModelIndex | null> {
  let state = indexes.get(database);
  if (state === undefined) {
    state = { current: null };
    indexes.set(database, state);
    const closing = state;
    onClose(database, async () => {
      await closing.current?.sync().catch(() => {});
      closing.current?.save();
    });
  }
  if (state.current?.model.id === modelId) return state.current;
  const active = await activeModel(database);
  if (active === null || active.id !== modelId) return null;
  state.current = new ModelIndex(database, active, vectorDir(database));
  return state.current;
}

/**
 * The `k` papers whose vectors of `modelId` are nearest to `vector`, best
 * first. Syncs the index with the database first, so a vector committed
 * anywhere is found on the next call. Papers in `exclude` are left out. Only
 * the active model is indexed; another model id gives no neighbours.
 */
export async function nearestPapers(
  database: Database,
  modelId: number,
  vector: Float32Array,
  k: number,
  options: { exclude?: ReadonlySet<number> } = {},
): Promise<Neighbour[]> {
  const index = await indexFor(database, modelId);
  if (index === null) return [];
  await index.sync();
  return index.search(vector, Math.floor(k), options.exclude ?? new Set());
}

/** Drops this data directory's index files of the active model and builds one afresh from the stored vectors (`paperboy reindex`). */
export async function rebuildVectorIndex(database: Database): Promise<{ vectors: number; seconds: number }> {
  const started = Date.now();
  const model = await activeModel(database);
  if (model === null) return { vectors: 0, seconds: 0 };
  const dir = vectorDir(database);
  if (dir !== undefined) {
    try {
      for (const name of readdirSync(dir)) if (name.endsWith('.usearch')) rmSync(join(dir, name), { force: true });
    } catch {
      // No directory yet: nothing to drop.
    }
  }
  const index = new ModelIndex(database, model, dir);
  await index.sync();
  index.save();
  indexes.set(database, { current: index });
  return { vectors: index.size, seconds: (Date.now() - started) / 1000 };
}

export interface VectorIndexStatus {
  modelId: number | null;
  /** Vectors in this process's index. */
  size: number;
  caughtUp: boolean;
  /** Whether the index started from a saved file rather than the database. */
  loadedFromFile: boolean;
}

export async function vectorIndexStatus(database: Database): Promise<VectorIndexStatus> {
  const current = indexes.get(database)?.current ?? null;
  if (current === null) return { modelId: (await activeModel(database))?.id ?? null, size: 0, caughtUp: false, loadedFromFile: false };
  return { modelId: current.model.id, size: current.size, caughtUp: current.caughtUp, loadedFromFile: current.loadedFromFile };
}
