import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { openTestDatabase, testEngine } from '../../test/support/database.js';
import { CompiledQuery, sql } from 'kysely';
import type { Database } from '../db/connection.js';
import { claimStatement } from '../db/job-claim.js';
import {
  InvalidJobPayloadError,
  PermanentJobError,
  backoffDelayMs,
  cancelJob,
  claimJob,
  completeJob,
  defineJobType,
  enqueue,
  failJob,
  heartbeatJob,
  jobSpec,
  releaseJob,
  type JobRow,
} from './queue.js';

async function withDb(fn: (database: Database) => Promise<void>): Promise<void> {
  const database = await openTestDatabase();
  try {
    await fn(database);
  } finally {
    await database.close();
  }
}

const echo = defineJobType('test.echo', z.object({ text: z.string(), count: z.number().int().default(1) }));
const TYPES = [echo.name];
const T0 = 1_800_000_000_000;

async function row(database: Database, id: number): Promise<JobRow> {
  return database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function count(database: Database): Promise<number> {
  const r = await database.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

test('enqueue, claim, complete', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id, created } = await enqueue(db, { type: echo, payload: { text: 'hi' }, runAt: T0 });
    assert.equal(created, true);
    const queued = await row(database, id);
    assert.equal(queued.status, 'queued');
    assert.equal(queued.attempts, 0);
    assert.equal(queued.max_attempts, 10);
    assert.deepEqual(JSON.parse(queued.payload), { text: 'hi' });

    const job = await claimJob(db, { owner: 'w1#1', leaseMs: 1_000, types: TYPES, now: T0 });
    assert.ok(job);
    assert.equal(job.id, id);
    assert.equal(job.status, 'running');
    assert.equal(job.attempts, 1);
    assert.equal(job.lease_owner, 'w1#1');
    assert.equal(job.lease_expires_at, T0 + 1_000);
    assert.equal(await claimJob(db, { owner: 'w1#2', leaseMs: 1_000, types: TYPES, now: T0 }), undefined);

    assert.equal(await completeJob(db, job, { ok: true }, T0 + 10), true);
    const done = await row(database, id);
    assert.equal(done.status, 'done');
    assert.equal(done.finished_at, T0 + 10);
    assert.deepEqual(JSON.parse(done.result ?? 'null'), { ok: true });
    assert.equal(await claimJob(db, { owner: 'w1#3', leaseMs: 1_000, types: TYPES, now: T0 + 1e9 }), undefined);
  });
});

test('enqueue validates the payload, after a JSON round trip', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const when = defineJobType('test.when', z.object({ at: z.date() }));
    await assert.rejects(enqueue(db, { type: echo, payload: { text: 3 as unknown as string } }), InvalidJobPayloadError);
    // A Date passes z.date() but is a string once stored: rejected at enqueue, not at claim.
    await assert.rejects(enqueue(db, { type: when, payload: { at: new Date() } }), /invalid payload for job type "test.when"/);
    assert.equal(await count(database), 0);
  });
});

test('a unique key makes enqueue idempotent, in every status', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const first = await enqueue(db, jobSpec(echo, { text: 'a' }, { uniqueKey: 'k1' }));
    const again = await enqueue(db, jobSpec(echo, { text: 'b' }, { uniqueKey: 'k1' }));
    assert.deepEqual(again, { id: first.id, created: false });
    const inTransaction = await db.transaction().execute((trx) => enqueue(trx, jobSpec(echo, { text: 'c' }, { uniqueKey: 'k1' })));
    assert.deepEqual(inTransaction, { id: first.id, created: false });
    const job = await claimJob(db, { owner: 'o', leaseMs: 1_000, types: TYPES });
    assert.ok(job);
    await completeJob(db, job);
    assert.deepEqual(await enqueue(db, jobSpec(echo, { text: 'd' }, { uniqueKey: 'k1' })), { id: first.id, created: false });
    // Jobs without keys never collide.
    await enqueue(db, jobSpec(echo, { text: 'e' }));
    await enqueue(db, jobSpec(echo, { text: 'e' }));
    assert.equal((await enqueue(db, jobSpec(echo, { text: 'f' }, { uniqueKey: 'k2' }))).created, true);
    assert.equal(await count(database), 4);
    assert.deepEqual(JSON.parse((await row(database, first.id)).payload), { text: 'a' });
  });
});

