/**
 * The author-name index (src/db/paper-author-index.ts): after any import it
 * holds exactly the parsed names of every paper in order; a bulk import lets
 * it trail and ends in step; a paper whose authors change is re-indexed; a
 * paper updated before it was indexed is indexed with its new authors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncPaperAuthors } from '../src/db/paper-author-index.js';
import type { Database } from '../src/db/connection.js';
import { importPaths } from '../src/ingest/import.js';
import type { ParsedAuthor } from '../src/papers/authors.js';
import { tempDataDir } from './support/cli.js';
import { openTestDatabase } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

/** Every paper's author names from papers.authors, and what the index holds, as comparable text. */
async function indexAgainstPapers(database: Database): Promise<{ expected: string[]; indexed: string[] }> {
  const papers = await database.db.selectFrom('papers').select(['id', 'authors']).orderBy('id').execute();
  const expected = papers.flatMap((p) => (JSON.parse(p.authors) as ParsedAuthor[]).map((a, i) => `${p.id}/${i}/${a.name}`));
  const rows = await database.db.selectFrom('paper_authors').select(['paper_id', 'position', 'name']).orderBy('paper_id').orderBy('position').execute();
  return { expected, indexed: rows.map((r) => `${r.paper_id}/${r.position}/${r.name}`) };
}

function record(id: string, authors: string, version: number): string {
  return JSON.stringify({
    id,
    submitter: 'A. Person',
    authors,
    title: `Paper ${id}`,
    comments: null,
    'journal-ref': null,
    doi: null,
    'report-no': null,
    categories: 'cs.LG',
    license: null,
    abstract: 'An abstract.',
    versions: Array.from({ length: version }, (_, i) => ({ version: `v${i + 1}`, created: `Mon, ${2 + i} Apr 2007 19:18:42 GMT` })),
    update_date: `2007-04-0${3 + version}`,
    authors_parsed: authors.split(' and ').map((name) => {
      const parts = name.split(' ');
      return [parts.at(-1) ?? '', parts.slice(0, -1).join(' '), ''];
    }),
  });
}

test('after importing the shared arXiv data the index holds every parsed author name in order', { skip: shared.skip }, async () => {
  const database = await openTestDatabase();
  try {
    await importPaths(database, [join(shared.dir, 'arxiv')]);
    const { expected, indexed } = await indexAgainstPapers(database);
    assert.ok(expected.length > 5000, `${expected.length} author names`);
    assert.deepEqual(indexed, expected);
    assert.equal(await syncPaperAuthors(database), 0, 'nothing left to index');
  } finally {
    await database.close();
  }
});

test('authors that change on re-import are re-indexed, before and after the paper was first indexed', async () => {
  const database = await openTestDatabase();
  const dir = tempDataDir('paperboy-authors-');
  try {
    writeFileSync(join(dir, 'v1.jsonl'), `${record('2101.00001', 'Ada Lovelace and Alan Turing', 1)}\n`);
    await importPaths(database, [join(dir, 'v1.jsonl')]);
    writeFileSync(join(dir, 'v2.jsonl'), `${record('2101.00001', 'Ada Lovelace and Émilie du Châtelet and Alan Turing', 2)}\n`);
    await importPaths(database, [join(dir, 'v2.jsonl')]);
    let { expected, indexed } = await indexAgainstPapers(database);
    assert.deepEqual(indexed, expected);
    assert.ok(indexed.some((r) => r.endsWith('/1/Émilie du Châtelet')), indexed.join(', '));

    // A paper written and changed while the index trails is indexed once, as it is now.
    await database.db.updateTable('paper_author_sync').set({ last_paper_id: 0 }).execute();
    await database.db.deleteFrom('paper_authors').execute();
    await database.db
      .updateTable('papers')
      .set({ authors: JSON.stringify([{ name: 'Grace Hopper', keyname: 'Hopper', forenames: 'Grace', suffix: null, affiliations: [] }]) })
      .execute();
    assert.equal((await database.db.selectFrom('paper_authors').selectAll().execute()).length, 0, 'the trigger leaves unindexed papers to the sync');
    await syncPaperAuthors(database);
    ({ expected, indexed } = await indexAgainstPapers(database));
    assert.deepEqual(indexed, expected);
    assert.deepEqual(indexed.map((r) => r.split('/')[2]), ['Grace Hopper']);
  } finally {
    await database.close();
  }
});

test('a bulk sync waits for its lag, and concurrent syncs index each paper once', async () => {
  const database = await openTestDatabase();
  const dir = tempDataDir('paperboy-authors-');
  try {
    const lines = Array.from({ length: 30 }, (_, i) => record(`2101.${String(i + 1).padStart(5, '0')}`, `Author ${i} and Shared Name`, 1));
    writeFileSync(join(dir, 'many.jsonl'), `${lines.join('\n')}\n`);
    await importPaths(database, [join(dir, 'many.jsonl')]);
    await database.db.updateTable('paper_author_sync').set({ last_paper_id: 0 }).execute();
    await database.db.deleteFrom('paper_authors').execute();

    assert.equal(await syncPaperAuthors(database, { minLag: 31 }), 0, 'fewer papers waiting than the lag');
    const added = await Promise.all([syncPaperAuthors(database), syncPaperAuthors(database), syncPaperAuthors(database)]);
    assert.equal(added.reduce((a, b) => a + b, 0), 60);
    const { expected, indexed } = await indexAgainstPapers(database);
    assert.deepEqual(indexed, expected);
  } finally {
    await database.close();
  }
});
