import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type DatabaseLocation } from '../src/db/connection.js';
import { featurePaper, unfeaturePaper } from '../src/feeds/featuring.js';
import { searchKeyword, type KeywordOptions } from '../src/search/keyword.js';
import { runCli, tempDataDir } from './support/cli.js';
import { instanceEnv, run } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();
const dataDir = tempDataDir();
let env: Record<string, string> = { PAPERBOY_DATA_DIR: dataDir };

/** The instance's database, as a second process would open it. */
function open() {
  const location: DatabaseLocation =
    env.DATABASE_URL === undefined
      ? { engine: 'sqlite', file: join(dataDir, 'paperboy.db') }
      : { engine: 'postgres', url: env.DATABASE_URL };
  return openDatabase(location, { dataDir: tempDataDir() });
}

interface Output {
  total: number | null;
  problem?: string;
  hits: { arxivId: string; title: string; authorsText: string; score: number; snippet: string }[];
}

async function search(...args: string[]): Promise<Output> {
  const r = await runCli(['search', '--json', ...args], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Output;
}

const ids = (o: Output): string[] => o.hits.map((h) => h.arxivId);

before(async () => {
  env = await instanceEnv(dataDir);
  if (shared.skip !== false) return;
  const r = await runCli(['import', join(shared.dir, 'arxiv/kaggle-jsonl')], env);
  assert.equal(r.code, 0, r.stderr);
});

test('finds the diphoton paper first, with a highlighted snippet', { skip: shared.skip }, async () => {
  const o = await search('diphoton');
  assert.equal(o.hits[0]?.arxivId, '0704.0001');
  assert.ok((o.total ?? 0) >= 1);
  assert.match(o.hits[0]?.snippet ?? '', /<mark>diphoton<\/mark>/);
  assert.ok((o.hits[0]?.score ?? 0) > 0, 'higher scores are better');
});

test('phrases, exclusions, author: and cat: filters', { skip: shared.skip }, async () => {
  const [phrase, reversed, excluded, author, wrongAuthor, cat, archive, wrongCat, notCat] = await Promise.all([
    search('"prompt diphoton"'),
    search('"diphoton prompt"'),
    search('diphoton -Tevatron'),
    search('author:Berger diphoton'),
    search('author:diphoton'),
    search('diphoton cat:hep-ph'),
    search('cat:hep', 'diphoton'),
    search('diphoton cat:math'),
    search('diphoton -cat:hep-ph'),
  ]);
  assert.deepEqual(ids(phrase), ['0704.0001']);
  assert.deepEqual(ids(reversed), []);
  assert.deepEqual(ids(excluded), []);
  assert.deepEqual(ids(author), ['0704.0001']);
  assert.deepEqual(ids(wrongAuthor), []);
  assert.deepEqual(ids(cat), ['0704.0001']);
  assert.deepEqual(ids(archive), [], 'cat:hep is no archive of hep-ph');
  assert.deepEqual(ids(wrongCat), []);
  assert.deepEqual(ids(notCat), []);
  const math = await search('cat:math', 'space');
  assert.ok(math.hits.length > 0);
});

test('FTS5 syntax and bad syntax never crash the command', { skip: shared.skip }, async () => {
  for (const q of ['"', 'NEAR(', '*', 'title:* ^x', '"unbalanced diphoton', 'a OR b NOT', '{title_text}: x']) {
    const r = await runCli(['search', q], env);
    assert.equal(r.code, 0, `${q}: ${r.stderr}`);
    assert.equal(r.stderr, '');
  }
  const only = await runCli(['search', '-x'], env);
  assert.equal(only.code, 0, only.stderr);
  assert.match(only.stdout, /no searchable terms/);
  const star = await runCli(['search', '*'], env);
  assert.match(star.stdout, /no searchable terms/);
  const none = await runCli(['search', 'zzzqqqxxx'], env);
  assert.match(none.stdout, /No results/);
  assert.equal((await search('"unbalanced diphoton')).hits.length, 0);
  assert.equal((await search('diphoton "')).hits[0]?.arxivId, '0704.0001');
});

test('snippets are HTML-escaped', { skip: shared.skip }, async () => {
  // 0704.0049: "... smooth Fano d-polytopes for d<=7 ..."
  const o = await search('"Fano d-polytopes for d"');
  const hit = o.hits.find((h) => h.arxivId === '0704.0049');
  assert.ok(hit, JSON.stringify(ids(o)));
  assert.match(hit.snippet, /<\/mark>&lt;=7/);
  assert.equal(hit.snippet.replace(/<\/?mark>/g, '').includes('<'), false);
});

test('human output; before any paper is embedded, hybrid (the default) runs by keyword and says so', { skip: shared.skip }, async () => {
  const r = await runCli(['search', 'diphoton', '--limit', '1', '--mode', 'keyword'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1\. 0704\.0001 {2}Calculation of prompt diphoton/);
  assert.match(r.stdout, /\[diphoton\]/);
  const hybrid = await runCli(['search', 'diphoton', '--limit', '1'], env);
  assert.equal(hybrid.code, 0, hybrid.stderr);
  assert.match(hybrid.stdout, /keyword only: papers are not embedded yet/);
  assert.match(hybrid.stdout, /1\. 0704\.0001/);
  const badLimit = await runCli(['search', 'x', '--limit', '0'], env);
  assert.equal(badLimit.code, 2);
  const badMode = await runCli(['search', 'x', '--mode', 'fuzzy'], env);
  assert.equal(badMode.code, 2);
});

test('date range and category options of searchKeyword', { skip: shared.skip }, async () => {
  const database = open();
  try {
    const found = async (options: Partial<KeywordOptions>): Promise<string[]> =>
      (await searchKeyword(database, 'diphoton', { limit: 5, ...options })).hits.map((h) => h.arxivId);
    assert.deepEqual(await found({ from: '2007-04-01', to: '2007-04-30' }), ['0704.0001']);
    assert.deepEqual(await found({ from: '2007-05-01' }), []);
    assert.deepEqual(await found({ to: '2007-03-31' }), []);
    assert.deepEqual(await found({ categories: ['math', 'hep-ph'] }), ['0704.0001']);
    assert.deepEqual(await found({ categories: ['math'] }), []);
    const paged = await searchKeyword(database, 'quantum', { limit: 2, offset: 1 });
    const all = await searchKeyword(database, 'quantum', { limit: 3 });
    assert.deepEqual(paged.hits.map((h) => h.arxivId), all.hits.slice(1).map((h) => h.arxivId));
    assert.equal(paged.total, all.total);
  } finally {
    await database.close();
  }
});

test('featuredOnly: papers featured in the daily feed and not hidden since', { skip: shared.skip }, async () => {
  const database = open();
  try {
    const found = async (featuredOnly: boolean): Promise<string[]> =>
      (await searchKeyword(database, 'diphoton', { limit: 5, featuredOnly })).hits.map((h) => h.arxivId);
    assert.deepEqual(await found(true), []);
    await featurePaper(database, { arxivId: '0704.0001', on: '2007-04-03', source: 'curator', by: 'alice' });
    assert.deepEqual(await found(true), ['0704.0001']);
    const result = await searchKeyword(database, 'diphoton', { limit: 5, featuredOnly: true });
    assert.deepEqual([result.total, result.totalIsLowerBound], [1, false]);
    assert.equal(await unfeaturePaper(database, '0704.0001', 'alice'), true);
    assert.deepEqual(await found(true), []);
    assert.deepEqual(await found(false), ['0704.0001']);
  } finally {
    await run(database, sql`DELETE FROM featured WHERE paper_id = (SELECT id FROM papers WHERE arxiv_id = '0704.0001')`);
    await database.close();
  }
});
