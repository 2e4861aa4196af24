import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AnnIndex, Calibration, CALIBRATION_TARGET, ExactVectors, savedAnnFiles, type VectorEntry } from './ann-index.js';
import { seededRandom } from './builtin.js';
import { normalize } from './embedder.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ann-index-'));
  dirs.push(dir);
  return dir;
}

/** Unit vectors around `clusters` random centres, like embeddings of papers on a few topics. */
function clustered(n: number, dims: number, clusters: number, seed: number, firstId = 1): VectorEntry[] {
  const random = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: clusters }, () => normalize(Float32Array.from({ length: dims }, gauss)));
  return Array.from({ length: n }, (_, i) => {
    const c = centres[Math.floor(random() * clusters)] as Float32Array;
    return { paperId: firstId + i, vector: normalize(Float32Array.from(c, (x) => x + 0.6 * gauss() / Math.sqrt(dims) * 3)) };
  });
}

test('recall@20 against exact search is at least 0.95 on clustered unit vectors', () => {
  const dims = 64;
  const entries = clustered(4_000, dims, 40, 7);
  const exact = new ExactVectors(dims);
  exact.upsert(entries);
  const index = AnnIndex.create(dims);
  for (let i = 0; i < entries.length; i += 500) index.upsert(entries.slice(i, i + 500), 0);
  assert.equal(index.size, entries.length);
  const queries = clustered(100, dims, 40, 7, 1_000_000).map((e) => e.vector);
  let hits = 0;
  for (const q of queries) {
    const truth = new Set(exact.search(q, 20).map((n) => n.paperId));
    const found = index.search(q, 20);
    assert.equal(found.length, 20);
    hits += found.filter((n) => truth.has(n.paperId)).length;
  }
  const recall = hits / (queries.length * 20);
  assert.ok(recall >= 0.95, `recall@20 ${recall}`);
});

test('similarity is the cosine, exclusions are over-fetched, and an upsert replaces the vector', () => {
  const dims = 8;
  const entries = clustered(200, dims, 4, 3);
  const index = AnnIndex.create(dims);
  index.upsert(entries);
  const q = (entries[0] as VectorEntry).vector;
  const [first] = index.search(q, 1);
  assert.equal(first?.paperId, 1);
  assert.ok(Math.abs((first?.similarity ?? 0) - 1) < 1e-2);
  const excluded = index.search(q, 5, new Set([1, 2, 3]));
  assert.equal(excluded.length, 5);
  assert.ok(excluded.every((n) => n.paperId > 3));
  // Paper 1 moves to where paper 100 is; the graph still holds one vector for it.
  index.upsert([{ paperId: 1, vector: (entries[99] as VectorEntry).vector }]);
  assert.equal(index.size, 200);
  const near100 = index.search((entries[99] as VectorEntry).vector, 2).map((n) => n.paperId);
  assert.deepEqual([...near100].sort((a, b) => a - b), [1, 100]);
  index.remove([1]);
  assert.equal(index.size, 199);
  // A batch holding one paper twice keeps the last.
  index.upsert([
    { paperId: 7, vector: (entries[10] as VectorEntry).vector },
    { paperId: 7, vector: (entries[20] as VectorEntry).vector },
  ]);
  assert.equal(index.size, 199);
  assert.ok(index.search((entries[20] as VectorEntry).vector, 2).some((n) => n.paperId === 7));
});

test('saves under a name with the mark and hash, loads it back, and keeps only the newest', () => {
  const dir = tempDir();
  const dims = 16;
  const entries = clustered(300, dims, 5, 11);
  const index = AnnIndex.create(dims);
  index.upsert(entries);
  const first = index.save(dir, 'model-1-abc', 10);
  const second = index.save(dir, 'model-1-abc', 25);
  assert.notEqual(first, second);
  const saved = savedAnnFiles(dir, 'model-1-abc');
  assert.deepEqual(saved.map((s) => s.mark), [25]);
  assert.deepEqual(savedAnnFiles(dir, 'model-2-abc'), []);
  const loaded = AnnIndex.load(saved[0]!, dims);
  assert.ok(loaded !== null);
  assert.equal(loaded.size, 300);
  const q = (entries[42] as VectorEntry).vector;
  assert.deepEqual(loaded.search(q, 10), index.search(q, 10));
});

