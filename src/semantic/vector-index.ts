/**
 * This process's nearest-neighbour index of the active model's paper vectors,
 * kept like the keyword index in server mode (docs/decisions/009): derived
 * from the database, caught up from the write stamps before each search, and
 * saved under the data directory so a restart does not rebuild it.
 *
 * Small instances search exactly over the vectors in memory (a few ms at
 * EXACT_MAX); past that an HNSW graph (src/semantic/ann-index.ts) answers,
 * searching as wide as it must to keep recall@20 at or above 0.95: a process
 * that builds the graph measures recall on its own vectors as they stream in
 * and picks the search breadth (Calibration), saved with the file.
 * Saved files are named by model, sync mark and content hash, written to a
 * temporary name and renamed, so whatever a crash or another process leaves,
 * a file's name says which writes it holds: a process (a new one too, seeded
 * by whichever process saved last) loads the newest file of its model and
 * reads on from its mark. Rows read twice are upserts. Processes sharing a
 * data directory need no lock: each saves to a name of its own making, and
 * every such name is true of its content.
 *
 * A paper deleted (or retitled, until the embed job writes its new vector)
 * keeps its old vector in the graph; searches check their results against
 * the stored vectors and drop such papers from the graph.
 */
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onClose, type Database } from '../db/connection.js';
import { activeModel, vectorsAfter, vectorSyncMark, type EmbeddingModel } from '../db/vector-store.js';
import { AnnIndex, ANN_PARAMS, Calibration, ExactVectors, removeStaleTemporaries, savedAnnFiles, type Neighbour, type VectorEntry } from './ann-index.js';

export type { Neighbour } from './ann-index.js';

/** Up to this many vectors are searched exactly (about 4 ms); above, the HNSW graph is built and used. */
export const EXACT_MAX = 5_000;

/** Knobs tests turn down (a small EXACT_MAX exercises the graph on a few vectors). */
export const vectorIndexTuning = {
  exactMax: EXACT_MAX,
  /** Vectors read from the database per query while catching up. */
  syncBatch: 2_000,
  /**
   * Vectors added to the graph per native call once it serves searches: each
   * call blocks the event loop (at 100k vectors, M 32: about 1-2 ms a vector).
   */
  addChunk: 32,
  /**
   * ... and while it is first built, on every core: searches by meaning answer
   * by keyword until then, but each call still holds up other requests while it
   * runs (not measured at this size; a build in a worker thread would not).
   */
  buildChunk: 500,
  /** Save after this many new vectors (or this share of the index, if more) ... */
  saveAfterVectors: 20_000,
  saveAfterShare: 0.05,
  /** ... or this long after the last save when anything changed. */
  saveAfterMs: 10 * 60_000,
  /**
   * How long a search asked for by a person waits for the index to catch up.
   * Past it, a search answers from the index as it is, or, while a process
   * builds its first index (minutes at a million papers), is told the index is
   * warming up, so the page answers by keyword instead of hanging.
   */
  interactiveWaitMs: 1_000,
};

/** Thrown by an interactive {@link nearestPapers} while this process still builds its first index of the model. */
export class VectorIndexWarming extends Error {
  constructor(readonly indexed: number) {
    super(`this server is still building its index for search by meaning (${indexed} papers so far)`);
    this.name = 'VectorIndexWarming';
  }
}

const FILE_FORMAT = 1;
const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One model's index in this process. */
class ModelIndex {
  private exact: ExactVectors | null;
  private graph: AnnIndex | null = null;
  /** Resume the next sync from here (see vectorSyncMark). */
  private mark = 0;
  private savedMark = 0;
  private sinceSave = 0;
  private lastSaveAt = Date.now();
  private running: Promise<void> | null = null;
  private again: Promise<void> | null = null;
  caughtUp = false;
  loadedFromFile = false;
  /** Vectors this index read from the database (a restart that loads a file reads only what came after it). */
  vectorsRead = 0;
  /** Times the graph was built from the stored vectors rather than loaded. */
  graphBuilds = 0;
  private calibration: Calibration | null = null;
  /** Graph size at the last calibration: recalibrate when it has grown by a tenth. */
  private calibratedAt = 0;

  constructor(
    private readonly database: Database,
    readonly model: EmbeddingModel,
    private readonly dir: string | undefined,
    options: { load: boolean },
  ) {
    this.exact = new ExactVectors(model.dimensions);
    if (options.load) this.load();
    // Built from the stored vectors: measure recall as they stream in (a loaded file keeps the breadth it was saved with).
    if (!this.loadedFromFile) this.calibration = new Calibration(model.dimensions);
  }

