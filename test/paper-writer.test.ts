/**
 * The paper writer on the suite's engine: the SQLite writer applies items one
 * by one, the PostgreSQL writer merges a batch in memory and writes its net
 * effect. Both must give the same outcomes and rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../src/db/connection.js';
import { withPaperBatch } from '../src/db/paper-writer.js';
import { prepareItem } from '../src/ingest/prepare.js';
import type { ParseItem, RawPaper } from '../src/ingest/record.js';
import { openTestDatabase } from './support/database.js';

const V1 = { version: 1, submittedAt: '2024-01-08T10:00:00.000Z' };
const V2 = { version: 2, submittedAt: '2024-02-01T09:30:00.000Z' };

function paper(id: string, version: number, categories: string[], extra: Partial<RawPaper> = {}): ParseItem {
  return {
    kind: 'paper',
    at: { line: 1 },
    paper: {
      id,
      version,
      title: `A paper numbered ${id}, version ${version}`,
      abstract: 'We write papers twice in one batch.',
      authors: { kind: 'text', value: 'Ada Lovelace and Alan Turing' },
      categories,
      versions: version === 1 ? [V1] : [V1, V2],
      ...extra,
    },
  };
}

async function write(database: Database, items: ParseItem[]): Promise<string[]> {
  const outcomes = await withPaperBatch(database, (batch) => batch.apply(items.map(prepareItem)));
  return outcomes.map((o) => o.status);
}

async function stored(database: Database, arxivId: string) {
  const row = await database.db.selectFrom('papers').selectAll().where('arxiv_id', '=', arxivId).executeTakeFirstOrThrow();
  const categories = await database.db
    .selectFrom('paper_categories')
    .select(['category', 'is_primary'])
    .where('paper_id', '=', row.id)
    .orderBy('category')
    .execute();
  return { row, categories };
}

test('a paper seen several times in one batch merges in order, with its announcement', async () => {
  const database = await openTestDatabase();
  try {
    const statuses = await write(database, [
      paper('2401.00001', 1, ['cs.LG', 'cs.AI']),
      paper('2401.00002', 1, ['math.CO']),
      paper('2401.00001', 2, ['stat.ML', 'cs.LG'], { comments: '12 pages' }),
      { kind: 'announcement', at: { line: 4 }, announcement: { id: '2401.00001', version: 1, type: 'new', announcedOn: '2024-01-10' } },
      { kind: 'announcement', at: { line: 5 }, announcement: { id: '2401.99999', version: 1, type: 'new', announcedOn: '2024-01-10' } },
      { kind: 'skip', at: { line: 6 }, reason: 'not a paper' },
    ]);
    assert.deepEqual(statuses, ['imported', 'imported', 'updated', 'updated', 'skipped', 'skipped']);

    const a = await stored(database, '2401.00001');
    assert.equal(a.row.version, 2);
    assert.equal(a.row.title, 'A paper numbered 2401.00001, version 2');
    assert.equal(a.row.comments, '12 pages');
    assert.equal(a.row.categories, 'stat.ML cs.LG');
    assert.equal(a.row.primary_category, 'stat.ML');
    assert.equal(a.row.announced_on, '2024-01-10');
    assert.equal(a.row.announced_estimated, 0);
    assert.deepEqual(a.categories, [
      { category: 'cs.LG', is_primary: 0 },
      { category: 'stat.ML', is_primary: 1 },
    ]);
    assert.equal((await database.db.selectFrom('papers').select('id').execute()).length, 2);

    // The same records again change nothing; a new version with other categories rewrites them.
    const again = await write(database, [
      paper('2401.00001', 2, ['stat.ML', 'cs.LG'], { comments: '12 pages' }),
      paper('2401.00002', 2, ['math.PR', 'math.CO']),
    ]);
    assert.deepEqual(again, ['unchanged', 'updated']);
    const b = await stored(database, '2401.00002');
    assert.equal(b.row.version, 2);
    assert.deepEqual(b.categories, [
      { category: 'math.CO', is_primary: 0 },
      { category: 'math.PR', is_primary: 1 },
    ]);
    // The first paper's row is as the first batch left it.
    assert.deepEqual((await stored(database, '2401.00001')).row, a.row);
  } finally {
    await database.close();
  }
});

test('a failing batch commits nothing, neither papers nor the bookkeeping written beside them', async () => {
  const database = await openTestDatabase();
  try {
    await assert.rejects(
      withPaperBatch(database, async (batch, trx) => {
        await batch.apply([prepareItem(paper('2401.00003', 1, ['cs.DL']))]);
        await trx
          .insertInto('import_progress')
          .values({ file_key: 'f:1:1', path: 'f', items_done: 1, finished: 0, updated_at: new Date().toISOString() })
          .execute();
        throw new Error('the caller fails after writing');
      }),
      /the caller fails after writing/,
    );
    assert.deepEqual(await database.db.selectFrom('papers').select('id').execute(), []);
    assert.deepEqual(await database.db.selectFrom('paper_categories').select('paper_id').execute(), []);
    assert.deepEqual(await database.db.selectFrom('import_progress').select('file_key').execute(), []);
  } finally {
    await database.close();
  }
});
