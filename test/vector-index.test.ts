/**
 * Paper vectors and this process's nearest-neighbour index
 * (src/db/vector-store.ts, src/semantic/vector-index.ts) on both engines:
 * the index finds the exact nearest papers, a vector committed after it was
 * built is found on the next search, a restart loads the saved file instead
 * of rebuilding, a damaged file is rebuilt, a new active model replaces the
 * old one, deleted papers drop out, and on PostgreSQL a transaction that
 * commits after a later one is not skipped.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/db/connection.js';
import {
  activateModel,
  activeModel,
  buildingModel,
  createModel,
  deleteRetiredVectors,
  papersWithoutVectors,
  readVectors,
  vectorCoverage,
  vectorsAfter,
  vectorSyncMark,
  vectorToBytes,
  bytesToVector,
  writeVectors,
  type EmbeddingModel,
  type StoredVector,
} from '../src/db/vector-store.js';
import { seededRandom } from '../src/semantic/builtin.js';
import { normalize } from '../src/semantic/embedder.js';
import { nearestPapers, prepareVectorIndex, rebuildVectorIndex, vectorIndexStatus, vectorIndexTuning } from '../src/semantic/vector-index.js';
import { tempDataDir } from './support/cli.js';
import { openTestDatabase, testEngine } from './support/database.js';

const DIMS = 16;
const PAPERS = 240;

const random = seededRandom(42);
const randomVector = (): Float32Array => normalize(Float32Array.from({ length: DIMS }, () => random() - 0.5));

/**
 * The graph is approximate and built on every core (so not the same graph twice):
 * most of the exact top k, not all of it, is what it promises (recall@20 ≥ 0.97
 * on average). A broken index finds next to none.
 */
function assertNearlyExact(found: readonly number[], exact: readonly number[]): void {
  const hits = found.filter((id) => exact.includes(id)).length;
  assert.equal(found.length, exact.length);
  assert.ok(hits >= exact.length - Math.max(1, Math.floor(exact.length / 5)), `found ${found.join()} against exact ${exact.join()}`);
}

