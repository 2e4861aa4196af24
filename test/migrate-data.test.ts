/**
 * `paperboy migrate-data` moves an instance SQLite → PostgreSQL → SQLite with
 * every row intact. It needs both engines whatever the pass, so it runs in the
 * PostgreSQL pass only (that pass has a server; the SQLite pass may not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { openDatabase, type Database, type DatabaseLocation } from '../src/db/connection.js';
import { canonicalRow } from '../src/db/copy.js';
import { applyCategoryRule } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { enqueue, jobSpec } from '../src/jobs/queue.js';
import { createLogger } from '../src/log.js';
import { digestJob } from '../src/papers/digest.js';
import { searchKeyword } from '../src/search/keyword.js';
import { BIN, runCli, tempDataDir, type CliResult } from './support/cli.js';
import { freshLocation, testEngine, value } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const skip = testEngine !== 'postgres' ? 'needs a PostgreSQL server as well as SQLite; runs in the PostgreSQL pass' : sharedData().skip;

interface TableReport {
  table: string;
  copied: number;
  resumedAfter: number | null;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

interface Report {
  ok: boolean;
  rowsCopied: number;
  tables: TableReport[];
  notCopied: { table: string; rows: number }[];
}

/** The environment of a `paperboy` process whose instance is at `location`. */
function envFor(location: DatabaseLocation): Record<string, string> {
  return location.engine === 'postgres'
    ? { PAPERBOY_DATA_DIR: tempDataDir(), DATABASE_URL: location.url }
    : { PAPERBOY_DATA_DIR: join(location.file, '..'), DATABASE_URL: '' };
}

function target(location: DatabaseLocation): string {
  return location.engine === 'postgres' ? location.url : location.file;
}

function migrateData(from: DatabaseLocation, to: DatabaseLocation, ...flags: string[]): Promise<CliResult> {
  return runCli(['migrate-data', '--to', target(to), '--json', ...flags], envFor(from));
}

function report(result: CliResult): Report {
  assert.equal(result.code, 0, result.stderr + result.stdout);
  return JSON.parse(result.stdout) as Report;
}

let instance: Promise<DatabaseLocation> | undefined;

/**
 * An embedded instance with the shared arXiv records imported, featured, and a
 * job queued; made once, since copying from it leaves it unchanged.
 */
function sqliteInstance(): Promise<DatabaseLocation> {
  instance ??= makeSqliteInstance();
  return instance;
}

async function makeSqliteInstance(): Promise<DatabaseLocation> {
  const dataDir = tempDataDir('paperboy-migrate-data-');
  const config = loadConfig({ PAPERBOY_DATA_DIR: dataDir, HARVEST_ENABLED: 'false' });
  const ctx = await createContext(config, createLogger('silent'));
  try {
    await importPaths(ctx.database, [join(sharedData().dir, 'arxiv')]);
    await applyCategoryRule(ctx.database, config.arxivCategories);
    await enqueue(ctx.database.db, jobSpec(digestJob, { sweep: true }, { uniqueKey: 'migrate-data-test' }));
  } finally {
    await ctx.database.close();
  }
  return config.database;
}