test('enqueue rolls back with the caller transaction', async () => {
  await withDb(async (database) => {
    const { db } = database;
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await enqueue(trx, { type: echo, payload: { text: 'lost' }, uniqueKey: 'x' });
        throw new Error('change failed');
      }),
      /change failed/,
    );
    assert.equal(await count(database), 0);

    const { id } = await db.transaction().execute((trx) => enqueue(trx, { type: echo, payload: { text: 'kept' }, uniqueKey: 'x' }));
    assert.equal(await count(database), 1);
    assert.equal((await row(database, id)).status, 'queued');
  });
});

test('scheduled jobs wait for run_at; higher priority and older run_at go first', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const later = await enqueue(db, { type: echo, payload: { text: 'later' }, runAt: new Date(T0 + 60_000), priority: 9 });
    const low = await enqueue(db, { type: echo, payload: { text: 'low' }, runAt: T0 - 10 });
    const high = await enqueue(db, { type: echo, payload: { text: 'high' }, runAt: T0, priority: 5 });
    const lowNewer = await enqueue(db, { type: echo, payload: { text: 'low newer' }, runAt: T0 - 5 });
    const claim = (now: number) => claimJob(db, { owner: `o${now}`, leaseMs: 1e9, types: TYPES, now });
    assert.equal((await claim(T0))?.id, high.id);
    assert.equal((await claim(T0))?.id, low.id);
    assert.equal((await claim(T0))?.id, lowNewer.id);
    assert.equal(await claim(T0 + 59_999), undefined);
    assert.equal((await claim(T0 + 60_000))?.id, later.id);
  });
});

test('a worker claims only the types it runs', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const other = defineJobType('test.other', z.object({}));
    await enqueue(db, { type: other, payload: {} });
    assert.equal(await claimJob(db, { owner: 'o', leaseMs: 1_000, types: TYPES }), undefined);
    assert.equal(await claimJob(db, { owner: 'o', leaseMs: 1_000, types: [] }), undefined);
    assert.equal((await claimJob(db, { owner: 'o', leaseMs: 1_000, types: ['test.other'] }))?.type, 'test.other');
  });
});

test('backoff doubles from the base, stays within [d/2, d] and never exceeds the cap', () => {
  const low = (a: number) => backoffDelayMs(a, undefined, () => 0);
  const high = (a: number) => backoffDelayMs(a, undefined, () => 1);
  assert.deepEqual([1, 2, 3, 4].map(high), [5_000, 10_000, 20_000, 40_000]);
  assert.deepEqual([1, 2, 3, 4].map(low), [2_500, 5_000, 10_000, 20_000]);
  assert.equal(high(10), 2_560_000);
  assert.equal(high(11), 3_600_000);
  assert.equal(high(1_000), 3_600_000);
  assert.equal(low(1_000), 1_800_000);
  assert.equal(backoffDelayMs(3, { baseMs: 100, capMs: 250 }, () => 1), 250);
  for (let a = 1; a < 40; a++) {
    const d = backoffDelayMs(a);
    assert.ok(d >= low(a) && d <= high(a), `attempt ${a}: ${d}`);
  }
});