function exactNearest(vectors: readonly StoredVector[], q: Float32Array, k: number, exclude = new Set<number>()): number[] {
  const dot = (a: Float32Array): number => a.reduce((s, x, i) => s + x * (q[i] ?? 0), 0);
  return vectors
    .filter((v) => !exclude.has(v.paperId))
    .map((v) => ({ id: v.paperId, s: dot(v.vector) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.id);
}

async function insertPapers(database: Database, from: number, count: number): Promise<number[]> {
  const now = new Date().toISOString();
  const rows = Array.from({ length: count }, (_, i) => {
    const arxivId = `2611.${String(from + i).padStart(5, '0')}`;
    return {
      arxiv_id: arxivId,
      version: 1,
      title: `Paper ${from + i}`,
      title_text: `Paper ${from + i}`,
      abstract: `Abstract $x$ ${from + i}.`,
      abstract_text: i % 2 === 0 ? `Abstract x ${from + i}.` : null,
      authors_text: 'Ada Lovelace',
      authors: '[]',
      versions: '[]',
      links: '[]',
      primary_category: 'cs.LG',
      categories: 'cs.LG',
      announced_on: '2026-11-24',
      announced_estimated: 0,
      withdrawn: 0,
      content_hash: arxivId,
      created_at: now,
      modified_at: now,
    };
  });
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 100) {
    const inserted = await database.db.insertInto('papers').values(rows.slice(i, i + 100)).returning('id').execute();
    ids.push(...inserted.map((r) => Number(r.id)));
  }
  return ids;
}

async function newModel(database: Database, fingerprint: string): Promise<EmbeddingModel> {
  return createModel(database, { embedder: 'builtin', fingerprint, dimensions: DIMS, corpusSize: PAPERS, state: Uint8Array.of(1, 2, 3) });
}

describe('vector store', () => {
  let database: Database;
  before(async () => {
    database = await openTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  test('vectors round-trip as float32 little-endian bytes', () => {
    const v = Float32Array.of(1.5, -2, 0.25);
    assert.deepEqual([...vectorToBytes(v)].slice(0, 4), [0, 0, 0xc0, 0x3f]);
    assert.deepEqual(bytesToVector(vectorToBytes(v)), v);
    assert.throws(() => bytesToVector(new Uint8Array(5)));
  });

  test('models: one building, activation retires the old, retired vectors are deleted in batches', async () => {
    const ids = await insertPapers(database, 1, 30);
    const a = await newModel(database, 'a');
    assert.equal((await buildingModel(database))?.id, a.id);
    await assert.rejects(newModel(database, 'again'));
    await writeVectors(database, a.id, ids.map((paperId) => ({ paperId, vector: randomVector() })));
    await activateModel(database, a.id);
    const active = await activeModel(database);
    assert.equal(active?.id, a.id);
    assert.ok(active?.activatedAt !== null);
    assert.equal(await buildingModel(database), null);

    // Papers without a vector: plain text, id order, resumable after an id.
    const b = await newModel(database, 'b');
    const firstBatch = await papersWithoutVectors(database, b.id, 10);
    assert.deepEqual(firstBatch.map((p) => p.id), ids.slice(0, 10));
    assert.equal(firstBatch[0]?.abstract, 'Abstract x 1.');
    assert.equal(firstBatch[1]?.abstract, 'Abstract $x$ 2.');
    assert.equal(firstBatch[0]?.title, 'Paper 1');
    await writeVectors(database, b.id, ids.slice(0, 20).map((paperId) => ({ paperId, vector: randomVector() })));
    const rest = await papersWithoutVectors(database, b.id, 100, firstBatch.at(-1)?.id ?? 0);
    assert.deepEqual(rest.map((p) => p.id), ids.slice(20));
    await writeVectors(database, b.id, ids.slice(20).map((paperId) => ({ paperId, vector: randomVector() })));
    assert.deepEqual(await vectorCoverage(database, b.id), { vectors: 30, papers: 30 });

    await activateModel(database, b.id);
    assert.equal((await database.db.selectFrom('embedding_models').select('status').where('id', '=', a.id).executeTakeFirst())?.status, 'retired');
    assert.equal((await activeModel(database))?.id, b.id);
    assert.equal(await deleteRetiredVectors(database, 12), 12);
    assert.equal(await deleteRetiredVectors(database, 12), 12);
    assert.equal(await deleteRetiredVectors(database, 12), 6);
    assert.equal(await deleteRetiredVectors(database, 12), 0);
    assert.equal((await vectorCoverage(database, a.id)).vectors, 0);
    assert.equal((await vectorCoverage(database, b.id)).vectors, 30);
  });

  test('a rewrite replaces the vector and stamps it after the sync mark; a retitled paper loses its vectors', async () => {
    const model = await activeModel(database);
    assert.ok(model !== null);
    const [paperId] = (await readVectors(database, model.id, [1, 2, 3])).map((v) => v.paperId);
    assert.ok(paperId !== undefined);
    const mark = await vectorSyncMark(database, model.id);
    const v = randomVector();
    await writeVectors(database, model.id, [{ paperId, vector: v }]);
    // On PostgreSQL the mark is the oldest transaction running anywhere on the server, so earlier writes may come too.
    const after = await vectorsAfter(database, model.id, { stamp: mark, paperId: -1 }, 100);
    const rewritten = after.find((r) => r.paperId === paperId);
    assert.ok(rewritten !== undefined && rewritten.stamp >= mark);
    if (testEngine === 'sqlite') assert.deepEqual(after.map((r) => r.paperId), [paperId]);
    assert.deepEqual((await readVectors(database, model.id, [paperId]))[0]?.vector, v);
    await database.db.updateTable('papers').set({ title: 'Another title' }).where('id', '=', paperId).execute();
    assert.deepEqual(await readVectors(database, model.id, [paperId]), []);
  });
});

describe('vector index', () => {
  let writer: Database;
  let dataDir: string;
  let searcher: Database;
  let model: EmbeddingModel;
  let stored: StoredVector[];
  const tuning = { ...vectorIndexTuning };

  before(async () => {
    // A handful of vectors exercise the graph and its files.
    vectorIndexTuning.exactMax = 50;
    writer = await openTestDatabase();
    const ids = await insertPapers(writer, 1, PAPERS);
    model = await newModel(writer, 'one');
    stored = ids.map((paperId) => ({ paperId, vector: randomVector() }));
    await writeVectors(writer, model.id, stored.slice(0, 150));
    await writeVectors(writer, model.id, stored.slice(150));
    await activateModel(writer, model.id);
    dataDir = tempDataDir();
    searcher = openDatabase(writer.location, { dataDir });
  });
  after(async () => {
    Object.assign(vectorIndexTuning, tuning);
    await searcher.close();
    await writer.close();
  });

  const files = (): string[] => readdirSync(join(dataDir, 'vectors')).filter((f) => f.endsWith('.usearch') && !f.startsWith('.'));

  test('finds the nearest papers (nearly all of the exact ones), leaves out excluded ones, and says which model answered', async () => {
    for (let i = 0; i < 10; i++) {
      const q = randomVector();
      const found = (await nearestPapers(searcher, model.id, q, 10)).map((n) => n.paperId);
      assertNearlyExact(found, exactNearest(stored, q, 10));
    }
    const own = stored[5] as StoredVector;
    const near = await nearestPapers(searcher, model.id, own.vector, 5, { exclude: new Set([own.paperId]) });
    assert.equal(near.length, 5);
    assertNearlyExact(near.map((n) => n.paperId), exactNearest(stored, own.vector, 5, new Set([own.paperId])));
    assert.ok(near.every((n) => n.similarity <= 1.001 && n.similarity >= -1.001));
    assert.deepEqual(await nearestPapers(searcher, model.id + 100, own.vector, 5), []);
    const status = await vectorIndexStatus(searcher);
    assert.equal(status.modelId, model.id);
    assert.equal(status.size, PAPERS);
    assert.equal(status.kind, 'hnsw');
    assert.equal(status.caughtUp, true);
    assert.equal(status.graphBuilds, 1);
    assert.ok(status.breadth !== null && status.recall !== null && status.recall >= 0.95, JSON.stringify(status));
  });

  test('a vector committed after the index was built is found on the next search', async () => {
    const [paperId] = await insertPapers(writer, 1000, 1);
    const v = randomVector();
    await writeVectors(writer, model.id, [{ paperId: paperId as number, vector: v }]);
    stored.push({ paperId: paperId as number, vector: v });
    const [first] = await nearestPapers(searcher, model.id, v, 1);
    assert.equal(first?.paperId, paperId);
    assert.ok(Math.abs((first?.similarity ?? 0) - 1) < 0.01);
  });

  test('a paper whose vector is gone (deleted, retitled) drops out of the results', async () => {
    const gone = stored[10] as StoredVector;
    await writer.db.deleteFrom('paper_vectors').where('paper_id', '=', gone.paperId).execute();
    stored.splice(10, 1);
    const found = await nearestPapers(searcher, model.id, gone.vector, 5);
    assert.equal(found.length, 5);
    assert.ok(found.every((n) => n.paperId !== gone.paperId));
  });

  test('a restart loads the saved file instead of rebuilding', async () => {
    await searcher.close();
    assert.equal(files().length, 1);
    searcher = openDatabase(writer.location, { dataDir });
    const q = randomVector();
    const found = (await nearestPapers(searcher, model.id, q, 10)).map((n) => n.paperId);
    assertNearlyExact(found, exactNearest(stored, q, 10));
    const status = await vectorIndexStatus(searcher);
    assert.equal(status.loadedFromFile, true);
    assert.equal(status.graphBuilds, 0);
    // PostgreSQL re-reads from the oldest transaction then running anywhere on the server: a few, or more when other tests run.
    if (testEngine === 'sqlite') assert.ok(status.vectorsRead < 10, `read ${status.vectorsRead} vectors after loading the file`);
    assert.ok(status.breadth !== null && status.recall !== null, 'the measured breadth is saved with the file');
  });

  test('a damaged file is deleted and the index rebuilt from the stored vectors', async () => {
    await searcher.close();
    const [file] = files();
    assert.ok(file !== undefined);
    writeFileSync(join(dataDir, 'vectors', file), Buffer.alloc(4096, 7));
    searcher = openDatabase(writer.location, { dataDir });
    const q = randomVector();
    assertNearlyExact((await nearestPapers(searcher, model.id, q, 10)).map((n) => n.paperId), exactNearest(stored, q, 10));
    const status = await vectorIndexStatus(searcher);
    assert.equal(status.loadedFromFile, false);
    assert.equal(status.graphBuilds, 1);
    assert.ok(!files().includes(file));
  });

  test('reindex rebuilds from the stored vectors and saves', async () => {
    const rebuilt = await rebuildVectorIndex(searcher);
    assert.equal(rebuilt.vectors, stored.length);
    assert.equal(files().length, 1);
  });

  test('a newly active model replaces the old one in the index and on disk', async () => {
    const next = await newModel(writer, 'two');
    const vectors = stored.map((v) => ({ paperId: v.paperId, vector: randomVector() }));
    await writeVectors(writer, next.id, vectors);
    await activateModel(writer, next.id);
    const q = randomVector();
    assertNearlyExact((await nearestPapers(searcher, next.id, q, 10)).map((n) => n.paperId), exactNearest(vectors, q, 10));
    assert.equal((await vectorIndexStatus(searcher)).modelId, next.id);
    assert.deepEqual(await nearestPapers(searcher, model.id, q, 10), []);
    await searcher.close();
    assert.ok(files().every((f) => f.startsWith(`model-${next.id}-`)), files().join());
    searcher = openDatabase(writer.location, { dataDir });
    model = next;
    stored = vectors;
  });

  test('an index prepared before its model is active is saved, switched to without a rebuild, and loaded by another process', async () => {
    const next = await newModel(writer, 'three');
    const vectors = stored.map((v) => ({ paperId: v.paperId, vector: randomVector() }));
    await writeVectors(writer, next.id, vectors);
    const q = randomVector();
    await nearestPapers(searcher, model.id, q, 10);
    const prepared = await prepareVectorIndex(searcher, next);
    assert.equal(prepared.vectors, vectors.length);
    assert.ok(files().some((f) => f.startsWith(`model-${next.id}-`)), files().join());
    // Not active yet: the old model still answers, the new one does not.
    assert.equal((await vectorIndexStatus(searcher)).modelId, model.id);
    assert.deepEqual(await nearestPapers(searcher, next.id, q, 10), []);
    await activateModel(writer, next.id);
    assertNearlyExact((await nearestPapers(searcher, next.id, q, 10)).map((n) => n.paperId), exactNearest(vectors, q, 10));
    const status = await vectorIndexStatus(searcher);
    assert.equal(status.modelId, next.id);
    assert.equal(status.graphBuilds, 1);
    assert.equal(status.vectorsRead, vectors.length, 'the prepared index is used, not read again');
    const other = openDatabase(writer.location, { dataDir });
    try {
      assertNearlyExact((await nearestPapers(other, next.id, q, 10)).map((n) => n.paperId), exactNearest(vectors, q, 10));
      const loaded = await vectorIndexStatus(other);
      assert.equal(loaded.loadedFromFile, true);
      assert.equal(loaded.graphBuilds, 0);
    } finally {
      await other.close();
    }
    model = next;
    stored = vectors;
  });

  test('a transaction that commits after a later one is still picked up', { skip: testEngine === 'sqlite' ? 'PostgreSQL: SQLite serialises writers' : false }, async () => {
    const [early, late] = await insertPapers(writer, 2000, 2);
    const vEarly = randomVector();
    const vLate = randomVector();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    // The older transaction writes first but commits last.
    const older = writer.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO paper_vectors (model_id, paper_id, vector, stamp) VALUES (${model.id}, ${early}, ${Buffer.from(vectorToBytes(vEarly))}, 0)`.execute(trx);
      written();
      await held;
    });
    await wrote;
    try {
      await writeVectors(writer, model.id, [{ paperId: late as number, vector: vLate }]);
      assert.equal((await nearestPapers(searcher, model.id, vLate, 1))[0]?.paperId, late);
      assert.notEqual((await nearestPapers(searcher, model.id, vEarly, 1))[0]?.paperId, early);
    } finally {
      // A failure above must not leave the transaction open: the pool would never close.
      release();
      await older;
    }
    assert.equal((await nearestPapers(searcher, model.id, vEarly, 1))[0]?.paperId, early);
  });
});
