import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { loadConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { freshLocation } from '../../test/support/database.js';
import { openDatabase, type DatabaseLocation } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../log.js';
import { JobRegistry, PermanentJobError, defineJobType, enqueue, type JobRow } from './queue.js';
import { startWorker } from './worker.js';

const root = mkdtempSync(join(tmpdir(), 'paperboy-worker-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A context on a fresh database on the test engine, or on `location` (a second connection to it). */
async function context(location?: DatabaseLocation): Promise<AppContext> {
  const database = openDatabase(location ?? (await freshLocation(join(root, `w${++n}`))));
  await migrate(database);
  const config = loadConfig({ PAPERBOY_DATA_DIR: root, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  return { config, log: createLogger('silent'), database };
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function jobs(ctx: AppContext): Promise<JobRow[]> {
  return ctx.database.db.selectFrom('jobs').selectAll().orderBy('id').execute();
}

const noop = defineJobType('test.noop', z.object({ i: z.number().int() }));
const FAST = { pollMs: 10, leaseMs: 2_000, heartbeatMs: 500 };

test('runs jobs, stores results, retries failures and fails an invalid payload permanently', async () => {
  const ctx = await context();
  const { db } = ctx.database;
  const calls = new Map<number, number>();
  const registry = new JobRegistry().register(noop, async ({ job }) => {
    calls.set(job.payload.i, (calls.get(job.payload.i) ?? 0) + 1);
    if (job.payload.i === 2 && job.attempt === 1) throw new Error('transient');
    if (job.payload.i === 3) throw new PermanentJobError('hopeless');
    return { doubled: job.payload.i * 2 };
  });
  for (const i of [1, 2, 3]) await enqueue(db, { type: noop, payload: { i } });
  // A payload that no longer matches the schema (say, written by an older build).
  const now = Date.now();
  await db
    .insertInto('jobs')
    .values({ type: 'test.noop', payload: '{"i":"one"}', status: 'queued', priority: 0, run_at: now, attempts: 0, max_attempts: 5, created_at: now, updated_at: now })
    .execute();

  const worker = startWorker(ctx, registry, { ...FAST, concurrency: 2, backoff: { baseMs: 20, capMs: 20 } });
  await waitFor('every job to finish', async () => (await jobs(ctx)).every((j) => j.status === 'done' || j.status === 'failed'));
  await worker.stop();

  const rows = await jobs(ctx);
  assert.deepEqual(
    rows.map((r) => [r.status, r.attempts, r.result]),
    [
      ['done', 1, '{"doubled":2}'],
      ['done', 2, '{"doubled":4}'],
      ['failed', 1, null],
      ['failed', 1, null],
    ],
  );
  assert.match(rows[1]?.last_error ?? '', /transient/);
  assert.match(rows[2]?.last_error ?? '', /hopeless/);
  assert.match(rows[3]?.last_error ?? '', /invalid payload for job type "test.noop".*expected number/);
  assert.equal(calls.get(3), 1);
  await ctx.database.close();
});

test('two workers on two connections run each of 200 jobs exactly once', async () => {
  const a = await context();
  const b = await context(a.database.location);
  const runs = new Map<number, string[]>();
  const registryFor = (name: string) =>
    new JobRegistry().register(noop, async ({ job }) => {
      runs.set(job.payload.i, [...(runs.get(job.payload.i) ?? []), name]);
      await sleep(Math.random() * 3);
    });
  await a.database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < 200; i++) await enqueue(trx, { type: noop, payload: { i } });
  });
  const workers = [
    startWorker(a, registryFor('a'), { ...FAST, concurrency: 4 }),
    startWorker(b, registryFor('b'), { ...FAST, concurrency: 4 }),
  ];
  await waitFor('200 jobs done', async () => (await jobs(a)).every((j) => j.status === 'done'), 20_000);
  await Promise.all(workers.map((w) => w.stop()));

  assert.equal(runs.size, 200);
  for (const [i, by] of runs) assert.equal(by.length, 1, `job ${i} ran ${by.length} times`);
  const byA = [...runs.values()].filter((by) => by[0] === 'a').length;
  assert.ok(byA > 0 && byA < 200, `both workers took jobs (a ran ${byA})`);
  assert.ok((await jobs(a)).every((j) => j.attempts === 1));
  await b.database.close();
  await a.database.close();
});

test('stop() drains: finished handlers complete, aborted or stuck ones are released at once', async () => {
  const ctx = await context();
  const { db } = ctx.database;
  const kinds = defineJobType('test.kinds', z.object({ kind: z.enum(['finishes', 'honours-abort', 'stuck']) }));
  let started = 0;
  const registry = new JobRegistry().register(kinds, async ({ job, signal }) => {
    started++;
    if (job.payload.kind === 'stuck') return new Promise(() => {});
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    if (job.payload.kind === 'honours-abort') signal.throwIfAborted();
    return 'finished after abort';
  });
  const ids = [];
  for (const kind of ['finishes', 'honours-abort', 'stuck'] as const) ids.push((await enqueue(db, { type: kinds, payload: { kind } })).id);
  const worker = startWorker(ctx, registry, { ...FAST, concurrency: 3, drainTimeoutMs: 300 });
  await waitFor('all three running', () => started === 3);

  const before = Date.now();
  await worker.stop();
  const took = Date.now() - before;
  assert.ok(took >= 290 && took < 2_000, `drain took ${took} ms`);

  const rows = await jobs(ctx);
  assert.deepEqual(
    rows.map((r) => [r.status, r.attempts, r.lease_owner === null, r.result]),
    [
      ['done', 1, false, '"finished after abort"'],
      ['queued', 0, true, null],
      ['queued', 0, true, null],
    ],
  );
  for (const r of rows.slice(1)) assert.ok(r.run_at <= Date.now() && r.run_at >= before);

  // Released jobs are picked up straight away by the next worker.
  const quick = new JobRegistry().register(kinds, async () => 'second run');
  const next = startWorker(ctx, quick, { ...FAST, concurrency: 3 });
  await waitFor('released jobs done', async () => (await jobs(ctx)).every((j) => j.status === 'done'), 2_000);
  await next.stop();
  assert.deepEqual(
    (await jobs(ctx)).map((r) => r.attempts),
    [1, 1, 1],
  );
  await ctx.database.close();
});

test('heartbeats keep a long job leased; a lost lease aborts the handler', async () => {
  const ctx = await context();
  const other = await context(ctx.database.location);
  const { db } = ctx.database;
  const slow = defineJobType('test.slow', z.object({ ms: z.number() }));
  let runs = 0;
  let abortReason: unknown;
  const registry = new JobRegistry().register(slow, async ({ job, signal }) => {
    runs++;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, job.payload.ms);
      signal.addEventListener('abort', () => {
        abortReason = signal.reason;
        clearTimeout(t);
        resolve();
      });
    });
  });
  // Lease and heartbeat leave room for stalls of a loaded machine (PostgreSQL
  // in CI lost a 1 s lease twice); the job still outlives its lease 2.5 times over.
  await enqueue(db, { type: slow, payload: { ms: 7_500 } });
  const opts = { concurrency: 1, pollMs: 10, leaseMs: 3_000, heartbeatMs: 100 };
  const w1 = startWorker(ctx, registry, opts);
  const w2 = startWorker(other, registry, opts);
  await waitFor('the job done', async () => (await jobs(ctx))[0]?.status === 'done', 20_000);
  assert.equal(runs, 1, 'the job outlived its lease 2.5 times over without being re-claimed');
  assert.equal(abortReason, undefined);
  await w2.stop();

  // Steal the lease behind the worker's back: its next heartbeat must abort the handler.
  const { id } = await enqueue(db, { type: slow, payload: { ms: 5_000 } });
  await waitFor('the job running', async () => (await jobs(ctx)).find((j) => j.id === id)?.status === 'running');
  await db.updateTable('jobs').set({ lease_owner: 'thief' }).where('id', '=', id).execute();
  await waitFor('the handler aborted', () => abortReason !== undefined, 2_000);
  assert.match(String(abortReason), /lease lost/);
  await w1.stop();
  const stolen = (await jobs(ctx)).find((j) => j.id === id);
  assert.equal(stolen?.status, 'running');
  assert.equal(stolen?.lease_owner, 'thief');
  await other.database.close();
  await ctx.database.close();
});