  /** The search breadth and the recall measured at it (null before the graph, or when loaded from a file saved without them). */
  get tuning(): { breadth: number | null; recall: number | null } {
    return { breadth: this.graph?.breadth ?? null, recall: this.graph?.recall ?? null };
  }

  get size(): number {
    return this.graph?.size ?? this.exact?.size ?? 0;
  }

  get kind(): 'exact' | 'hnsw' {
    return this.graph === null ? 'exact' : 'hnsw';
  }

  /** Names this model's files: a file of another database's model 7, or other graph parameters, never matches. */
  get prefix(): string {
    const m = this.model;
    const key = createHash('sha1')
      .update(JSON.stringify([FILE_FORMAT, m.id, m.embedder, m.fingerprint, m.createdAt, m.dimensions, ANN_PARAMS]))
      .digest('hex')
      .slice(0, 12);
    return `model-${m.id}-${key}`;
  }

  private load(): void {
    if (this.dir === undefined) return;
    removeStaleTemporaries(this.dir);
    for (const saved of savedAnnFiles(this.dir, this.prefix)) {
      // A damaged file is deleted; another process may also have replaced it meanwhile: try the next.
      const graph = AnnIndex.load(saved, this.model.dimensions);
      if (graph === null) continue;
      this.graph = graph;
      this.exact = null;
      this.mark = saved.mark;
      this.savedMark = saved.mark;
      this.loadedFromFile = true;
      return;
    }
  }

  private async apply(batch: readonly VectorEntry[]): Promise<void> {
    this.calibration?.observe(batch);
    if (this.graph === null && this.exact !== null) {
      this.exact.upsert(batch);
      if (this.exact.size <= vectorIndexTuning.exactMax) return;
      // Past the exact limit: move everything into a graph, in chunks so requests keep being served.
      const graph = AnnIndex.create(this.model.dimensions);
      let pending: VectorEntry[] = [];
      for (const entry of this.exact.entries()) {
        pending.push(entry);
        if (pending.length >= vectorIndexTuning.buildChunk) {
          graph.upsert(pending, 0);
          pending = [];
          await yieldToOthers();
        }
      }
      graph.upsert(pending, 0);
      this.graph = graph;
      this.exact = null;
      this.graphBuilds += 1;
      return;
    }
    const graph = this.graph;
    if (graph === null) return;
    // Still catching up on a first build (searches by meaning answer by keyword meanwhile): bigger chunks on every core.
    const [chunk, threads] = this.caughtUp ? [vectorIndexTuning.addChunk, 1] : [vectorIndexTuning.buildChunk, 0];
    for (let i = 0; i < batch.length; i += chunk) {
      graph.upsert(batch.slice(i, i + chunk), threads);
      if (i + chunk < batch.length) await yieldToOthers();
    }
  }

