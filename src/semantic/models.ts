/**
 * Which model embeds papers and queries, and how models come and go
 * (docs/decisions/013-semantic-search.md). The built-in model is fitted on a
 * sample of the instance's own papers, in a worker thread so the web keeps
 * answering, and refitted when the corpus has doubled; an external embedder
 * (ONNX, OpenAI-compatible) is a model without parameters. A new model is
 * `building` until every paper has its vector, then replaces the active one, so
 * queries and the index always use one complete model.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { EmbedderConfig } from '../config.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import {
  activateModel,
  activeModel,
  buildingModel,
  createModel,
  modelState,
  type EmbeddingModel,
} from '../db/vector-store.js';
import { BUILTIN_VERSION, builtinEmbedder, deserializeBuiltinModel, FIT_SAMPLE_MAX } from './builtin.js';
import type { Embedder } from './embedder.js';
import { onnxEmbedder } from './onnx.js';
import { openaiEmbedder } from './openai.js';
import { sql } from 'kysely';

/** The built-in model is refitted once the corpus has grown to this multiple of what it was fitted on. */
export const REFIT_GROWTH = 2;
/** ... and by at least this many papers, so a small instance does not refit at every import. */
export const REFIT_MIN_NEW = 1_000;
/** How long a process trusts its idea of the active model before asking the database again. */
const ACTIVE_TTL_MS = 2_000;

/** What EMBEDDER says, as stored in `embedding_models.embedder`. */
export function embedderName(config: EmbedderConfig): string {
  if (config.kind === 'onnx') return `onnx:${config.dir}`;
  if (config.kind === 'openai') return `openai:${config.url}`;
  return 'builtin';
}

interface ProcessModels {
  active: { at: number; model: Promise<EmbeddingModel | null> } | null;
  embedders: Map<number, Promise<Embedder>>;
  configured: Promise<Embedder> | null;
}

const perDatabase = new WeakMap<Database, ProcessModels>();

function state(database: Database): ProcessModels {
  let s = perDatabase.get(database);
  if (s === undefined) {
    s = { active: null, embedders: new Map(), configured: null };
    perDatabase.set(database, s);
  }
  return s;
}

/** The external embedder EMBEDDER names, made once per process (the built-in one comes from a stored model). */
function configuredEmbedder(ctx: AppContext): Promise<Embedder> {
  const s = state(ctx.database);
  const config = ctx.config.embedder;
  if (config.kind === 'builtin') throw new Error('the built-in embedder is loaded from its stored model');
  s.configured ??= (config.kind === 'onnx' ? onnxEmbedder(config) : openaiEmbedder(config)).catch((err: unknown) => {
    s.configured = null;
    throw err;
  });
  return s.configured;
}

async function loadEmbedder(ctx: AppContext, model: EmbeddingModel): Promise<Embedder> {
  if (model.embedder === 'builtin') {
    const bytes = await modelState(ctx.database, model.id);
    if (bytes === null) throw new Error(`built-in model ${model.id} has no stored parameters`);
    return builtinEmbedder(deserializeBuiltinModel(bytes), model.fingerprint);
  }
  if (model.embedder !== embedderName(ctx.config.embedder)) {
    throw new Error(`model ${model.id} was made by ${model.embedder}, but EMBEDDER is now ${embedderName(ctx.config.embedder)}`);
  }
  const embedder = await configuredEmbedder(ctx);
  if (embedder.fingerprint !== model.fingerprint) {
    throw new Error(`model ${model.id} has fingerprint ${model.fingerprint}, but ${embedder.name} now gives ${embedder.fingerprint}`);
  }
  return embedder;
}

/** The embedder of a stored model, loaded once per process. */
export function embedderOf(ctx: AppContext, model: EmbeddingModel): Promise<Embedder> {
  const { embedders } = state(ctx.database);
  let embedder = embedders.get(model.id);
  if (embedder === undefined) {
    embedder = loadEmbedder(ctx, model).catch((err: unknown) => {
      embedders.delete(model.id);
      throw err;
    });
    embedders.set(model.id, embedder);
  }
  return embedder;
}

/** The active model, asked of the database at most every {@link ACTIVE_TTL_MS}. */
export function currentModel(database: Database, now = Date.now()): Promise<EmbeddingModel | null> {
  const s = state(database);
  if (s.active === null || now - s.active.at > ACTIVE_TTL_MS) {
    const model = activeModel(database);
    s.active = { at: now, model };
    model.catch(() => {
      s.active = null;
    });
  }
  return s.active.model;
}

/** The active model and its embedder; null before the first model is complete. */
export async function embedderFor(ctx: AppContext): Promise<{ model: EmbeddingModel; embedder: Embedder } | null> {
  const model = await currentModel(ctx.database);
  if (model === null) return null;
  return { model, embedder: await embedderOf(ctx, model) };
}

