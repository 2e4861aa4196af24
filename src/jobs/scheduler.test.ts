import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { z } from 'zod';
import { loadConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { freshLocation, testEngine } from '../../test/support/database.js';
import { openDatabase, type DatabaseLocation } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../log.js';
import { pruneJobsJob } from './maintenance.js';
import { defineJobType, jobSpec } from './queue.js';
import { lastRunAt, nextRunAt, periodKey, startScheduler, type Cadence } from './scheduler.js';
import { createSchedules } from './schedules.js';

const root = mkdtempSync(join(tmpdir(), 'paperboy-scheduler-'));
after(() => rmSync(root, { recursive: true, force: true }));
const config = loadConfig({ PAPERBOY_DATA_DIR: root, LOG_LEVEL: 'silent', NODE_ENV: 'test' });

async function context(location: DatabaseLocation): Promise<AppContext> {
  const database = openDatabase(location);
  await migrate(database);
  return { config, log: createLogger('silent'), database };
}

const at = (iso: string) => new Date(iso);

test('daily schedules come due at the hour, UTC', () => {
  const daily: Cadence = { dailyAtUtcHour: 3 };
  assert.deepEqual(lastRunAt(daily, at('2026-11-25T02:59:59.999Z')), at('2026-11-24T03:00:00Z'));
  assert.deepEqual(nextRunAt(daily, at('2026-11-25T02:59:59.999Z')), at('2026-11-25T03:00:00Z'));
  assert.deepEqual(lastRunAt(daily, at('2026-11-25T03:00:00Z')), at('2026-11-25T03:00:00Z'));
  assert.deepEqual(nextRunAt(daily, at('2026-11-25T03:00:00Z')), at('2026-11-26T03:00:00Z'));
  assert.deepEqual(nextRunAt(daily, at('2026-12-31T23:00:00Z')), at('2027-01-01T03:00:00Z'));
  assert.deepEqual(nextRunAt({ dailyAtUtcHour: 0 }, at('2026-11-25T00:00:00Z')), at('2026-11-26T00:00:00Z'));
  assert.equal(periodKey(daily, at('2026-11-25T03:00:00Z')), '2026-11-25');
});

test('interval schedules are aligned to the epoch, so every process agrees on the period', () => {
  const quarter: Cadence = { everyMs: 15 * 60_000 };
  assert.deepEqual(lastRunAt(quarter, at('2026-11-25T10:14:59Z')), at('2026-11-25T10:00:00Z'));
  assert.deepEqual(nextRunAt(quarter, at('2026-11-25T10:14:59Z')), at('2026-11-25T10:15:00Z'));
  assert.deepEqual(nextRunAt(quarter, at('2026-11-25T10:15:00Z')), at('2026-11-25T10:30:00Z'));
  assert.equal(periodKey(quarter, at('2026-11-25T10:15:00Z')), '2026-11-25T10:15:00.000Z');
  assert.throws(() => nextRunAt({ everyMs: 0 }, new Date()), /everyMs/);
  assert.throws(() => nextRunAt({ dailyAtUtcHour: 24 }, new Date()), /dailyAtUtcHour/);
});

test('last <= now < next, one period apart, and the period does not change before next', () => {
  const cadence = fc.oneof(
    fc.integer({ min: 1, max: 10 * 86_400_000 }).map((everyMs): Cadence => ({ everyMs })),
    fc.integer({ min: 0, max: 23 }).map((dailyAtUtcHour): Cadence => ({ dailyAtUtcHour })),
  );
  fc.assert(
    fc.property(cadence, fc.integer({ min: 0, max: 4_102_444_800_000 }), (c, t) => {
      const now = new Date(t);
      const last = lastRunAt(c, now).getTime();
      const next = nextRunAt(c, now).getTime();
      assert.ok(last <= t && t < next);
      assert.equal(next - last, c.everyMs ?? 86_400_000);
      assert.equal(lastRunAt(c, new Date(next - 1)).getTime(), last);
      assert.equal(lastRunAt(c, new Date(next)).getTime(), next);
    }),
  );
});

test('several schedulers on one database enqueue each period once', async () => {
  const location = await freshLocation(join(root, 'two'));
  const a = await context(location);
  const b = await context(location);
  const tick = defineJobType('test.tick', z.object({ due: z.string() }));
  const schedules = [
    { name: 'tick', everyMs: 100, enqueue: (due: Date) => jobSpec(tick, { due: due.toISOString() }) },
    { name: 'daily', dailyAtUtcHour: 5, enqueue: () => jobSpec(tick, { due: 'daily' }) },
  ];
  const schedulers = [startScheduler(a, schedules, { tickMs: 7 }), startScheduler(b, schedules, { tickMs: 11 })];
  await sleep(450);
  await Promise.all(schedulers.map((s) => s.stop()));
  const rows = await a.database.db.selectFrom('jobs').select(['unique_key', 'payload']).orderBy('id').execute();
  const keys = rows.map((r) => r.unique_key ?? '');
  assert.equal(new Set(keys).size, keys.length, 'no period twice');
  const ticks = keys.filter((k) => k.startsWith('tick:'));
  assert.ok(ticks.length >= 3 && ticks.length <= 6, `ticks: ${ticks.join(', ')}`);
  for (const r of rows.filter((r) => r.unique_key?.startsWith('tick:'))) {
    assert.equal(r.unique_key, `tick:${JSON.parse(r.payload).due}`);
  }
  assert.deepEqual(
    keys.filter((k) => k.startsWith('daily:')),
    [`daily:${periodKey({ dailyAtUtcHour: 5 }, lastRunAt({ dailyAtUtcHour: 5 }, new Date()))}`],
  );
  await b.database.close();
  await a.database.close();
});

test('the app schedules a daily prune of finished jobs', () => {
  const prune = createSchedules(config).find((s) => s.name === 'maintenance.prune');
  assert.ok(prune?.dailyAtUtcHour !== undefined);
  assert.equal(prune.enqueue(new Date()).type, pruneJobsJob);
});

test('one scheduler leads on PostgreSQL; when it stops, a standby takes the lead and catches the period up', { skip: testEngine !== 'postgres' && 'SQLite: every scheduler leads' }, async () => {
  const location = await freshLocation(join(root, 'lead'));
  const a = await context(location);
  const b = await context(location);
  const tick = defineJobType('test.lead', z.object({ due: z.string() }));
  const schedules = [{ name: 'lead', dailyAtUtcHour: 5, enqueue: () => jobSpec(tick, { due: 'daily' }) }];
  const first = startScheduler(a, schedules, { tickMs: 20, standbyMs: 20 });
  await waitUntil(() => first.isLeader());
  const second = startScheduler(b, schedules, { tickMs: 20, standbyMs: 20 });
  await sleep(150);
  assert.equal(first.isLeader(), true);
  assert.equal(second.isLeader(), false, 'the lock is held');
  // The leader enqueued the period; remove it so that the new leader's catch-up shows.
  await a.database.db.deleteFrom('jobs').execute();
  await first.stop();
  await waitUntil(() => second.isLeader());
  await waitUntil(async () => (await b.database.db.selectFrom('jobs').select('id').execute()).length === 1);
  await second.stop();
  await b.database.close();
  await a.database.close();
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}
