import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyCategoryRule, CATEGORY_RULE, FeatureError, featurePaper, unfeaturePaper } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { emptyApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';
import { sql } from 'kysely';
import type { Database } from '../src/db/connection.js';
import { rows as queryRows } from './support/database.js';

function kaggleFile(records: { id: string; categories: string; created: string; title?: string }[]): string {
  const file = join(tempDataDir('paperboy-featuring-'), 'papers.jsonl');
  writeFileSync(
    file,
    records
      .map((r) =>
        JSON.stringify({
          id: r.id,
          authors: 'A. Person, B. Person',
          title: r.title ?? `Paper ${r.id}`,
          categories: r.categories,
          abstract: 'An abstract about things.',
          versions: [{ version: 'v1', created: r.created }],
        }),
      )
      .join('\n') + '\n',
  );
  return file;
}

function featuredRows(database: Database) {
  return queryRows<{ arxiv_id: string; featured_on: string; source: string; featured_by: string; hidden_at: string | null }>(
    database,
    sql`SELECT p.arxiv_id, f.featured_on, f.source, f.featured_by, f.hidden_at FROM featured f
       JOIN papers p ON p.id = f.paper_id ORDER BY p.arxiv_id`,
  );
}

test('the category rule features new announcements once, on their announcement day', async () => {
  const t = await emptyApp({ ARXIV_CATEGORIES: 'cs.LG,hep-th' });
  try {
    const database = t.ctx.database;
    await importPaths(t.ctx.database, [
      kaggleFile([
        { id: '2101.00001', categories: 'cs.LG stat.ML', created: 'Mon, 4 Jan 2021 10:00:00 GMT' },
        { id: '2101.00002', categories: 'math.AG', created: 'Mon, 4 Jan 2021 10:00:00 GMT' },
        { id: '2101.00003', categories: 'hep-th', created: 'Mon, 4 Jan 2021 20:00:00 GMT' },
      ]),
    ]);
    const first = await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories);
    assert.equal(first.featured, 2);
    const rows = await featuredRows(database);
    assert.deepEqual(
      rows.map((r) => [r.arxiv_id, r.source, r.featured_by]),
      [
        ['2101.00001', 'rule', CATEGORY_RULE],
        ['2101.00003', 'rule', CATEGORY_RULE],
      ],
    );
    const announced = await queryRows<{ arxiv_id: string; announced_on: string }>(
      database,
      sql`SELECT arxiv_id, announced_on FROM papers ORDER BY arxiv_id`,
    );
    for (const r of rows) assert.equal(r.featured_on, announced.find((a) => a.arxiv_id === r.arxiv_id)?.announced_on);
    // Submitted after the 14:00 New York cutoff: announced a day later than the one before it.
    assert.ok(rows[1]!.featured_on > rows[0]!.featured_on);

    assert.equal((await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories)).featured, 0, 're-running is a no-op');

    // An unfeatured paper stays unfeatured, even when its record is imported again.
    assert.equal(await unfeaturePaper(t.ctx.database, '2101.00001', 'curator-ada'), true);
    assert.equal(await unfeaturePaper(t.ctx.database, '2101.00001', 'curator-ada'), false);
    await importPaths(t.ctx.database, [
      kaggleFile([
        { id: '2101.00001', categories: 'cs.LG', created: 'Mon, 4 Jan 2021 10:00:00 GMT', title: 'Paper 2101.00001, revised' },
        { id: '2101.00004', categories: 'cs.LG', created: 'Tue, 5 Jan 2021 10:00:00 GMT' },
      ]),
    ]);
    assert.equal((await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories)).featured, 1);
    const after = await featuredRows(database);
    assert.ok(after.find((r) => r.arxiv_id === '2101.00001')?.hidden_at);
    assert.ok(after.some((r) => r.arxiv_id === '2101.00004'));
  } finally {
    await t.close();
  }
});

test('archives in ARXIV_CATEGORIES cover their categories; an empty list features nothing', async () => {
  const t = await emptyApp({ ARXIV_CATEGORIES: 'math' });
  try {
    await importPaths(t.ctx.database, [
      kaggleFile([
        { id: '2101.00002', categories: 'math.AG', created: 'Mon, 4 Jan 2021 10:00:00 GMT' },
        { id: '2101.00005', categories: 'cs.LG', created: 'Mon, 4 Jan 2021 10:00:00 GMT' },
      ]),
    ]);
    assert.equal((await applyCategoryRule(t.ctx.database, [])).featured, 0);
    // The rule's watermark moved: papers seen while the list was empty are not featured later.
    assert.equal((await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories)).featured, 0);
  } finally {
    await t.close();
  }
  const u = await emptyApp({ ARXIV_CATEGORIES: 'math' });
  try {
    await importPaths(u.ctx.database, [kaggleFile([{ id: '2101.00002', categories: 'math.AG', created: 'Mon, 4 Jan 2021 10:00:00 GMT' }])]);
    assert.equal((await applyCategoryRule(u.ctx.database, u.ctx.config.arxivCategories)).featured, 1);
  } finally {
    await u.close();
  }
});

test('curators feature by hand, moving a rule-featured paper to their day and credit', async () => {
  const t = await emptyApp({ ARXIV_CATEGORIES: 'cs.LG' });
  try {
    const database = t.ctx.database;
    await importPaths(t.ctx.database, [kaggleFile([{ id: '2101.00001', categories: 'cs.LG', created: 'Mon, 4 Jan 2021 10:00:00 GMT' }])]);
    await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories);
    await featurePaper(t.ctx.database, { arxivId: '2101.00001', on: '2021-01-08', source: 'curator', by: 'ada' });
    assert.deepEqual(
      (await featuredRows(database)).map((r) => [r.featured_on, r.source, r.featured_by]),
      [['2021-01-08', 'curator', 'ada']],
    );
    await assert.rejects(
      () => featurePaper(t.ctx.database, { arxivId: '2101.00001', on: '2021-01-09', source: 'submission', by: 'bob' }),
      (err: unknown) => err instanceof FeatureError && err.code === 'already_featured',
    );
    await assert.rejects(
      () => featurePaper(t.ctx.database, { arxivId: '9999.99999', on: '2021-01-09', source: 'curator', by: 'ada' }),
      (err: unknown) => err instanceof FeatureError && err.code === 'not_found',
    );
    await unfeaturePaper(t.ctx.database, '2101.00001', 'ada');
    await featurePaper(t.ctx.database, { arxivId: '2101.00001', on: '2021-01-10', source: 'submission', by: 'bob' });
    assert.deepEqual(
      (await featuredRows(database)).map((r) => [r.featured_on, r.source, r.featured_by, r.hidden_at]),
      [['2021-01-10', 'submission', 'bob', null]],
    );
  } finally {
    await t.close();
  }
});
