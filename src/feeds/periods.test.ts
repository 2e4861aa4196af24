import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { addDays, isDay, isoWeekOf, parsePeriod, periodContaining } from './periods.js';

test('days are real calendar days', () => {
  assert.equal(isDay('2024-02-29'), true);
  assert.equal(isDay('2023-02-29'), false);
  assert.equal(isDay('2026-13-01'), false);
  assert.equal(isDay('2026-1-01'), false);
  assert.equal(isDay('1850-01-01'), false);
});

test('ISO weeks follow ISO 8601, including years with 53 weeks', () => {
  assert.equal(isoWeekOf('2026-11-25'), '2026-W48');
  assert.equal(isoWeekOf('2021-01-03'), '2020-W53');
  assert.equal(isoWeekOf('2024-12-30'), '2025-W01');
  assert.deepEqual(parsePeriod('week', '2020-W53'), { kind: 'week', id: '2020-W53', from: '2020-12-28', to: '2021-01-03' });
  assert.equal(parsePeriod('week', '2025-W53'), null);
  assert.deepEqual(parsePeriod('week', '2026-W53'), { kind: 'week', id: '2026-W53', from: '2026-12-28', to: '2027-01-03' });
  assert.equal(parsePeriod('week', '2026-W00'), null);
  assert.equal(parsePeriod('week', '2026-48'), null);
});

test('months run from the first to the last day', () => {
  assert.deepEqual(parsePeriod('month', '2024-02'), { kind: 'month', id: '2024-02', from: '2024-02-01', to: '2024-02-29' });
  assert.deepEqual(parsePeriod('month', '2026-12'), { kind: 'month', id: '2026-12', from: '2026-12-01', to: '2026-12-31' });
  assert.equal(parsePeriod('month', '2026-13'), null);
  assert.equal(parsePeriod('month', '2026-11-01'), null);
});

test('every day lies in the week and month that contain it', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60_000 }), (offset) => {
      const day = addDays('1950-01-01', offset);
      for (const kind of ['date', 'week', 'month'] as const) {
        const p = periodContaining(kind, day);
        assert.ok(p.from <= day && day <= p.to, `${day} in ${p.id}`);
        assert.deepEqual(parsePeriod(kind, p.id), p);
      }
      const week = periodContaining('week', day);
      assert.equal(addDays(week.from, 6), week.to);
    }),
  );
});