/** A query's vector under the active model; null when there is no active model yet. */
export async function embedQuery(ctx: AppContext, text: string): Promise<{ modelId: number; vector: Float32Array } | null> {
  const active = await embedderFor(ctx);
  if (active === null) return null;
  const [vector] = await active.embedder.embed([text], 'query');
  if (vector === undefined) throw new Error('the embedder returned no vector');
  return { modelId: active.model.id, vector };
}

async function paperCount(database: Database): Promise<number> {
  const row = await database.db.selectFrom('papers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The documents the built-in model is fitted on: every paper while there are
 * at most FIT_SAMPLE_MAX, else an even sample by id. The same corpus always
 * gives the same sample, so the same model.
 */
export async function fitSample(database: Database, papers: number): Promise<string[]> {
  const step = Math.max(1, Math.ceil(papers / FIT_SAMPLE_MAX));
  const rows = await database.db
    .selectFrom('papers')
    .select(['title_text', (eb) => eb.fn.coalesce('abstract_text', 'abstract').as('abstract')])
    .$if(step > 1, (q) => q.where(sql<boolean>`id % ${step} = 0`))
    .orderBy('id')
    .limit(FIT_SAMPLE_MAX)
    .execute();
  return rows.map((r) => `${r.title_text.trim()}\n\n${r.abstract.trim()}`);
}

/** Fits the built-in model in a worker thread: fitting a large sample takes long enough to stall every request otherwise. */
export function fitInWorker(documents: string[], options: { trainingPairs: number }, signal?: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fit-worker.js', import.meta.url), { workerData: { documents, trainingPairs: options.trainingPairs } });
    const abort = (): void => {
      void worker.terminate();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('fitting was aborted'));
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (bytes: Uint8Array) => {
      signal?.removeEventListener('abort', abort);
      resolve(bytes);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      signal?.removeEventListener('abort', abort);
      reject(err);
    });
  });
}

/** What {@link planModel} decided. */
export type ModelPlan =
  | { action: 'none'; reason: string }
  | { action: 'created'; model: EmbeddingModel; reason: string };

/**
 * Adds a `building` model when the instance needs one: the first model, a
 * built-in model whose algorithm changed or whose corpus has doubled, or a
 * new EMBEDDER. Does nothing while another model is building.
 */
export async function planModel(ctx: AppContext, signal?: AbortSignal): Promise<ModelPlan> {
  const { database } = ctx;
  if ((await buildingModel(database)) !== null) return { action: 'none', reason: 'a model is already building' };
  const active = await activeModel(database);
  const name = embedderName(ctx.config.embedder);
  if (ctx.config.embedder.kind !== 'builtin') {
    const embedder = await configuredEmbedder(ctx);
    if (active?.fingerprint === embedder.fingerprint) return { action: 'none', reason: 'the active model is current' };
    const model = await createModel(database, { embedder: name, fingerprint: embedder.fingerprint, dimensions: embedder.dimensions, corpusSize: 0, state: null });
    return { action: 'created', model, reason: active === null ? 'first model' : `EMBEDDER is now ${name}` };
  }
  const papers = await paperCount(database);
  if (papers === 0) return { action: 'none', reason: 'no papers to fit on' };
  let reason: string;
  if (active === null) reason = 'first model';
  else if (active.embedder !== 'builtin') reason = 'EMBEDDER is now builtin';
  else if (!active.fingerprint.startsWith(`builtin:${BUILTIN_VERSION}:`)) reason = `the built-in algorithm is now ${BUILTIN_VERSION}`;
  else if (papers >= active.corpusSize * REFIT_GROWTH && papers - active.corpusSize >= REFIT_MIN_NEW) {
    reason = `the corpus grew from ${active.corpusSize} to ${papers} papers`;
  } else return { action: 'none', reason: 'the active model is current' };
  const documents = await fitSample(database, papers);
  const bytes = await fitInWorker(documents, { trainingPairs: ctx.config.embedder.trainingPairs }, signal);
  const fitted = deserializeBuiltinModel(bytes);
  const model = await createModel(database, {
    embedder: 'builtin',
    fingerprint: `builtin:${BUILTIN_VERSION}:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`,
    dimensions: fitted.dimensions,
    corpusSize: papers,
    state: bytes,
  });
  return { action: 'created', model, reason };
}

/** Makes a building model active once every paper has its vector; returns whether it did. */
export async function activateWhenComplete(database: Database, model: EmbeddingModel, missing: number): Promise<boolean> {
  if (model.status !== 'building' || missing > 0) return false;
  await activateModel(database, model.id);
  const s = perDatabase.get(database);
  if (s !== undefined) s.active = null;
  return true;
}
