import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harvestJob, harvestSchedules } from './jobs.js';

test('the daily harvest is scheduled at HARVEST_HOUR_UTC, once per day, only when enabled', () => {
  assert.deepEqual(harvestSchedules({ harvest: { enabled: false, hourUtc: 3 } }), []);
  const [schedule, ...rest] = harvestSchedules({ harvest: { enabled: true, hourUtc: 5 } });
  assert.equal(rest.length, 0);
  assert.equal(schedule?.dailyAtUtcHour, 5);
  const spec = schedule?.enqueue(new Date('2024-05-01T05:00:00Z'));
  assert.equal(spec?.type.name, 'harvest.oai');
  assert.equal(spec?.uniqueKey, 'harvest:2024-05-01');
  assert.deepEqual(spec?.payload, {});
});

test('the job payload is validated: dates, and until not before from', () => {
  assert.equal(harvestJob.schema.safeParse({ from: '2024-01-01', until: '2024-01-02', categories: ['cs.LG'] }).success, true);
  assert.equal(harvestJob.schema.safeParse({ from: '2024-02-30' }).success, false);
  assert.equal(harvestJob.schema.safeParse({ from: '2024-01-02', until: '2024-01-01' }).success, false);
});
