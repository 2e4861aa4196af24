import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database, sqliteHandle } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { MATCH_WINDOW, searchKeyword, type KeywordOptions } from './keyword.js';

// A small corpus written straight into the tables: papers 1..12 all mention
// "lattice"; their titles and the number of times it occurs differ, so BM25
// ranks them in an order unrelated to their ids (the window is the newest ids).
const dir = mkdtempSync(join(tmpdir(), 'paperboy-keyword-'));
let database: Database;

interface TestPaper {
  title: string;
  abstract: string;
  categories: string[];
  announcedOn: string;
}

function paper(i: number): TestPaper {
  const lattice = i % 4 === 1 ? 'lattice lattice lattice' : 'lattice';
  return {
    title: i % 3 === 0 ? `Lattice models number ${i}` : `Paper number ${i}`,
    abstract: `Abstract ${i} about ${lattice} gauge theory and marker${i} words.`,
    categories: i % 2 === 0 ? ['hep-lat'] : ['cs.LG', 'stat.ML'],
    announcedOn: `2024-01-${String(i).padStart(2, '0')}`,
  };
}

before(async () => {
  database = openDatabase(join(dir, 'paperboy.db'));
  const sqlite = sqliteHandle(database);
  await migrate(database);
  const insert = sqlite.prepare(`INSERT INTO papers (id, arxiv_id, version, title, title_text, abstract, authors_text,
      authors, versions, links, categories, announced_on, content_hash, created_at, modified_at)
    VALUES (?, ?, 1, ?, ?, ?, ?, '[]', '[]', '[]', ?, ?, 'x', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')`);
  const fts = sqlite.prepare('INSERT INTO papers_fts (rowid, title_text, authors_text, abstract_text) VALUES (?, ?, ?, ?)');
  const category = sqlite.prepare('INSERT INTO paper_categories (category, paper_id, is_primary) VALUES (?, ?, ?)');
  sqlite.transaction(() => {
    for (let i = 1; i <= 12; i++) {
      const p = paper(i);
      insert.run(i, `2401.${String(i).padStart(5, '0')}`, p.title, p.title, p.abstract, `Author ${i}`, JSON.stringify(p.categories), p.announcedOn);
      fts.run(i, p.title, `Author ${i}`, p.abstract);
      p.categories.forEach((c, k) => category.run(c, i, k === 0 ? 1 : 0));
    }
    const feature = sqlite.prepare(
      `INSERT INTO featured (paper_id, featured_on, source, featured_at, hidden_at) VALUES (?, '2024-01-20', 'curator', '2024-01-20T00:00:00Z', ?)`,
    );
    feature.run(3, null);
    feature.run(4, null);
    feature.run(9, '2024-01-21T00:00:00Z'); // featured, then hidden
  })();
});