test('a failed attempt is retried after the backoff until max_attempts, then failed', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id } = await enqueue(db, { type: echo, payload: { text: 'flaky' }, maxAttempts: 3, runAt: T0 });
    let now = T0;
    const backoff = { baseMs: 1_000, capMs: 60_000 };
    for (const attempt of [1, 2]) {
      const job = await claimJob(db, { owner: `o${attempt}`, leaseMs: 10_000, types: TYPES, now });
      assert.equal(job?.attempts, attempt);
      assert.ok(job);
      const outcome = await failJob(db, job, new Error(`boom ${attempt}`), { backoff, now, random: () => 1 });
      const delay = 1_000 * 2 ** (attempt - 1);
      assert.deepEqual(outcome, { outcome: 'retry', runAt: now + delay });
      const r = await row(database, id);
      assert.equal(r.status, 'queued');
      assert.equal(r.lease_owner, null);
      assert.match(r.last_error ?? '', new RegExp(`boom ${attempt}`));
      assert.equal(await claimJob(db, { owner: 'early', leaseMs: 10_000, types: TYPES, now: now + delay - 1 }), undefined);
      now += delay;
    }
    const job = await claimJob(db, { owner: 'o3', leaseMs: 10_000, types: TYPES, now });
    assert.ok(job);
    assert.deepEqual(await failJob(db, job, new Error('boom 3'), { now }), { outcome: 'failed' });
    const r = await row(database, id);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 3);
    assert.equal(r.finished_at, now);
    assert.match(r.last_error ?? '', /boom 3/);
    assert.equal(await claimJob(db, { owner: 'o4', leaseMs: 10_000, types: TYPES, now: now + 1e9 }), undefined);
  });
});

test('PermanentJobError fails the job on its first attempt', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id } = await enqueue(db, { type: echo, payload: { text: 'bad' } });
    const job = await claimJob(db, { owner: 'o', leaseMs: 1_000, types: TYPES });
    assert.ok(job);
    assert.deepEqual(await failJob(db, job, new PermanentJobError('no such paper')), { outcome: 'failed' });
    const r = await row(database, id);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 1);
    assert.match(r.last_error ?? '', /PermanentJobError: no such paper/);
  });
});

test('an expired lease is re-claimed by another worker; the stale owner can no longer write', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id } = await enqueue(db, { type: echo, payload: { text: 'x' }, runAt: T0 });
    const stale = await claimJob(db, { owner: 'a#1', leaseMs: 1_000, types: TYPES, now: T0 });
    assert.ok(stale);
    // Still leased: nobody else gets it, and a heartbeat pushes the expiry out.
    assert.equal(await claimJob(db, { owner: 'b#1', leaseMs: 1_000, types: TYPES, now: T0 + 999 }), undefined);
    assert.equal(await heartbeatJob(db, stale, 1_000, T0 + 900), true);
    assert.equal(await claimJob(db, { owner: 'b#1', leaseMs: 1_000, types: TYPES, now: T0 + 1_500 }), undefined);

    const fresh = await claimJob(db, { owner: 'b#2', leaseMs: 1_000, types: TYPES, now: T0 + 1_900 });
    assert.ok(fresh);
    assert.equal(fresh.id, id);
    assert.equal(fresh.attempts, 2);

    assert.equal(await heartbeatJob(db, stale, 1_000, T0 + 2_000), false);
    assert.equal(await completeJob(db, stale, 'stale result', T0 + 2_000), false);
    assert.deepEqual(await failJob(db, stale, new Error('stale failure'), { now: T0 + 2_000 }), { outcome: 'lost-lease' });
    assert.equal(await releaseJob(db, stale, T0 + 2_000), false);
    let r = await row(database, id);
    assert.equal(r.status, 'running');
    assert.equal(r.lease_owner, 'b#2');
    assert.equal(r.last_error, null);

    assert.equal(await completeJob(db, fresh, 'fresh result', T0 + 2_100), true);
    assert.equal(await completeJob(db, stale, 'stale result', T0 + 2_200), false);
    r = await row(database, id);
    assert.equal(r.status, 'done');
    assert.equal(r.result, '"fresh result"');
  });
});

test('a lease that expires on the final attempt fails the job instead of running it again', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id } = await enqueue(db, { type: echo, payload: { text: 'kills workers' }, maxAttempts: 2, runAt: T0 });
    const next = await enqueue(db, { type: echo, payload: { text: 'innocent' }, runAt: T0 + 1 });
    assert.equal((await claimJob(db, { owner: 'a', leaseMs: 100, types: TYPES, now: T0 }))?.id, id);
    assert.equal((await claimJob(db, { owner: 'b', leaseMs: 100, types: TYPES, now: T0 + 200 }))?.id, id);
    // Second lease expires too: the claim fails it and hands out the next job.
    assert.equal((await claimJob(db, { owner: 'c', leaseMs: 100, types: TYPES, now: T0 + 400 }))?.id, next.id);
    const r = await row(database, id);
    assert.equal(r.status, 'failed');
    assert.equal(r.attempts, 2);
    assert.match(r.last_error ?? '', /lease expired on the final attempt/);
  });
});