  /**
   * Brings the index up to everything committed before this call: joins a
   * sync that starts after it, or runs one after the running one (whose mark
   * may predate this call's commit).
   */
  sync(): Promise<void> {
    if (this.running === null) {
      this.running = this.syncOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.again ??= this.running
      .catch(() => {})
      .then(() => {
        this.again = null;
        return this.sync();
      });
    return this.again;
  }

  private async syncOnce(): Promise<void> {
    const next = await vectorSyncMark(this.database, this.model.id);
    let cursor = { stamp: this.mark, paperId: -1 };
    for (;;) {
      const batch = await vectorsAfter(this.database, this.model.id, cursor, vectorIndexTuning.syncBatch);
      const last = batch.at(-1);
      if (last === undefined) break;
      await this.apply(batch);
      this.vectorsRead += batch.length;
      this.sinceSave += batch.length;
      cursor = { stamp: last.stamp, paperId: last.paperId };
      if (batch.length < vectorIndexTuning.syncBatch) break;
      // A long catch-up (a first build reads every vector) lets requests run between batches.
      await yieldToOthers();
    }
    this.mark = next;
    const graph = this.graph;
    if (graph !== null && this.calibration !== null && graph.size >= this.calibratedAt * 1.1) {
      await this.calibration.tune(graph);
      this.calibratedAt = graph.size;
    }
    this.caughtUp = true;
    this.maybeSave();
  }

  private maybeSave(now = Date.now()): void {
    if (this.graph === null || this.dir === undefined || this.mark === this.savedMark) return;
    const enough = Math.max(vectorIndexTuning.saveAfterVectors, vectorIndexTuning.saveAfterShare * this.size);
    if (this.savedMark !== 0 && this.sinceSave < enough && now - this.lastSaveAt < vectorIndexTuning.saveAfterMs) return;
    // Off the request that triggered the sync; a failure (full disk) costs only a rebuild later.
    setImmediate(() => {
      try {
        this.save();
      } catch {
        // Kept in memory; the next save tries again.
      }
    });
  }

  save(): void {
    if (this.graph === null || this.dir === undefined || this.mark === this.savedMark) return;
    const mark = this.mark;
    this.graph.save(this.dir, this.prefix, mark);
    this.savedMark = mark;
    this.sinceSave = 0;
    this.lastSaveAt = Date.now();
  }

  search(query: Float32Array, k: number, exclude: ReadonlySet<number>): Neighbour[] {
    if (query.length !== this.model.dimensions) throw new Error(`query has ${query.length} dimensions, model ${this.model.id} ${this.model.dimensions}`);
    return this.graph?.search(query, k, exclude) ?? this.exact?.search(query, k, exclude) ?? [];
  }

  remove(paperIds: readonly number[]): void {
    this.graph?.remove(paperIds);
    this.exact?.remove(paperIds);
  }

  /** Deletes files of other (older) models: they are retired and never come back. */
  dropOtherModelFiles(): void {
    if (this.dir === undefined) return;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = /^model-(\d+)-/.exec(name);
      if (m !== null && Number(m[1]) < this.model.id) rmSync(join(this.dir, name), { force: true });
    }
  }
}

interface ProcessIndex {
  current: ModelIndex | null;
  /** An index built for a model before it became active ({@link prepareVectorIndex}), handed over when it does. */
  prepared: ModelIndex | null;
}

const indexes = new WeakMap<Database, ProcessIndex>();

function vectorDir(database: Database): string | undefined {
  return database.dataDir === undefined ? undefined : join(database.dataDir, 'vectors');
}

function processIndex(database: Database): ProcessIndex {
  let state = indexes.get(database);
  if (state === undefined) {
    const created: ProcessIndex = { current: null, prepared: null };
    indexes.set(database, created);
    onClose(database, async () => {
      const index = created.current;
      if (index === null) return;
      // What it holds now, under the mark it holds it to; a sync would only delay the close.
      try {
        index.save();
      } catch {
        // A restart rebuilds what this file would have held.
      }
    });
    state = created;
  }
  return state;
}

/** This process's index of `modelId`, switching when the active model changes; null when `modelId` is not active. */
async function indexFor(database: Database, modelId: number): Promise<ModelIndex | null> {
  const state = processIndex(database);
  if (state.current?.model.id === modelId) return state.current;
  const active = await activeModel(database);
  if (active === null || active.id !== modelId) return null;
  if (state.current?.model.id === modelId) return state.current;
  const index = state.prepared?.model.id === modelId ? state.prepared : new ModelIndex(database, active, vectorDir(database), { load: true });
  state.current = index;
  state.prepared = null;
  index.dropOtherModelFiles();
  return index;
}

/** Keeps those neighbours whose vectors are still stored; drops the others from the index. */
async function stillStored(database: Database, index: ModelIndex, found: Neighbour[]): Promise<Neighbour[]> {
  if (found.length === 0) return found;
  const rows = await database.db
    .selectFrom('paper_vectors')
    .select('paper_id')
    .where('model_id', '=', index.model.id)
    .where(
      'paper_id',
      'in',
      found.map((n) => n.paperId),
    )
    .execute();
  const stored = new Set(rows.map((r) => Number(r.paper_id)));
  const gone = found.filter((n) => !stored.has(n.paperId)).map((n) => n.paperId);
  if (gone.length === 0) return found;
  index.remove(gone);
  return found.filter((n) => stored.has(n.paperId));
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
  options: {
    exclude?: ReadonlySet<number>;
    /** A person waits for the answer: wait at most `vectorIndexTuning.interactiveWaitMs` for the index (jobs wait for it). */
    interactive?: boolean;
  } = {},
): Promise<Neighbour[]> {
  const wanted = Math.floor(k);
  if (!(wanted > 0)) return [];
  const index = await indexFor(database, modelId);
  if (index === null) return [];
  const synced = index.sync();
  if (options.interactive === true) {
    let timer: NodeJS.Timeout | undefined;
    const caughtUp = await Promise.race([
      synced.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), vectorIndexTuning.interactiveWaitMs))),
    ]).finally(() => clearTimeout(timer));
    if (!caughtUp) {
      // The sync goes on; whatever it ends with, the next search sees it.
      synced.catch(() => {});
      if (!index.caughtUp) throw new VectorIndexWarming(index.size);
    }
  } else await synced;
  const exclude = options.exclude ?? new Set<number>();
  // Searched once more (asking for more) when papers deleted since they were indexed took places.
  for (let attempt = 0; ; attempt++) {
    const found = index.search(vector, wanted, exclude);
    const kept = await stillStored(database, index, found);
    if (kept.length === found.length || found.length < wanted || attempt === 1) return kept;
  }
}