after(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = (q: string, options: Partial<KeywordOptions> = {}) => searchKeyword(database, q, { limit: 50, ...options });
const ids = (r: { hits: { paperId: number }[] }): number[] => r.hits.map((h) => h.paperId);

test('below the match window: every match ranked, exact total', async () => {
  const r = await search('lattice');
  assert.equal(r.total, 12);
  assert.equal(r.totalIsLowerBound, false);
  assert.equal(r.rankedNewest, null);
  assert.equal(r.hits.length, 12);
  const scores = r.hits.map((h) => h.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
  // Three occurrences and a title match beat everything else.
  assert.equal(r.hits[0]?.paperId, 9);
  assert.ok(MATCH_WINDOW >= 1000, 'the window covers the 50 pages of the search page');
});

test('above the match window: the newest matches are ranked, with the same scores, and the total is a lower bound', async () => {
  const exact = await search('lattice');
  const scoreOf = new Map(exact.hits.map((h) => [h.paperId, h.score]));
  const r = await search('lattice', { matchWindow: 5 });
  assert.equal(r.total, 5);
  assert.equal(r.totalIsLowerBound, true);
  assert.equal(r.rankedNewest, 5);
  assert.deepEqual([...ids(r)].sort((a, b) => a - b), [8, 9, 10, 11, 12]);
  // Same BM25 scores as the exact ranking (the IDF is the whole index's), in score order.
  for (const h of r.hits) assert.equal(h.score, scoreOf.get(h.paperId));
  assert.deepEqual(ids(r), exact.hits.map((h) => h.paperId).filter((id) => id >= 8));
  // Pages stay inside the window: the last one is short, then nothing.
  assert.deepEqual(ids(await search('lattice', { matchWindow: 5, limit: 2, offset: 4 })), ids(r).slice(4));
  assert.deepEqual(ids(await search('lattice', { matchWindow: 5, limit: 2, offset: 5 })), []);
  // count: false leaves the total out but ranks the same way.
  const uncounted = await search('lattice', { matchWindow: 5, count: false });
  assert.equal(uncounted.total, null);
  assert.equal(uncounted.totalIsLowerBound, false);
  assert.equal(uncounted.rankedNewest, 5);
  assert.deepEqual(ids(uncounted), ids(r));
  // Exactly as many matches as the window: exact.
  const full = await search('lattice', { matchWindow: 12 });
  assert.deepEqual([full.total, full.totalIsLowerBound, full.rankedNewest], [12, false, null]);
});

test('the window counts filtered matches', async () => {
  // hep-lat papers are the even ids; the newest three of them are 8, 10, 12.
  const r = await search('lattice', { matchWindow: 3, categories: ['hep-lat'] });
  assert.deepEqual([r.total, r.totalIsLowerBound, r.rankedNewest], [3, true, 3]);
  assert.deepEqual([...ids(r)].sort((a, b) => a - b), [8, 10, 12]);
  const dated = await search('lattice', { matchWindow: 3, to: '2024-01-06' });
  assert.deepEqual([...ids(dated)].sort((a, b) => a - b), [4, 5, 6]);
  const between = await search('lattice', { from: '2024-01-03', to: '2024-01-04' });
  assert.deepEqual([between.total, [...ids(between)].sort((a, b) => a - b)], [2, [3, 4]]);
  const empty = await search('lattice', { from: '2030-01-01' });
  assert.deepEqual([empty.total, empty.totalIsLowerBound, empty.hits.length], [0, false, 0]);
});

test('any mode ranks every match; only its count stops at the window', async () => {
  const r = await search('lattice gauge', { mode: 'any', matchWindow: 5 });
  assert.equal(r.rankedNewest, null);
  assert.equal(r.total, 5);
  assert.equal(r.totalIsLowerBound, true);
  assert.equal(r.hits.length, 12);
  assert.equal(r.hits[0]?.paperId, 9);
});

test('featuredOnly keeps the visible featured papers', async () => {
  const r = await search('lattice', { featuredOnly: true });
  assert.deepEqual([...ids(r)].sort((a, b) => a - b), [3, 4], 'paper 9 was hidden');
  assert.equal(r.total, 2);
  const withCategory = await search('lattice', { featuredOnly: true, categories: ['hep-lat'] });
  assert.deepEqual(ids(withCategory), [4]);
  assert.deepEqual(ids(await search('marker5', { featuredOnly: true })), []);
  assert.deepEqual(ids(await search('marker3', { featuredOnly: false })), [3]);
});

test('every hit gets its own snippet', async () => {
  const r = await search('lattice', { limit: 4, offset: 2 });
  assert.equal(r.hits.length, 4);
  for (const h of r.hits) {
    assert.match(h.snippet.value, new RegExp(`marker${h.paperId} `), `paper ${h.paperId}: ${h.snippet.value}`);
    assert.match(h.snippet.value, /<mark>lattice<\/mark>/);
  }
  const none = await search('lattice', { limit: 2, snippets: false });
  assert.deepEqual(none.hits.map((h) => h.snippet.value), ['', '']);
});

test('onlyIds ranks just the listed papers that match, in BM25 order, with their snippets', async () => {
  const all = ids(await search('lattice'));
  const listed = [11, 2, 7, 40];
  const r = await search('lattice', { onlyIds: listed });
  assert.deepEqual(ids(r), all.filter((id) => listed.includes(id)), 'paper 40 does not exist; the others in rank order');
  for (const h of r.hits) assert.match(h.snippet.value, new RegExp(`marker${h.paperId} `));
  assert.deepEqual(ids(await search('gauge', { onlyIds: [5] })), [5]);
  assert.deepEqual(ids(await search('marker5', { onlyIds: [4, 6] })), [], 'papers between the listed ones are not included');
  assert.deepEqual(ids(await search('lattice', { onlyIds: [] })), []);
});

test('no searchable terms, and no match', async () => {
  const r = await search('-lattice');
  assert.deepEqual([r.total, r.totalIsLowerBound, r.rankedNewest, r.hits.length], [0, false, null, 0]);
  assert.ok(r.problem);
  const none = await search('zzzqqq');
  assert.deepEqual([none.total, none.hits.length, none.problem], [0, 0, undefined]);
});
