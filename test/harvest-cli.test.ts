import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { startArxivServer } from './support/arxiv-server.js';
import { BIN, runCli, tempDataDir } from './support/cli.js';
import { instanceEnv } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

/** Reads the harvest checkpoint of a database another process is writing; null until it exists. */
async function pagesDone(database: Database): Promise<number | null> {
  try {
    const row = await database.db
      .selectFrom('harvest_state')
      .select((eb) => eb.fn.max('pages_done').as('pages'))
      .executeTakeFirst();
    return row?.pages ?? null;
  } catch {
    // Not migrated yet: the child has not got that far.
    return null;
  }
}

async function refusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const WINDOW = ['--categories', 'hep-th', '--from', '2017-12-01', '--until', '2017-12-31'];

test('a harvest killed with SIGKILL resumes at the first uncommitted page: no gap, no duplicate', { skip: shared.skip }, async () => {
  // Each page takes 250 ms to arrive, so the kill lands between commits.
  const server = await startArxivServer({ sharedData: shared.dir, oaiPageSize: 2, oaiDelayMs: 250 });
  const env = { ...(await instanceEnv()), ARXIV_OAI_URL: server.oaiUrl, ARXIV_MIN_INTERVAL_MS: '0', LOG_LEVEL: 'warn' };
  // This process's own connection, to watch the child's commits and check the outcome.
  const database = openDatabase(loadConfig(env).database, { dataDir: tempDataDir() });
  const total = server.oaiPages.length;
  try {
    const child = spawn(process.execPath, [BIN, 'harvest', ...WINDOW], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitedEarly = false;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => {
        exitedEarly = signal === null;
        resolve(signal);
      }),
    );
    const deadline = Date.now() + 30_000;
    while (((await pagesDone(database)) ?? 0) < 2) {
      assert.ok(!exitedEarly, `the harvest ended before page 2 was committed:\n${stderr}`);
      assert.ok(Date.now() < deadline, `page 2 was never committed:\n${stderr}`);
      await sleep(10);
    }
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const committed = (await pagesDone(database)) ?? 0;
    assert.ok(committed >= 2 && committed < total, `killed mid-harvest after ${committed} of ${total} pages`);
    const firstRun = server.oaiRequests().length;
    // At most the page in flight when the process died was fetched and lost.
    assert.ok(firstRun === committed || firstRun === committed + 1, `${firstRun} requests for ${committed} committed pages`);

    const second = await runCli(['harvest', ...WINDOW], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /\(resumed\)/);
    assert.match(second.stdout, new RegExp(`harvested ${server.oaiRecords.length} records in ${total} pages`));

    const secondRun = server.oaiRequests().slice(firstRun);
    assert.deepEqual(secondRun[0]?.params, { verb: 'ListRecords', resumptionToken: `fx-g1-p${committed}` }, 'no committed page is fetched again');
    assert.equal(secondRun.length, total - committed);

    const ids = (await database.db.selectFrom('papers').select('arxiv_id').orderBy('arxiv_id').execute()).map((r) => r.arxiv_id);
    assert.deepEqual(ids, server.oaiRecords.map((r) => r.arxivId).sort(), 'every record of every page, once');
    const state = await database.db
      .selectFrom('harvest_state')
      .select(['pages_done', 'records_done', 'imported', 'finished_at'])
      .execute();
    assert.equal(state.length, 1);
    // records_done grows per committed page: equal to the record count means no page was applied twice.
    assert.equal(state[0]?.pages_done, total);
    assert.equal(state[0]?.records_done, server.oaiRecords.length);
    assert.equal(state[0]?.imported, server.oaiRecords.length);
    assert.ok(state[0]?.finished_at);
  } finally {
    await database.close();
    await server.close();
  }
});

test('offline: exit code 1 with a clear message, quickly, without a stack trace', async () => {
  const port = await refusedPort();
  const instance = await instanceEnv();
  const started = Date.now();
  const result = await runCli(['harvest', '--from', '2024-01-01'], {
    ...instance,
    ARXIV_OAI_URL: `http://127.0.0.1:${port}/oai`,
  });
  const took = Date.now() - started;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`paperboy: cannot reach 127\\.0\\.0\\.1:${port}: this machine seems to be offline`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(result.stdout, '');
  // Two connection attempts, a second apart, plus process start-up.
  assert.ok(took < 10_000, `took ${took} ms`);

  // Port 1 is one fetch never connects to: still a clear message, not a crash.
  const blocked = await runCli(['harvest', '--from', '2024-01-01'], {
    ...instance,
    ARXIV_OAI_URL: 'http://127.0.0.1:1',
  });
  assert.equal(blocked.code, 1, blocked.stderr);
  assert.match(blocked.stderr, /paperboy: cannot reach 127\.0\.0\.1:1: /);
  assert.doesNotMatch(blocked.stderr, /\n\s+at /);
});

test('invalid options exit with code 2 and say what is wrong', async () => {
  const env = { PAPERBOY_DATA_DIR: tempDataDir(), ARXIV_OAI_URL: 'http://127.0.0.1:9/oai' };
  const badDate = await runCli(['harvest', '--from', '2024-02-30'], env);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /--from: must be a real date written YYYY-MM-DD, got "2024-02-30"/);

  const reversed = await runCli(['harvest', '--from', '2024-03-02', '--until', '2024-03-01'], env);
  assert.equal(reversed.code, 2);
  assert.match(reversed.stderr, /--until: is before --from/);

  const unknown = await runCli(['harvest', '--categories', 'cs.LG,cs.XX'], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown arXiv category or archive "cs\.XX"/);

  const format = await runCli(['harvest', '--format', 'oai_dc'], env);
  assert.notEqual(format.code, 0);
  assert.match(format.stderr, /--format/);
});

test('--help describes every option', async () => {
  const help = await runCli(['harvest', '--help']);
  assert.equal(help.code, 0);
  for (const option of ['--from <date>', '--until <date>', '--categories <list>', '--format <prefix>']) {
    assert.ok(help.stdout.includes(option), `help mentions ${option}`);
  }
  assert.match(help.stdout, /arXiv/);
  assert.match(help.stdout, /arXivRaw/);
});
