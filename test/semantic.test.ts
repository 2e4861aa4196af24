import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql } from 'kysely';
import { activeModel, buildingModel, readVectors, vectorCoverage } from '../src/db/vector-store.js';
import { importPaths } from '../src/ingest/import.js';
import { searchPapers } from '../src/search/search.js';
import { embedAll } from '../src/semantic/jobs.js';
import { similarPapers } from '../src/semantic/similar.js';
import { vectorIndexTuning, warmVectorIndex } from '../src/semantic/vector-index.js';
import { REFIT_MIN_NEW } from '../src/semantic/models.js';
import { emptyApp, importedApp, type TestApp } from './support/app.js';
import { runCli } from './support/cli.js';
import { envFor, reopen } from './support/database.js';
import { sharedData } from './support/shared-data.js';

// Search by meaning on the shared arXiv records, embedded by the built-in
// model as the worker's embed job leaves an instance: similar papers, the
// three search modes on the API, the page and the CLI, and the model's life.

const shared = sharedData();
let t: TestApp;

before(async () => {
  if (shared.skip !== false) return;
  t = await importedApp();
});
after(async () => {
  await t?.close();
});

interface SimilarItem {
  paper: { id: string; categories: string[]; announcedOn: string | null; upvotes: number };
  similarity: number;
}

const archive = (category: string): string => category.split('.')[0] ?? category;

test('similar papers: closest first, never the paper itself, mostly from its own field', { skip: shared.skip }, async () => {
  const sources = ['0704.0001', '0704.0002', '0704.0010', '0704.0050', '0704.0100', '0704.0150'];
  let sameField = 0;
  let total = 0;
  for (const id of sources) {
    const res = await t.app.inject({ url: `/api/papers/${id}/similar?limit=5` });
    assert.equal(res.statusCode, 200, res.body);
    const items = res.json<SimilarItem[]>();
    assert.equal(items.length, 5);
    assert.ok(items.every((i) => i.paper.id !== id), 'not the paper itself');
    const sims = items.map((i) => i.similarity);
    assert.deepEqual(sims, [...sims].sort((a, b) => b - a), 'closest first');
    const own = await t.app.inject({ url: `/api/papers/${id}` });
    const fields = new Set(own.json<{ categories: string[] }>().categories.map(archive));
    for (const item of items) {
      total++;
      if (item.paper.categories.some((c) => fields.has(archive(c)))) sameField++;
    }
  }
  // The shared records span some 20 archives; by chance a neighbour would share one rarely.
  assert.ok(sameField / total >= 0.6, `${sameField} of ${total} neighbours share an archive with their paper`);
});

