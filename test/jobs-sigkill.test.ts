import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { enqueue } from '../src/jobs/queue.js';
import { createLogger } from '../src/log.js';
import { createStepTables, stepsJob } from './fixtures/steps-job.js';
import { sql } from 'kysely';
import { instanceEnv, rows } from './support/database.js';

// Crash safety of the job queue with real processes: a worker killed with
// SIGKILL mid-job (no chance to release anything) loses no job, and the
// idempotent job re-run by the next worker leaves every effect exactly once.

const WORKER = fileURLToPath(new URL('./fixtures/jobs-worker.js', import.meta.url));
const LEASE_MS = 1_000;
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  // A failed assertion must not leave a worker process running (it would keep the run alive).
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The database of the current setup, passed to worker processes (DATABASE_URL on the PostgreSQL pass). */
let instance: Record<string, string> = {};

async function setup(): Promise<{ dir: string; ctx: AppContext }> {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-sigkill-'));
  dirs.push(dir);
  instance = await instanceEnv(dir);
  const ctx = await createContext(loadConfig({ ...instance, LOG_LEVEL: 'silent', NODE_ENV: 'test' }), createLogger('silent'));
  await createStepTables(ctx.database);
  return { dir, ctx };
}

function startWorkerProcess(dir: string, concurrency: number): ChildProcess {
  const child = spawn(process.execPath, [WORKER, dir, String(LEASE_MS), '250', String(concurrency)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...instance },
  });
  children.push(child);
  return child;
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Counts {
  rows: number;
  distinct: number;
}

async function effects(ctx: AppContext, key: string): Promise<Counts> {
  const [counts] = await rows<Counts>(
    ctx.database,
    sql`SELECT count(*) AS rows, count(DISTINCT step) AS "distinct" FROM effects WHERE job = ${key}`,
  );
  return { rows: Number(counts?.rows ?? 0), distinct: Number(counts?.distinct ?? 0) };
}

interface JobState {
  id: number;
  status: string;
  attempts: number;
  result: string | null;
}

function jobStates(ctx: AppContext): Promise<JobState[]> {
  return rows<JobState>(ctx.database, sql`SELECT id, status, attempts, result FROM jobs ORDER BY id`);
}

function runs(ctx: AppContext, key: string): Promise<{ attempt: number; pid: number }[]> {
  return rows<{ attempt: number; pid: number }>(ctx.database, sql`SELECT attempt, pid FROM runs WHERE job = ${key} ORDER BY attempt`);
}

test('a job whose worker is SIGKILLed mid-way is re-run once by the next worker, effects exactly once', async () => {
  const { dir, ctx } = await setup();
  const STEPS = 20;
  await enqueue(ctx.database.db, { type: stepsJob, payload: { key: 'a', steps: STEPS, stepMs: 40 } });

  const first = startWorkerProcess(dir, 1);
  await waitFor('the job to be half-way', async () => (await effects(ctx, 'a')).rows >= 5);
  assert.equal(await kill(first, 'SIGKILL'), null);
  const atKill = (await effects(ctx, 'a')).rows;
  assert.ok(atKill >= 5 && atKill < STEPS, `killed after ${atKill} of ${STEPS} steps`);
  assert.deepEqual(
    (await jobStates(ctx)).map((j) => [j.status, j.attempts]),
    [['running', 1]],
    'the killed worker could not release or fail the job',
  );

  const killedAt = Date.now();
  const second = startWorkerProcess(dir, 1);
  await waitFor('the job to be done', async () => (await jobStates(ctx))[0]?.status === 'done');
  // The lease (1 s from the last heartbeat) had to run out before anyone could take the job.
  assert.ok(Date.now() - killedAt >= 500, 'not re-claimed while the lease was still valid');
  assert.equal(await kill(second, 'SIGTERM'), 0);

  assert.deepEqual((await jobStates(ctx)), [{ id: 1, status: 'done', attempts: 2, result: `{"steps":${STEPS}}` }]);
  assert.deepEqual((await effects(ctx, 'a')), { rows: STEPS, distinct: STEPS });
  const r = (await runs(ctx, 'a'));
  assert.deepEqual(
    r.map((x) => x.attempt),
    [1, 2],
  );
  assert.deepEqual(
    r.map((x) => x.pid),
    [first.pid, second.pid],
  );
  await ctx.database.close();
});

test('several queued jobs survive a SIGKILL mid-run: all done, none lost, every effect once', async () => {
  const { dir, ctx } = await setup();
  const JOBS = 6;
  const STEPS = 10;
  const keys = Array.from({ length: JOBS }, (_, i) => `j${i}`);
  for (const key of keys) await enqueue(ctx.database.db, { type: stepsJob, payload: { key, steps: STEPS, stepMs: 30 } });

  const first = startWorkerProcess(dir, 2);
  // Kill once some job has finished and others are part-way through.
  await waitFor('one job done and another part-way', async () => {
    const counts = (await Promise.all(keys.map((k) => effects(ctx, k)))).map((c) => c.rows);
    return counts.some((c) => c === STEPS) && counts.some((c) => c >= 2 && c < STEPS - 2);
  });
  assert.equal(await kill(first, 'SIGKILL'), null);
  const atKill = (await jobStates(ctx));
  const interrupted = atKill.filter((j) => j.status === 'running').map((j) => j.id);
  assert.ok(interrupted.length >= 1, 'the kill interrupted at least one job');
  assert.ok(atKill.some((j) => j.status === 'done'));

  const second = startWorkerProcess(dir, 2);
  await waitFor('every job done', async () => (await jobStates(ctx)).every((j) => j.status === 'done'));
  assert.equal(await kill(second, 'SIGTERM'), 0);

  const final = (await jobStates(ctx));
  assert.equal(final.length, JOBS);
  for (const [i, job] of final.entries()) {
    const key = keys[i] ?? '';
    assert.equal(job.status, 'done');
    assert.equal(job.attempts, interrupted.includes(job.id) ? 2 : 1, `attempts of ${key}`);
    assert.deepEqual((await effects(ctx, key)), { rows: STEPS, distinct: STEPS }, `effects of ${key}`);
    // A kill can land between a claim's commit and the handler's first write, so an
    // interrupted job ran once or twice; either way its last run is the second worker's.
    const handlerRuns = await runs(ctx, key);
    const last = handlerRuns.at(-1);
    assert.ok(handlerRuns.length >= 1 && handlerRuns.length <= job.attempts, `handler runs of ${key}: ${handlerRuns.length}`);
    assert.equal(last?.attempt, job.attempts, `last run of ${key}`);
    if (interrupted.includes(job.id)) assert.equal(last?.pid, second.pid, `last run of ${key}`);
  }
  await ctx.database.close();
});