/**
 * Starts catching this process's index up in the background (e.g. at server
 * start), so the first search does not wait for a build. Never rejects.
 */
export function warmVectorIndex(database: Database): Promise<void> {
  return (async () => {
    const model = await activeModel(database);
    if (model === null) return;
    const index = await indexFor(database, model.id);
    await index?.sync();
  })().catch(() => {});
}

/**
 * Builds (or catches up from a saved file) the index of a model that is about
 * to become active, and saves it: the embed job calls this once a building
 * model has every vector and before activating it. This process then switches
 * to it at once, and every process of this data directory loads the file in
 * seconds instead of building the graph itself (5 to 30 minutes at a million
 * papers, by how clustered the vectors are) while answering by keyword. Until
 * the switch this process holds both models' graphs (about 0.8 GB each at 1M).
 */
export async function prepareVectorIndex(database: Database, model: EmbeddingModel): Promise<{ vectors: number; seconds: number }> {
  const started = Date.now();
  const state = processIndex(database);
  const index = state.prepared?.model.id === model.id ? state.prepared : new ModelIndex(database, model, vectorDir(database), { load: true });
  state.prepared = index;
  await index.sync();
  index.save();
  return { vectors: index.size, seconds: (Date.now() - started) / 1000 };
}

/** Drops this data directory's index files of the active model and builds one afresh from the stored vectors (`paperboy reindex`). */
export async function rebuildVectorIndex(database: Database): Promise<{ vectors: number; seconds: number }> {
  const started = Date.now();
  const model = await activeModel(database);
  if (model === null) return { vectors: 0, seconds: 0 };
  const dir = vectorDir(database);
  const index = new ModelIndex(database, model, dir, { load: false });
  if (dir !== undefined) for (const saved of savedAnnFiles(dir, index.prefix)) rmSync(saved.file, { force: true });
  await index.sync();
  index.save();
  index.dropOtherModelFiles();
  processIndex(database).current = index;
  return { vectors: index.size, seconds: (Date.now() - started) / 1000 };
}

export interface VectorIndexStatus {
  modelId: number | null;
  /** Vectors in this process's index. */
  size: number;
  caughtUp: boolean;
  /** Whether the index started from a saved file rather than the database. */
  loadedFromFile: boolean;
  /** `exact` below EXACT_MAX vectors, `hnsw` above; `none` before the first search. */
  kind: 'none' | 'exact' | 'hnsw';
  /** Vectors read from the database since this process opened the index. */
  vectorsRead: number;
  /** Times this process built the graph from the stored vectors (0 after loading a file). */
  graphBuilds: number;
  /** HNSW search breadth (ef) in use, chosen by measuring recall on this index's own vectors; null for exact search. */
  breadth: number | null;
  /** recall@20 against exact search at that breadth, on a few dozen of the index's vectors (null: exact, or not measured). */
  recall: number | null;
}

export async function vectorIndexStatus(database: Database): Promise<VectorIndexStatus> {
  const current = indexes.get(database)?.current ?? null;
  if (current === null) {
    const modelId = (await activeModel(database))?.id ?? null;
    return { modelId, size: 0, caughtUp: false, loadedFromFile: false, kind: 'none', vectorsRead: 0, graphBuilds: 0, breadth: null, recall: null };
  }
  return {
    modelId: current.model.id,
    size: current.size,
    caughtUp: current.caughtUp,
    loadedFromFile: current.loadedFromFile,
    kind: current.kind,
    vectorsRead: current.vectorsRead,
    graphBuilds: current.graphBuilds,
    ...current.tuning,
  };
}
