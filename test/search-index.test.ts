/**
 * Server mode's derived keyword index (src/db/keyword-index-derived.ts): a
 * write committed by any connection is found by the next search, a transaction
 * that commits after a later one is not skipped, and the file is rebuilt when
 * it is deleted.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type Database } from '../src/db/connection.js';
import BetterSqlite3 from 'better-sqlite3';
import { keywordIndexStatus, pruneSearchTombstones, rebuildKeywordIndex } from '../src/db/keyword-index.js';
import { TOMBSTONE_RETENTION_MS } from '../src/db/keyword-index-derived.js';
import type { DB } from '../src/db/schema.js';
import { unfeaturePaper, featurePaper } from '../src/feeds/featuring.js';
import { searchKeyword } from '../src/search/keyword.js';
import { tempDataDir } from './support/cli.js';
import { openTestDatabase, reopen, testEngine } from './support/database.js';

const skip = testEngine === 'postgres' ? false : 'server mode only: SQLite writes its index with each paper';

let writer: Database;
let dataDir: string;
let searcher: Database;

async function insertPaper(db: Kysely<DB>, arxivId: string, title: string): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('papers')
    .values({
      arxiv_id: arxivId,
      version: 1,
      title,
      title_text: title,
      abstract: `An abstract about ${title}.`,
      abstract_text: null,
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
    })
    .execute();
  await db
    .insertInto('paper_categories')
    .values((eb) => ({
      category: 'cs.LG',
      paper_id: eb.selectFrom('papers').select('id').where('arxiv_id', '=', arxivId),
      is_primary: 1,
    }))
    .execute();
}

const found = async (q: string, options: { featuredOnly?: boolean } = {}): Promise<string[]> =>
  (await searchKeyword(searcher, q, { limit: 10, ...options })).hits.map((h) => h.arxivId);

before(async () => {
  if (skip) return;
  writer = await openTestDatabase();
  dataDir = tempDataDir();
  searcher = openDatabase(writer.location, { dataDir });
});

after(async () => {
  if (skip) return;
  await searcher.close();
  await writer.close();
});

test('a paper written by another connection is found by the next search', { skip }, async () => {
  assert.deepEqual(await found('zeppelin'), []);
  await insertPaper(writer.db, '2611.00001', 'Zeppelin flight dynamics');
  assert.deepEqual(await found('zeppelin'), ['2611.00001']);
  await writer.db
    .updateTable('papers')
    .set({ title_text: 'Airship flight dynamics', abstract: 'An abstract about airships.' })
   .where('arxiv_id', '=', '2611.00001').execute();
  assert.deepEqual(await found('zeppelin'), []);
  assert.deepEqual(await found('airship'), ['2611.00001']);
  const status = await keywordIndexStatus(searcher);
  assert.equal(status.caughtUp, true);
  assert.equal(status.papers, 1);
  // Pending counts from the oldest transaction running anywhere on the server
  // at the last sync, which another test file's transaction can hold back for
  // a moment: the count drains to 0 with the next syncs.
  const deadline = Date.now() + 5_000;
  while ((await keywordIndexStatus(searcher)).pendingChanges !== 0) {
    assert.ok(Date.now() < deadline, 'pending changes never drained');
    await found('airship');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

test('with no search asking, the background sync applies a write within 3 s', { skip }, async () => {
  const before = (await keywordIndexStatus(searcher)).papers ?? 0;
  await insertPaper(writer.db, '2611.00009', 'Dirigible mooring masts');
  const started = Date.now();
  // The status reads the file as it is, without syncing it.
  while ((await keywordIndexStatus(searcher)).papers === before) {
    assert.ok(Date.now() - started < 3_000, 'not applied within 3 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await writer.db.deleteFrom('papers').where('arxiv_id', '=', '2611.00009').execute();
  assert.deepEqual(await found('dirigible'), []);
});

test('featuring and unfeaturing change featured-only results', { skip }, async () => {
  assert.deepEqual(await found('airship', { featuredOnly: true }), []);
  await featurePaper(writer, { arxivId: '2611.00001', on: '2026-11-24', source: 'curator', by: 'ada' });
  assert.deepEqual(await found('airship', { featuredOnly: true }), ['2611.00001']);
  await unfeaturePaper(writer, '2611.00001', 'ada');
  assert.deepEqual(await found('airship', { featuredOnly: true }), []);
});

test('a transaction that commits after a later one is not skipped', { skip }, async () => {
  const slow = await writer.db.startTransaction().execute();
  try {
    await insertPaper(slow, '2611.00002', 'Ornithopter wings');
    // Another process commits meanwhile, and a search syncs past it.
    const other = reopen(writer);
    try {
      await insertPaper(other.db, '2611.00003', 'Ornithopter tails');
    } finally {
      await other.close();
    }
    assert.deepEqual(await found('ornithopter'), ['2611.00003']);
    await slow.commit().execute();
  } catch (err) {
    await slow.rollback().execute();
    throw err;
  }
  assert.deepEqual((await found('ornithopter')).sort(), ['2611.00002', '2611.00003']);
});

test('a paper deleted from a session with another search_path (an admin in psql) leaves the index', { skip }, async () => {
  await insertPaper(writer.db, '2611.00010', 'Zeppelin hangars');
  assert.deepEqual(await found('zeppelin'), ['2611.00010']);
  const schema = (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(writer.db)).rows[0]?.s ?? '';
  await writer.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL search_path = pg_catalog`.execute(trx);
    await sql`DELETE FROM ${sql.id(schema, 'papers')} WHERE arxiv_id = ${'2611.00010'}`.execute(trx);
  });
  assert.deepEqual(await found('zeppelin'), []);
});

test('deleted papers leave the index; a deleted index file is rebuilt', { skip }, async () => {
  await writer.db.deleteFrom('papers').where('arxiv_id', '=', '2611.00003').execute();
  assert.deepEqual(await found('ornithopter'), ['2611.00002']);

  await searcher.close();
  for (const file of readdirSync(join(dataDir, 'search'))) rmSync(join(dataDir, 'search', file));
  searcher = openDatabase(writer.location, { dataDir });
  assert.deepEqual([...(await found('ornithopter')), ...(await found('airship'))], ['2611.00002', '2611.00001']);
  await rebuildKeywordIndex(searcher);
  assert.deepEqual(await found('airship'), ['2611.00001']);
  assert.equal(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM papers`.execute(writer.db)).rows[0]?.n), 2);
});

test('processes sharing a data directory each hold an index file of their own; a freed file is taken back', { skip }, async () => {
  const shared = tempDataDir();
  const files = () => readdirSync(join(shared, 'search')).filter((f) => f.endsWith('.db')).sort();
  const search = async (database: Database) => (await searchKeyword(database, 'airship', { limit: 5 })).hits.map((h) => h.arxivId);
  const first = openDatabase(writer.location, { dataDir: shared });
  const second = openDatabase(writer.location, { dataDir: shared });
  assert.deepEqual(await search(first), ['2611.00001']);
  assert.deepEqual(await search(second), ['2611.00001']);
  const [own, other] = files();
  assert.ok(own !== undefined && other !== undefined && files().length === 2, `one file each: ${files().join(', ')}`);
  await first.close();
  // The first file is free again: a new process takes it and catches up rather than building a third.
  await insertPaper(writer.db, '2611.00011', 'Airship envelopes');
  const third = openDatabase(writer.location, { dataDir: shared });
  assert.deepEqual((await search(third)).sort(), ['2611.00001', '2611.00011']);
  assert.equal(files().length, 2);
  await third.close();
  await second.close();
});

test('old tombstones are pruned; a file last current before the oldest kept tombstone rebuilds instead of syncing', { skip }, async () => {
  await insertPaper(writer.db, '2611.00012', 'Blimp mooring lines');
  assert.deepEqual(await found('blimp'), ['2611.00012']);
  await searcher.close();
  await writer.db.deleteFrom('papers').where('arxiv_id', '=', '2611.00012').execute();
  const monthAgo = Date.now() - TOMBSTONE_RETENTION_MS - 60_000;
  await sql`UPDATE search_deletions SET deleted_at = ${monthAgo}`.execute(writer.db);
  assert.ok((await pruneSearchTombstones(writer)) >= 1);
  assert.equal(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM search_deletions`.execute(writer.db)).rows[0]?.n), 0);
  // The file was last current a month ago, as if its process had been down since.
  for (const name of readdirSync(join(dataDir, 'search')).filter((f) => f.endsWith('.db'))) {
    const file = new BetterSqlite3(join(dataDir, 'search', name));
    file.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('synced_at', ?)").run(String(monthAgo));
    file.close();
  }
  searcher = openDatabase(writer.location, { dataDir });
  assert.deepEqual(await found('blimp'), [], 'rebuilt: the deletion whose tombstone is gone is not missed');
  assert.ok((await found('airship')).includes('2611.00001'), 'and everything else is back');
});