test('similar papers re-sorted by recency and popularity; bad input and unknown papers', { skip: shared.skip }, async () => {
  const recent = (await t.app.inject({ url: '/api/papers/0704.0001/similar?limit=10&sort=recency' })).json<SimilarItem[]>();
  const dates = recent.map((i) => i.paper.announcedOn ?? '');
  assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
  const popular = (await t.app.inject({ url: '/api/papers/0704.0001/similar?limit=10&sort=popularity' })).json<SimilarItem[]>();
  const votes = popular.map((i) => i.paper.upvotes);
  assert.deepEqual(votes, [...votes].sort((a, b) => b - a));

  const bad = await t.app.inject({ url: '/api/papers/0704.0001/similar?sort=random&limit=500' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json<{ message: string }>().message, /sort/);
  assert.match(bad.json<{ message: string }>().message, /limit/);
  assert.equal((await t.app.inject({ url: '/api/papers/9912.99999/similar' })).statusCode, 404);
  assert.equal((await t.app.inject({ url: '/api/papers/not-an-id/similar' })).statusCode, 400);
});

test('the paper page shows similar papers, and a page lists more in three orders', { skip: shared.skip }, async () => {
  const page = await t.app.inject({ url: '/papers/0704.0001' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<h2 id="similar-h">Similar papers<\/h2>/);
  assert.match(page.body, /href="\/papers\/0704\.0001\/similar">More similar papers/);
  const first = (await t.app.inject({ url: '/api/papers/0704.0001/similar?limit=1' })).json<SimilarItem[]>()[0];
  assert.ok(first !== undefined);
  assert.ok(page.body.includes(`href="/papers/${first.paper.id}"`), 'the closest paper is linked from the panel');

  const closest = await t.app.inject({ url: '/papers/0704.0001/similar' });
  assert.equal(closest.statusCode, 200, closest.body);
  assert.ok(closest.body.includes(`/papers/${first.paper.id}`), 'the closest paper leads the full list');
  for (const sort of ['recency', 'popularity']) {
    const more = await t.app.inject({ url: `/papers/0704.0001/similar?sort=${sort}` });
    assert.equal(more.statusCode, 200, more.body);
    assert.match(more.body, /Papers similar to/);
    assert.match(more.body, new RegExp(`<strong aria-current="page">${sort === 'recency' ? 'Newest' : 'Most upvoted'}</strong>`));
    assert.equal((more.body.match(/<article class="card"/g) ?? []).length, 20);
  }
  assert.equal((await t.app.inject({ url: '/papers/0704.0001/similar?sort=nope' })).statusCode, 400);
  assert.equal((await t.app.inject({ url: '/papers/9912.99999/similar' })).statusCode, 404);
});

test('search modes on the API: hybrid by default, keyword and semantic on request', { skip: shared.skip }, async () => {
  const ids = async (query: string): Promise<{ mode: string | undefined; ids: string[] }> => {
    const res = await t.app.inject({ url: `/api/papers/search?${query}` });
    assert.equal(res.statusCode, 200, res.body);
    return { mode: res.headers['x-search-mode'] as string | undefined, ids: res.json<{ paper: { id: string } }[]>().map((r) => r.paper.id) };
  };
  const hybrid = await ids('q=diphoton%20production&limit=10');
  assert.equal(hybrid.mode, 'hybrid');
  assert.equal(hybrid.ids[0], '0704.0001');
  const keyword = await ids('q=diphoton%20production&limit=10&mode=keyword');
  assert.equal(keyword.mode, 'keyword');
  const semantic = await ids('q=photon%20pairs%20at%20hadron%20colliders&limit=10&mode=semantic');
  assert.equal(semantic.mode, 'semantic');
  assert.equal(semantic.ids.length, 10, 'meaning always finds the closest papers');
  assert.ok(hybrid.ids.length >= keyword.ids.length, 'hybrid keeps the keyword matches and adds papers close in meaning');
  for (const id of keyword.ids.slice(0, 3)) assert.ok(hybrid.ids.includes(id), `keyword hit ${id} stays in hybrid`);

  const excluded = await ids('q=diphoton%20production%20-Tevatron&limit=20&mode=hybrid');
  assert.ok(!excluded.ids.includes('0704.0001'), 'an exclusion removes the paper from the meaning half too');
  const bad = await t.app.inject({ url: '/api/papers/search?q=x&mode=magic' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json<{ message: string }>().message, /mode/);
});

test('the search page has the mode switch and says which mode ran', { skip: shared.skip }, async () => {
  const page = await t.app.inject({ url: '/search?q=production%20cross%20sections' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<option value="hybrid" selected>/);
  assert.match(page.body, /best matches by words and meaning first/);
  assert.match(page.body, /<mark>(production|cross|sections)<\/mark>/i, 'keyword hits keep their highlighted snippets in hybrid results');
  const semantic = await t.app.inject({ url: '/search?q=production%20cross%20sections&mode=semantic' });
  assert.match(semantic.body, /<option value="semantic" selected>/);
  assert.match(semantic.body, /closest in meaning first/);
  const unknownWord = await t.app.inject({ url: '/search?q=diphoton&mode=semantic' });
  assert.match(unknownWord.body, /Searched by keyword only: none of the query’s words is known to the embedding model/);
  assert.match(unknownWord.body, /best matches first/);
  const bad = await t.app.inject({ url: '/search?q=diphoton&mode=nope' });
  assert.equal(bad.statusCode, 400);
});

test('the CLI searches in each mode and refuses an unknown one', { skip: shared.skip }, async () => {
  const env = envFor(t.ctx.config.dataDir, t.ctx.config.database);
  for (const mode of ['keyword', 'semantic', 'hybrid']) {
    const r = await runCli(['search', '--json', '--mode', mode, '--limit', '3', 'production cross sections'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { mode: string; hits: { arxivId: string }[] };
    assert.equal(out.mode, mode);
    assert.equal(out.hits.length, 3);
  }
  // A word the model does not know (it is in one paper only) is searched by keyword, and the CLI says so.
  const unknown = await runCli(['search', '--mode', 'semantic', 'diphoton'], env);
  assert.equal(unknown.code, 0, unknown.stderr);
  assert.match(unknown.stdout, /keyword only: none of the query’s words is known to the embedding model/);
  assert.match(unknown.stdout, /0704\.0001/);
  const bad = await runCli(['search', '--mode', 'fuzzy', 'diphoton'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mode/);
});

test('a fresh instance searches by keyword and says why; the embed job builds the first model and then new papers get vectors', { skip: shared.skip }, async () => {
  const fresh = await emptyApp();
  try {
    const { database } = fresh.ctx;
    await importPaths(database, [join(shared.dir, 'arxiv/kaggle-jsonl')]);
    const before = await fresh.app.inject({ url: '/search?q=diphoton' });
    assert.match(before.body, /Searched by keyword only: papers are not embedded yet/);
    assert.equal((await fresh.app.inject({ url: '/api/papers/0704.0001/similar' })).statusCode, 409);

    const first = await embedAll(fresh.ctx);
    const model = await activeModel(database);
    assert.ok(model !== null, first.planned);
    assert.equal(first.activated, model.id);
    // The index was built before the model went active, so the first search by meaning needs no build.
    assert.equal(first.indexBuilt?.vectors, (await vectorCoverage(database, model.id)).papers);
    assert.equal(model.embedder, 'builtin');
    const coverage = await vectorCoverage(database, model.id);
    assert.equal(coverage.vectors, coverage.papers);
    const [vector] = await readVectors(database, model.id, [1]);
    const norm = Math.hypot(...(vector?.vector ?? []));
    assert.ok(Math.abs(norm - 1) < 1e-3, `unit length (${norm})`);

    // A paper whose text changes loses its vector, and the next run writes it again.
    await sql`UPDATE papers SET abstract = abstract || ' Revised.' WHERE id = 1`.execute(database.db);
    assert.equal((await readVectors(database, model.id, [1])).length, 0);
    const second = await embedAll(fresh.ctx);
    assert.equal(second.written, 1);
    assert.equal(second.activated, null, 'no refit for one changed paper');
    assert.equal(second.indexBuilt, null);
    assert.equal((await readVectors(database, model.id, [1])).length, 1);
    assert.equal((await fresh.app.inject({ url: '/api/papers/0704.0001/similar' })).statusCode, 200);
    assert.equal((await buildingModel(database)), null);
  } finally {
    await fresh.close();
  }
});

test('the built-in model is refitted once the corpus has doubled, and the old vectors go', { skip: shared.skip }, async () => {
  const fresh = await emptyApp();
  try {
    const { database } = fresh.ctx;
    await importPaths(database, [join(shared.dir, 'arxiv/kaggle-jsonl')]);
    await embedAll(fresh.ctx);
    const first = await activeModel(database);
    assert.ok(first !== null);
    await importPaths(database, [join(shared.dir, 'arxiv/abs')]);
    const papers = (await vectorCoverage(database, first.id)).papers;
    const result = await embedAll(fresh.ctx);
    const second = await activeModel(database);
    assert.ok(second !== null);
    assert.ok(papers >= first.corpusSize * 2 && papers - first.corpusSize >= REFIT_MIN_NEW, `${papers} papers over ${first.corpusSize}`);
    assert.notEqual(second.id, first.id, result.planned);
    assert.equal(result.activated, second.id);
    assert.equal(second.corpusSize, papers);
    assert.equal(second.status, 'active');
    const left = await sql<{ n: number | string }>`SELECT count(*) AS n FROM paper_vectors WHERE model_id = ${first.id}`.execute(database.db);
    assert.equal(Number(left.rows[0]?.n), 0, 'the retired model has no vectors left');
    assert.equal((await vectorCoverage(database, second.id)).vectors, papers);
    // The index switched with the model: similar papers answer once this process has built it.
    await warmVectorIndex(fresh.ctx.database);
    assert.equal((await fresh.app.inject({ url: '/api/papers/0704.0001/similar' })).statusCode, 200);
  } finally {
    await fresh.close();
  }
});

test('while a process builds its first vector index, search by meaning answers by keyword and says why, and similar papers wait', { skip: shared.skip }, async () => {
  // Another process's view of the same database, with no index file yet: its first sync reads every vector.
  const database = reopen(t.ctx.database);
  const ctx = { ...t.ctx, database };
  const tuning = { ...vectorIndexTuning };
  try {
    Object.assign(vectorIndexTuning, { interactiveWaitMs: 0, syncBatch: 100 });
    const warming = await searchPapers(ctx, 'quantum entanglement', { limit: 10, mode: 'hybrid' });
    assert.equal(warming.mode, 'keyword');
    assert.match(warming.semanticUnavailable ?? '', /still building its index for search by meaning/);
    assert.ok(warming.hits.length > 0, 'the words still find papers');
    const paper = await database.db.selectFrom('papers').select('id').where('arxiv_id', '=', '0704.0001').executeTakeFirstOrThrow();
    const similar = await similarPapers(ctx, paper.id, 5);
    assert.equal(similar.available, false);

    await warmVectorIndex(database);
    // Caught up: an interactive search no longer waits for anything, and meaning ranks again.
    const ready = await searchPapers(ctx, 'quantum entanglement', { limit: 10, mode: 'hybrid' });
    assert.equal(ready.mode, 'hybrid');
    assert.equal((await similarPapers(ctx, paper.id, 5)).available, true);
  } finally {
    Object.assign(vectorIndexTuning, tuning);
    await database.close();
  }
});
