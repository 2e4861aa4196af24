import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import type { ImportSummary } from '../src/ingest/import.js';
import { runCli, tempDataDir } from './support/cli.js';
import { instanceEnv, testEngine } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

/** Inputs the shared data README lists as synthetic or broken, and the API's error feeds. */
const KNOWN_BAD = [
  /1208\.999[89]\.abs$/,
  /1501\.99999\.abs$/,
  /math-ph\/papers\/0509\/0509037\.abs$/,
  /api-atom\/arxiv\.py-2026\/xml\/id_(abc|0000\.0000)_/,
  /raw-json\//,
  /taxonomy\//,
];

async function importJson(env: Record<string, string>, ...paths: string[]): Promise<ImportSummary> {
  const result = await runCli(['import', '--json', ...paths], env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as ImportSummary;
}

test('imports every real record of the shared arXiv data, then finds it all unchanged', { skip: shared.skip }, async () => {
  const env = await instanceEnv();
  const arxiv = join(shared.dir, 'arxiv');
  const first = await importJson(env, arxiv);

  const unexpected = first.problems.filter((p) => !KNOWN_BAD.some((re) => re.test(p.file)));
  assert.deepEqual(unexpected, [], 'only the known synthetic inputs may be reported as problems');
  assert.ok(first.imported > 2500, `imported ${first.imported}`);
  const accounted = (s: ImportSummary) =>
    s.files.reduce((n, f) => n + f.imported + f.updated + f.unchanged + f.skipped, 0);
  assert.equal(accounted(first), first.imported + first.updated + first.unchanged + first.skipped);

  const database = openDatabase(loadConfig(env).database, { dataDir: tempDataDir() });
  try {
    const inRange = async (from: string, to: string): Promise<number> =>
      (await database.db.selectFrom('papers').select('id').where('arxiv_id', '>=', from).where('arxiv_id', '<=', to).execute())
        .length;
    assert.equal(await inRange('0704.0001', '0704.0200'), 200);
    assert.equal(await inRange('0704.0001', '0704.1001'), 1001);

    const p = await database.db.selectFrom('papers').selectAll().where('arxiv_id', '=', '0704.0001').executeTakeFirstOrThrow();
    assert.match(String(p.title), /^Calculation of prompt diphoton production cross sections at Tevatron and LHC energies$/);
    assert.equal(p.doi, '10.1103/physrevd.76.013009');
    assert.equal(p.primary_category, 'hep-ph');
    assert.equal(p.journal_ref, 'Phys.Rev.D76:013009,2007');
    const versions = JSON.parse(String(p.versions)) as { version: number; submittedAt: string }[];
    assert.equal(versions[0]?.version, 1);
    assert.equal(versions[0]?.submittedAt, '2007-04-02T19:18:42.000Z');
    assert.ok(versions.length >= 2);
    const authors = JSON.parse(String(p.authors)) as { name: string; keyname: string }[];
    assert.equal(authors[0]?.keyname, 'Balázs');
    assert.equal(authors[0]?.name, 'C. Balázs');
    assert.equal(authors.length, 4);

    const oldStyle = await database.db.selectFrom('papers').select('id').where('arxiv_id', '=', 'hep-th/9901001').executeTakeFirst();
    assert.ok(oldStyle, 'old-style ids are imported');
    const categoryRows = await database.db.selectFrom('paper_categories').select('category').where('paper_id', '=', p.id).execute();
    assert.deepEqual(
      categoryRows.map((c) => c.category).sort(),
      p.categories.split(' ').sort(),
    );
  } finally {
    await database.close();
  }
  if (testEngine === 'sqlite') {
    const file = loadConfig(env).databaseFile;
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      // Search index in step with the table.
      const hits = db.prepare("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'diphoton'").pluck().get() as number;
      assert.ok(hits >= 1);
    } finally {
      db.close();
    }
    // FTS5 compares its index with the content it was built from: every insert and
    // every merge-update (hundreds here, from overlapping sources) kept it in step.
    const rw = new BetterSqlite3(file);
    try {
      rw.prepare("INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)").run();
    } finally {
      rw.close();
    }
  }

  const second = await importJson(env, arxiv);
  assert.equal(second.imported, 0);
  assert.equal(second.updated, 0);
  assert.equal(second.unchanged, first.imported + first.updated + first.unchanged);
});

test('a garbage file among real ones is reported and the rest still imports', { skip: shared.skip }, async () => {
  const env = await instanceEnv();
  const inputs = join(tempDataDir('paperboy-inputs-'), 'in');
  mkdirSync(inputs);
  copyFileSync(
    join(shared.dir, 'arxiv/kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl'),
    join(inputs, 'kaggle.jsonl'),
  );
  writeFileSync(join(inputs, 'garbage.bin'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 7, 9, 10, 13]));
  writeFileSync(join(inputs, 'notes.json'), '{"hello": "world"}\n');
  const summary = await importJson(env, inputs);
  assert.equal(summary.imported, 200);
  assert.equal(summary.problems.length, 2);
  for (const p of summary.problems) assert.match(p.reason, /^unreadable file: /);
});

test('a malformed line is reported with its position and the others import', async () => {
  const env = await instanceEnv();
  const file = join(tempDataDir('paperboy-inputs-'), 'broken.jsonl');
  const good = (id: string) =>
    JSON.stringify({
      id,
      submitter: 'A. Person',
      authors: 'A. Person and B. Other',
      title: `Paper ${id}`,
      comments: null,
      'journal-ref': null,
      doi: null,
      'report-no': null,
      categories: 'cs.LG',
      license: null,
      abstract: '  An abstract.\n',
      versions: [{ version: 'v1', created: 'Mon, 2 Apr 2007 19:18:42 GMT' }],
      update_date: '2007-04-03',
      authors_parsed: [['Person', 'A.', '']],
    });
  writeFileSync(file, [good('2101.00001'), '{"id": "2101.00002", "title": ', good('2101.00003'), ''].join('\n'));
  const summary = await importJson(env, file);
  assert.equal(summary.imported, 2);
  assert.equal(summary.problems.length, 1);
  assert.equal(summary.problems[0]?.at.line, 2);
});

test('a missing path is a usage error', async () => {
  const result = await runCli(['import', '/nonexistent/path'], { PAPERBOY_DATA_DIR: tempDataDir() });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /no such file or directory: \/nonexistent\/path/);
});