async function withDatabase<T>(location: DatabaseLocation, fn: (database: Database) => Promise<T>): Promise<T> {
  const database = openDatabase(location, { dataDir: tempDataDir() });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function countPapers(location: DatabaseLocation): Promise<number> {
  return withDatabase(location, async (db) => Number(await value(db, sql`SELECT count(*) FROM papers`)));
}

const checksums = (r: Report): Map<string, string> => new Map(r.tables.map((t) => [t.table, t.sourceChecksum]));

test('an instance moves SQLite → PostgreSQL → SQLite with equal counts and checksums, and searches the same', { skip, timeout: 300_000 }, async () => {
  const original = await sqliteInstance();
  const server = await freshLocation();
  assert.equal(server.engine, 'postgres');

  const there = report(await migrateData(original, server));
  assert.ok(there.ok);
  const papers = there.tables.find((t) => t.table === 'papers');
  assert.ok(papers !== undefined && papers.sourceRows > 1000, 'the shared data has papers to copy');
  for (const table of ['paper_categories', 'featured', 'jobs', 'feature_rule_state', 'import_progress']) {
    const t = there.tables.find((x) => x.table === table);
    assert.ok(t !== undefined && t.sourceRows > 0 && t.copied === t.sourceRows, `${table} copied: ${JSON.stringify(t)}`);
  }
  for (const t of there.tables) assert.equal(t.sourceChecksum, t.targetChecksum, t.table);
  assert.ok(!there.tables.some((t) => t.table === 'schema_migrations' || t.table.startsWith('papers_fts')));

  // The identity sequences moved past the copied ids: a new row on the server does not collide.
  await withDatabase(server, async (db) => {
    const highest = Number(await value(db, sql`SELECT max(id) FROM jobs`));
    const { id } = await enqueue(db.db, jobSpec(digestJob, { sweep: false }, { uniqueKey: 'after-the-copy' }));
    assert.ok(id > highest, `new job id ${id} after ${highest}`);
    await db.db.deleteFrom('jobs').where('id', '=', id).execute();
  });

  const back: DatabaseLocation = { engine: 'sqlite', file: join(tempDataDir(), 'copy.db') };
  const returned = report(await migrateData(server, back));
  assert.ok(returned.ok);
  assert.deepEqual(returned.notCopied.map((t) => t.table), ['search_deletions'], 'PostgreSQL-only bookkeeping stays behind');
  const first = checksums(there);
  for (const [table, checksum] of checksums(returned)) assert.equal(checksum, first.get(table), `${table}: the round trip changed rows`);

  // The copy's FTS5 index was rebuilt: searches answer as on the original.
  await withDatabase(original, (a) =>
    withDatabase(back, async (b) => {
      for (const q of ['neural network', 'author:smith', 'quantum -classical', 'title:learning']) {
        const [x, y] = [await searchKeyword(a, q, { limit: 20 }), await searchKeyword(b, q, { limit: 20 })];
        assert.ok(q !== 'neural network' || x.hits.length > 0, 'the query finds papers');
        assert.equal(y.total, x.total, q);
        assert.deepEqual(y.hits.map((h) => [h.arxivId, h.score]), x.hits.map((h) => [h.arxivId, h.score]), q);
      }
    }),
  );

  // A target with rows is refused without --force.
  const refused = await migrateData(server, back);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /has [\d,]+ rows; if a previous migrate-data was interrupted, rerun with --force to resume/);
});

test('a copy killed mid-table resumes with --force and ends with equal checksums', { skip, timeout: 300_000 }, async () => {
  const original = await sqliteInstance();
  const total = await countPapers(original);
  const server = await freshLocation();

  // Small batches with a pause after each, so the kill lands inside the papers table.
  const child = spawn(process.execPath, [BIN, 'migrate-data', '--to', target(server), '--batch-size', '200'], {
    env: { ...process.env, ...envFor(original), LOG_LEVEL: 'warn', PAPERBOY_COPY_BATCH_DELAY_MS: '100' },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  let seen = 0;
  for (let tries = 0; tries < 600 && seen < 1000; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen = await countPapers(server).catch(() => 0);
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the copy was still running when killed');
  const partial = await countPapers(server);
  assert.ok(partial > 0 && partial < total, `killed midway: ${partial} of ${total} papers`);

  const refused = await migrateData(original, server);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /rerun with --force to resume/);

  const resumed = report(await migrateData(original, server, '--force'));
  assert.ok(resumed.ok);
  const papers = resumed.tables.find((t) => t.table === 'papers');
  assert.ok(papers !== undefined);
  assert.equal(papers.resumedAfter !== null && papers.resumedAfter > 0, true, 'papers resumed after the last committed batch');
  assert.equal(papers.copied, total - partial, 'only the missing papers were copied');
  for (const t of resumed.tables) {
    assert.equal(t.targetRows, t.sourceRows, t.table);
    assert.equal(t.targetChecksum, t.sourceChecksum, t.table);
  }
});

test('a row checksums the same whichever driver returned it', () => {
  const columns = ['id', 'flag', 'title', 'at', 'missing'];
  const fromSqlite = { id: 7, flag: 1, title: 'a\u0000b', at: '2026-01-02T03:04:05.000Z', missing: null };
  const fromPostgres = { id: 7n, flag: true, title: 'ab', at: new Date('2026-01-02T03:04:05Z'), missing: undefined };
  assert.equal(canonicalRow(fromSqlite, columns), canonicalRow(fromPostgres, columns));
  assert.notEqual(canonicalRow({ ...fromSqlite, id: 8 }, columns), canonicalRow(fromSqlite, columns));
  assert.notEqual(canonicalRow({ ...fromSqlite, id: '7' }, columns), canonicalRow(fromSqlite, columns), 'text is not a number');
});
