import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { localTime, planDue } from './runs.js';

const berlin = { hour: 7, timeZone: 'Europe/Berlin', weeklyDay: 'mon' as const };
const la = { hour: 7, timeZone: 'America/Los_Angeles', weeklyDay: 'fri' as const };
const auckland = { hour: 7, timeZone: 'Pacific/Auckland', weeklyDay: 'sat' as const };

const at = (iso: string) => new Date(iso);

test('local time: day, weekday and a 0-23 hour in the zone', () => {
  assert.deepEqual(localTime(at('2026-12-03T08:00:00Z'), 'America/Los_Angeles'), { day: '2026-12-03', weekday: 'thu', hour: 0 });
  assert.deepEqual(localTime(at('2026-12-03T23:30:00Z'), 'Europe/Berlin'), { day: '2026-12-04', weekday: 'fri', hour: 0 });
  assert.deepEqual(localTime(at('2026-12-03T11:00:00Z'), 'Pacific/Auckland'), { day: '2026-12-04', weekday: 'fri', hour: 0 });
});

test('daily runs are due on weekdays from the hour on, for the local day', () => {
  // Thursday 3 December 2026.
  assert.deepEqual(planDue(at('2026-12-03T05:59:59Z'), berlin), [], '06:59 in Berlin');
  assert.deepEqual(planDue(at('2026-12-03T06:00:00Z'), berlin), [{ cadence: 'daily', periodEnd: '2026-12-03' }]);
  assert.deepEqual(planDue(at('2026-12-03T22:59:00Z'), berlin), [{ cadence: 'daily', periodEnd: '2026-12-03' }], '23:59 still that day');
  // Saturday and Sunday: no daily run.
  assert.deepEqual(planDue(at('2026-12-05T12:00:00Z'), berlin), []);
  assert.deepEqual(planDue(at('2026-12-06T12:00:00Z'), berlin), []);
});

test('weekly runs are due on the configured weekday, with the daily one on a weekday', () => {
  // Monday 7 December 2026 in Berlin.
  assert.deepEqual(planDue(at('2026-12-07T06:30:00Z'), berlin), [
    { cadence: 'daily', periodEnd: '2026-12-07' },
    { cadence: 'weekly', periodEnd: '2026-12-07' },
  ]);
  assert.deepEqual(planDue(at('2026-12-07T05:30:00Z'), berlin), [], 'not before the hour');
  // A weekend weekly day: the weekly run alone.
  assert.deepEqual(planDue(at('2026-12-04T19:00:00Z'), auckland), [{ cadence: 'weekly', periodEnd: '2026-12-05' }]);
});

test('far from UTC the local day decides, not the UTC one', () => {
  // 07:30 UTC Friday is still Thursday 23:30 in Los Angeles.
  assert.deepEqual(planDue(at('2026-12-04T07:30:00Z'), la), [{ cadence: 'daily', periodEnd: '2026-12-03' }]);
  // 18:00 UTC Thursday is 07:00 Friday in Auckland (UTC+13 in December).
  assert.deepEqual(planDue(at('2026-12-03T17:59:00Z'), auckland), [], '06:59 Friday in Auckland');
  assert.deepEqual(planDue(at('2026-12-03T18:00:00Z'), auckland), [{ cadence: 'daily', periodEnd: '2026-12-04' }]);
  // 12:00 UTC Friday is 01:00 Saturday in Auckland: the weekend, and before the hour.
  assert.deepEqual(planDue(at('2026-12-04T12:00:00Z'), auckland), []);
});

test('the hour follows daylight saving time', () => {
  // Los Angeles: PST (UTC-8) until Sunday 8 March 2026, PDT (UTC-7) after.
  assert.deepEqual(planDue(at('2026-03-06T14:00:00Z'), la), [], 'Friday 06:00 PST');
  assert.deepEqual(planDue(at('2026-03-06T15:00:00Z'), la), [
    { cadence: 'daily', periodEnd: '2026-03-06' },
    { cadence: 'weekly', periodEnd: '2026-03-06' },
  ]);
  assert.deepEqual(planDue(at('2026-03-09T14:00:00Z'), la), [{ cadence: 'daily', periodEnd: '2026-03-09' }], 'Monday 07:00 PDT');
  // Berlin: CEST (UTC+2) until Sunday 25 October 2026, CET (UTC+1) after.
  assert.deepEqual(planDue(at('2026-10-23T05:00:00Z'), berlin), [{ cadence: 'daily', periodEnd: '2026-10-23' }], 'Friday 07:00 CEST');
  assert.deepEqual(planDue(at('2026-10-26T05:00:00Z'), berlin), [], 'Monday 06:00 CET');
  assert.equal(planDue(at('2026-10-26T06:00:00Z'), berlin).length, 2, 'Monday 07:00 CET');
  // Auckland: NZST (UTC+12) from Sunday 5 April 2026.
  assert.deepEqual(planDue(at('2026-04-06T19:00:00Z'), auckland), [{ cadence: 'daily', periodEnd: '2026-04-07' }], 'Tuesday 07:00 NZST');
  assert.deepEqual(planDue(at('2026-04-06T18:59:00Z'), auckland), []);
});
