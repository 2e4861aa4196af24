/**
 * Embedding models and paper vectors (migration 016), on either engine.
 *
 * Vectors are float32 little-endian bytes. Each write carries a stamp so a
 * process's ANN index can catch up incrementally (src/semantic/vector-index.ts):
 * on SQLite the next number, computed in the INSERT itself so it is taken
 * under the write lock (commits are serialised, so stamps grow in commit
 * order); on PostgreSQL the writing transaction's id, set by a trigger, read
 * against the oldest transaction still running when a sync starts, as the
 * keyword index does (src/db/keyword-index-derived.ts): a transaction that
 * commits late was still running at that mark, so the next sync reads it.
 */
import { sql } from 'kysely';
import type { Database } from './connection.js';
import type { EmbeddingModelStatus, EmbeddingModelsTable } from './schema.js';
import type { Selectable } from 'kysely';

export interface EmbeddingModel {
  id: number;
  embedder: string;
  fingerprint: string;
  dimensions: number;
  corpusSize: number;
  status: EmbeddingModelStatus;
  createdAt: string;
  activatedAt: string | null;
}

export interface StoredVector {
  paperId: number;
  vector: Float32Array;
}

/** Where a sync of one model's vectors stands: rows at or after `stamp` (then after `paperId` within it) are new. */
export interface VectorCursor {
  stamp: number;
  paperId: number;
}

/** A vector as stored: float32 little-endian bytes. */
export function vectorToBytes(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  vector.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return bytes;
}

