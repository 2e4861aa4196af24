import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { openTestDatabase } from '../../test/support/database.js';
import { pruneDoneJobs } from './maintenance.js';
import { defineJobType, enqueue } from './queue.js';
import { createRegistry } from './registry.js';

test('prune deletes done jobs finished before the cut-off and nothing else', async () => {
  const database = await openTestDatabase();
  const { db } = database;
  const t = defineJobType('test.t', z.object({ i: z.number() }));
  const DAY = 86_400_000;
  const now = Date.now();
  // 2,500 old done jobs (several batches), plus a recent done, an old failed and a queued one.
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < 2_503; i++) await enqueue(trx, { type: t, payload: { i }, uniqueKey: `k${i}` });
  });
  const finish = (status: 'done' | 'failed', finishedAt: number, ids: [number, number]) =>
    db.updateTable('jobs').set({ status, finished_at: finishedAt }).where('id', '>=', ids[0]).where('id', '<=', ids[1]).execute();
  await finish('done', now - 8 * DAY, [1, 2_500]);
  await finish('done', now - DAY, [2_501, 2_501]);
  await finish('failed', now - 30 * DAY, [2_502, 2_502]);
  assert.equal(await pruneDoneJobs(db, now - 7 * DAY), 2_500);
  const left = await db.selectFrom('jobs').select(['status', 'unique_key']).orderBy('id').execute();
  assert.deepEqual(left, [
    { status: 'done', unique_key: 'k2500' },
    { status: 'failed', unique_key: 'k2501' },
    { status: 'queued', unique_key: 'k2502' },
  ]);
  // A pruned key is free again.
  assert.equal((await enqueue(db, { type: t, payload: { i: 0 }, uniqueKey: 'k0' })).created, true);
  assert.ok(createRegistry().types().includes('maintenance.prune'));
  await database.close();
});