test('damaged or foreign files are deleted, never loaded (usearch aborts the process on some)', () => {
  const dir = tempDir();
  const dims = 16;
  const index = AnnIndex.create(dims);
  index.upsert(clustered(100, dims, 3, 5));
  const file = index.save(dir, 'p', 3);
  const [saved] = savedAnnFiles(dir, 'p');
  assert.ok(saved !== undefined);
  // Other dimensions than expected.
  assert.equal(AnnIndex.load(saved, 32), null);
  assert.deepEqual(savedAnnFiles(dir, 'p'), []);
  // Garbage under a valid-looking name.
  writeFileSync(file, Buffer.alloc(10_000, 7));
  const [garbage] = savedAnnFiles(dir, 'p');
  assert.ok(garbage !== undefined);
  assert.equal(AnnIndex.load(garbage, dims), null);
  assert.equal(readdirSync(dir).length, 0);
});

test('a crash before the rename leaves the previous file, which loads; one after it leaves the new one', () => {
  const dir = tempDir();
  const dims = 16;
  const entries = clustered(200, dims, 3, 9);
  const index = AnnIndex.create(dims);
  index.upsert(entries.slice(0, 100));
  index.save(dir, 'p', 5);
  // A crash mid-save: the bytes of a newer state sit under a temporary name, half written.
  index.upsert(entries.slice(100));
  const newer = index.save(tempDir(), 'p', 9);
  const half = join(dir, `.tmp-1-${Date.now()}-x.usearch`);
  renameSync(newer, half);
  writeFileSync(half, Buffer.alloc(100));
  const files = savedAnnFiles(dir, 'p');
  assert.deepEqual(files.map((f) => f.mark), [5]);
  const loaded = AnnIndex.load(files[0]!, dims);
  assert.equal(loaded?.size, 100);
});

test('exact search finds the true nearest and removes by swapping', () => {
  const exact = new ExactVectors(4);
  exact.upsert([
    { paperId: 1, vector: normalize(Float32Array.of(1, 0, 0, 0)) },
    { paperId: 2, vector: normalize(Float32Array.of(1, 1, 0, 0)) },
    { paperId: 3, vector: normalize(Float32Array.of(0, 1, 0, 0)) },
    { paperId: 4, vector: normalize(Float32Array.of(-1, 0, 1, 0)) },
  ]);
  const q = Float32Array.of(1, 0, 0, 0);
  assert.deepEqual(exact.search(q, 2).map((n) => n.paperId), [1, 2]);
  assert.deepEqual(exact.search(q, 2, new Set([1])).map((n) => n.paperId), [2, 3]);
  exact.remove([1]);
  assert.equal(exact.size, 3);
  assert.deepEqual(exact.search(q, 3).map((n) => n.paperId), [2, 3, 4]);
  exact.upsert([{ paperId: 4, vector: Float32Array.of(1, 0, 0, 0) }]);
  assert.equal(exact.search(q, 1)[0]?.paperId, 4);
});

test('calibration picks a search breadth whose recall on other queries is at least 0.95, and a saved file keeps it', async () => {
  const dims = 32;
  // Weakly clustered: a small breadth misses neighbours here.
  const random = seededRandom(5);
  const entries = Array.from({ length: 3_000 }, (_, i) => ({ paperId: i + 1, vector: normalize(Float32Array.from({ length: dims }, () => random() - 0.5)) }));
  const index = AnnIndex.create(dims, { connectivity: 8, expansionAdd: 32, expansionSearch: 16, quantization: 'f16' });
  const calibration = new Calibration(dims);
  for (let i = 0; i < entries.length; i += 500) {
    calibration.observe(entries.slice(i, i + 500));
    index.upsert(entries.slice(i, i + 500));
  }
  await calibration.tune(index);
  assert.ok((index.recall ?? 0) >= CALIBRATION_TARGET, `probe recall ${index.recall}`);
  const exact = new ExactVectors(dims);
  exact.upsert(entries);
  let hits = 0;
  const queries = Array.from({ length: 50 }, () => normalize(Float32Array.from({ length: dims }, () => random() - 0.5)));
  for (const q of queries) {
    const truth = new Set(exact.search(q, 20).map((n) => n.paperId));
    hits += index.search(q, 20).filter((n) => truth.has(n.paperId)).length;
  }
  assert.ok(hits / (queries.length * 20) >= 0.95, `recall ${hits / (queries.length * 20)} at breadth ${index.breadth}`);

  const dir = tempDir();
  const file = index.save(dir, 'p', 1);
  assert.ok(existsSync(`${file}.json`));
  const [saved] = savedAnnFiles(dir, 'p');
  const loaded = AnnIndex.load(saved!, dims);
  assert.equal(loaded?.breadth, index.breadth);
  assert.equal(loaded?.recall, index.recall);
  // The side file is optional: without it (a crash between the two renames) the file loads with the default breadth.
  rmSync(`${file}.json`);
  const bare = AnnIndex.load(saved!, dims);
  assert.equal(bare?.size, 3_000);
  assert.equal(bare?.recall, null);
});