/** The inverse of {@link vectorToBytes}; throws on a length that is not a whole number of floats. */
export function bytesToVector(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`a stored vector has ${bytes.byteLength} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

type ModelRow = Omit<Selectable<EmbeddingModelsTable>, 'state'>;

const MODEL_COLUMNS = ['id', 'embedder', 'fingerprint', 'dimensions', 'corpus_size', 'status', 'created_at', 'activated_at'] as const;

function model(row: ModelRow): EmbeddingModel {
  return {
    id: Number(row.id),
    embedder: row.embedder,
    fingerprint: row.fingerprint,
    dimensions: Number(row.dimensions),
    corpusSize: Number(row.corpus_size),
    status: row.status,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
  };
}

async function modelWithStatus(database: Database, status: EmbeddingModelStatus): Promise<EmbeddingModel | null> {
  const row = await database.db.selectFrom('embedding_models').select(MODEL_COLUMNS).where('status', '=', status).orderBy('id', 'desc').executeTakeFirst();
  return row === undefined ? null : model(row);
}

/** The model queries use, or null before the first model is complete. */
export function activeModel(database: Database): Promise<EmbeddingModel | null> {
  return modelWithStatus(database, 'active');
}

/** The model still being filled, or null. */
export function buildingModel(database: Database): Promise<EmbeddingModel | null> {
  return modelWithStatus(database, 'building');
}

/** The built-in model's parameters (null for external embedders). */
export async function modelState(database: Database, id: number): Promise<Uint8Array | null> {
  const row = await database.db.selectFrom('embedding_models').select('state').where('id', '=', id).executeTakeFirst();
  return row?.state ?? null;
}

/** Adds a model with status `building`; returns it. Fails if one is already building (a partial unique index). */
export async function createModel(
  database: Database,
  m: { embedder: string; fingerprint: string; dimensions: number; corpusSize: number; state: Uint8Array | null },
): Promise<EmbeddingModel> {
  const row = await database.db
    .insertInto('embedding_models')
    .values({
      embedder: m.embedder,
      fingerprint: m.fingerprint,
      dimensions: m.dimensions,
      corpus_size: m.corpusSize,
      state: m.state === null ? null : Buffer.from(m.state.buffer, m.state.byteOffset, m.state.byteLength),
      status: 'building',
      created_at: new Date().toISOString(),
      activated_at: null,
    })
    .returning(MODEL_COLUMNS)
    .executeTakeFirstOrThrow();
  return model(row);
}

/** Makes `id` the active model and retires the previous one, in one transaction. */
export async function activateModel(database: Database, id: number): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    await trx.updateTable('embedding_models').set({ status: 'retired' }).where('status', '=', 'active').where('id', '<>', id).execute();
    await trx.updateTable('embedding_models').set({ status: 'active', activated_at: new Date().toISOString() }).where('id', '=', id).execute();
  });
}

/** Deletes up to `limit` vectors of retired models; returns how many (call until 0). */
export async function deleteRetiredVectors(database: Database, limit: number): Promise<number> {
  const retired = await database.db.selectFrom('embedding_models').select('id').where('status', '=', 'retired').execute();
  let deleted = 0;
  for (const { id } of retired) {
    const result = await database.db
      .deleteFrom('paper_vectors')
      .where('model_id', '=', id)
      .where('paper_id', 'in', (eb) => eb.selectFrom('paper_vectors').select('paper_id').where('model_id', '=', id).limit(limit - deleted))
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    if (deleted >= limit) break;
  }
  return deleted;
}

/** Upserts vectors of one model (a paper's previous vector of that model is replaced), in one statement. */
export async function writeVectors(database: Database, modelId: number, vectors: readonly StoredVector[]): Promise<void> {
  if (vectors.length === 0) return;
  const rows = vectors.map((v) => ({ model_id: modelId, paper_id: v.paperId, vector: Buffer.from(vectorToBytes(v.vector)) }));
  if (database.engine === 'postgres') {
    // The trigger stamps each row with this transaction's id.
    await database.db
      .insertInto('paper_vectors')
      .values(rows.map((r) => ({ ...r, stamp: 0 })))
      .onConflict((oc) => oc.columns(['model_id', 'paper_id']).doUpdateSet((eb) => ({ vector: eb.ref('excluded.vector'), stamp: 0 })))
      .execute();
    return;
  }
  // One stamp for the statement, taken under SQLite's write lock.
  const stamp = sql<number>`(SELECT coalesce(max(stamp), 0) + 1 FROM paper_vectors WHERE model_id = ${modelId})`;
  await database.db
    .insertInto('paper_vectors')
    .values(rows.map((r) => ({ ...r, stamp })))
    .onConflict((oc) => oc.columns(['model_id', 'paper_id']).doUpdateSet((eb) => ({ vector: eb.ref('excluded.vector'), stamp: eb.ref('excluded.stamp') })))
    .execute();
}

/** The vectors of these papers under one model (papers without one are left out). */
export async function readVectors(database: Database, modelId: number, paperIds: readonly number[]): Promise<StoredVector[]> {
  if (paperIds.length === 0) return [];
  const rows = await database.db
    .selectFrom('paper_vectors')
    .select(['paper_id', 'vector'])
    .where('model_id', '=', modelId)
    .where('paper_id', 'in', [...paperIds])
    .execute();
  return rows.map((r) => ({ paperId: Number(r.paper_id), vector: bytesToVector(r.vector) }));
}

/**
 * Up to `limit` papers after `afterId` (id order) with no vector of this
 * model, for the embed job: id, title and plain abstract. Passing the last id
 * of the previous batch keeps every call a short index range scan.
 */
export async function papersWithoutVectors(
  database: Database,
  modelId: number,
  limit: number,
  afterId = 0,
): Promise<{ id: number; title: string; abstract: string }[]> {
  const rows = await database.db
    .selectFrom('papers as p')
    .select(['p.id', 'p.title_text', (eb) => eb.fn.coalesce('p.abstract_text', 'p.abstract').as('abstract')])
    .where('p.id', '>', afterId)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('paper_vectors as v').select(sql`1`.as('one')).where('v.model_id', '=', modelId).whereRef('v.paper_id', '=', 'p.id'))),
    )
    .orderBy('p.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: Number(r.id), title: r.title_text, abstract: r.abstract }));
}

/** How many papers have a vector of this model, and how many papers there are. */
export async function vectorCoverage(database: Database, modelId: number): Promise<{ vectors: number; papers: number }> {
  const row = await sql<{ vectors: number | string; papers: number | string }>`SELECT
      (SELECT count(*) FROM paper_vectors WHERE model_id = ${modelId}) AS vectors,
      (SELECT count(*) FROM papers) AS papers`.execute(database.db);
  return { vectors: Number(row.rows[0]?.vectors ?? 0), papers: Number(row.rows[0]?.papers ?? 0) };
}

/**
 * The stamp a sync starting now can resume from next time: every write that
 * commits after this call has a stamp at or above it (SQLite: one past the
 * largest stamp; PostgreSQL: the oldest transaction still running).
 */
export async function vectorSyncMark(database: Database, modelId: number): Promise<number> {
  if (database.engine === 'postgres') {
    const { rows } = await sql<{ xmin: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`.execute(database.db);
    return Number(rows[0]?.xmin ?? 0);
  }
  const { rows } = await sql<{ next: number }>`SELECT coalesce(max(stamp), 0) + 1 AS next FROM paper_vectors WHERE model_id = ${modelId}`.execute(database.db);
  return Number(rows[0]?.next ?? 1);
}

/**
 * Vectors of one model after `cursor` in (stamp, paper id) order, at most
 * `limit`; pass the last row's stamp and paper id to read on. Start a sync at
 * `{ stamp: mark, paperId: -1 }` with the mark of the previous sync (0 reads everything).
 */
export async function vectorsAfter(
  database: Database,
  modelId: number,
  cursor: VectorCursor,
  limit: number,
): Promise<(StoredVector & { stamp: number })[]> {
  const rows = await database.db
    .selectFrom('paper_vectors')
    .select(['paper_id', 'vector', 'stamp'])
    .where('model_id', '=', modelId)
    // Redundant with the next condition, but a plain range start for the (model_id, stamp) index on either engine.
    .where('stamp', '>=', cursor.stamp)
    .where((eb) => eb.or([eb('stamp', '>', cursor.stamp), eb.and([eb('stamp', '=', cursor.stamp), eb('paper_id', '>', cursor.paperId)])]))
    .orderBy('stamp')
    .orderBy('paper_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ paperId: Number(r.paper_id), vector: bytesToVector(r.vector), stamp: Number(r.stamp) }));
}