test('release hands the job back runnable now without using up an attempt', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const { id } = await enqueue(db, { type: echo, payload: { text: 'x' }, runAt: T0 });
    const job = await claimJob(db, { owner: 'a', leaseMs: 60_000, types: TYPES, now: T0 + 5 });
    assert.ok(job);
    assert.equal(await releaseJob(db, job, T0 + 10), true);
    const r = await row(database, id);
    assert.equal(r.status, 'queued');
    assert.equal(r.attempts, 0);
    assert.equal(r.run_at, T0 + 10);
    assert.equal(r.lease_owner, null);
    assert.equal(await completeJob(db, job), false);
    assert.equal((await claimJob(db, { owner: 'b', leaseMs: 60_000, types: TYPES, now: T0 + 10 }))?.attempts, 1);
  });
});

test('only a queued job can be cancelled', async () => {
  await withDb(async (database) => {
    const { db } = database;
    const a = await enqueue(db, { type: echo, payload: { text: 'a' } });
    const b = await enqueue(db, { type: echo, payload: { text: 'b' } });
    assert.equal(await cancelJob(db, a.id), true);
    const job = await claimJob(db, { owner: 'o', leaseMs: 1_000, types: TYPES });
    assert.equal(job?.id, b.id);
    assert.equal(await cancelJob(db, b.id), false);
    assert.equal((await row(database, a.id)).status, 'cancelled');
  });
});

test('concurrent claims on separate connections each lease a different job', async () => {
  await withDb(async (database) => {
    const { db } = database;
    for (let i = 0; i < 12; i++) await enqueue(db, { type: echo, payload: { text: String(i) } });
    // On PostgreSQL these run at once on the pool's connections: without the
    // candidate's row lock, two claims would pick and lease the same row.
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => claimJob(db, { owner: `w${i}`, leaseMs: 60_000, types: TYPES })),
    );
    const ids = claims.map((c) => c?.id);
    assert.ok(ids.every((id) => id !== undefined), 'every claim got a job');
    assert.equal(new Set(ids).size, 12);
    for (const c of claims) assert.equal((await row(database, c?.id ?? 0)).lease_owner, c?.lease_owner);
    assert.equal(await claimJob(db, { owner: 'late', leaseMs: 60_000, types: TYPES }), undefined);
  });
});

test('the claim looks its candidates up through the partial indexes, without a sort', async () => {
  await withDb(async (database) => {
    const { db } = database;
    for (let i = 0; i < 500; i++) await enqueue(db, { type: echo, payload: { text: String(i) }, priority: i % 3 });
    const q = claimStatement(db, { owner: 'o', leaseMs: 1_000, types: TYPES, now: Date.now() }).compile();
    if (testEngine === 'sqlite') {
      await sql`ANALYZE`.execute(db);
      const plan = (await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]))).rows.map(
        (r) => r.detail,
      );
      assert.ok(plan.includes('SEARCH jobs USING INDEX jobs_leases (lease_expires_at<?)'), plan.join('\n'));
      assert.ok(plan.includes('SCAN jobs USING INDEX jobs_queued'), plan.join('\n'));
      assert.ok(!plan.some((d) => /TEMP B-TREE|^SCAN jobs$/.test(d)), plan.join('\n'));
      return;
    }
    // On a table this small PostgreSQL may rightly prefer a sequential scan;
    // with it (and bitmap scans) off, the indexes are used only if their
    // predicates (status literals) match and their order serves ORDER BY.
    const plan = await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      await sql`SET LOCAL enable_bitmapscan = off`.execute(trx);
      const result = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]));
      return result.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /Index Scan using jobs_leases on jobs/, plan);
    assert.match(plan, /Index Scan using jobs_queued on jobs/, plan);
    assert.doesNotMatch(plan, /Sort|Seq Scan on jobs/, plan);
  });
});
