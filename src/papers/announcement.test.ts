import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { estimateAnnouncedOn, mailIdToDate, mailingDateOn } from './announcement.js';

test('the schedule around the 14:00 New York cutoff', () => {
  const cases: [string, string, string][] = [
    // Wednesday 18:37 EDT, after Wednesday's cutoff: Thursday's batch, announced Thu 20:00 EDT = Fri UTC.
    ['Wed, 15 Mar 2023 22:37:33 GMT', '2023-03-17', 'wed evening'],
    // Thursday 13:00 EDT, before the cutoff.
    ['2023-03-16T17:00:00Z', '2023-03-17', 'thu before cutoff'],
    ['2023-03-16T17:59:59Z', '2023-03-17', 'thu 13:59:59 EDT'],
    // Thursday 14:00 EDT exactly is after the cutoff: Friday's batch, announced Sunday.
    ['2023-03-16T18:00:00Z', '2023-03-20', 'thu 14:00 EDT'],
    // Thursday 15:00 EDT: Friday cutoff, Sunday 20:00 EDT, Monday UTC.
    ['2023-03-16T19:00:00Z', '2023-03-20', 'thu afternoon'],
    // Friday 15:00 EDT: Monday cutoff, Monday 20:00 EDT, Tuesday UTC.
    ['2023-03-17T19:00:00Z', '2023-03-21', 'fri afternoon'],
    ['2023-03-18T12:00:00Z', '2023-03-21', 'saturday'],
    ['2023-03-19T23:00:00Z', '2023-03-21', 'sunday evening'],
    // Monday 09:00 EDT: Monday batch.
    ['2023-03-20T13:00:00Z', '2023-03-21', 'monday morning'],
    // Winter time: 13:59 EST is 18:59 UTC, still before the cutoff.
    ['2023-01-11T18:59:00Z', '2023-01-12', 'wed 13:59 EST'],
    ['2023-01-11T19:00:00Z', '2023-01-13', 'wed 14:00 EST'],
    // Late evening New York is already the next UTC day; the NY weekday decides.
    ['2023-01-13T03:00:00Z', '2023-01-16', 'thu 22:00 EST (fri UTC): friday batch'],
    // The first arXiv new-style paper: Sat 31 Mar 2007 02:26 UTC = Fri 22:26 EDT.
    ['Sat, 31 Mar 2007 02:26:18 GMT', '2007-04-03', '0704.0002'],
  ];
  for (const [submitted, expected, label] of cases) {
    assert.equal(estimateAnnouncedOn(submitted), expected, label);
  }
});

test('across the DST switch', () => {
  // 2023-03-12 is the spring-forward Sunday; Friday 10th 15:00 EST rolls to Monday 13th.
  assert.equal(estimateAnnouncedOn('2023-03-10T20:00:00Z'), '2023-03-14');
  // 2023-11-05 is the fall-back Sunday; Monday 6th 13:30 EST.
  assert.equal(estimateAnnouncedOn('2023-11-06T18:30:00Z'), '2023-11-07');
  assert.equal(estimateAnnouncedOn('2023-11-06T19:30:00Z'), '2023-11-08');
});

test('non-dates throw RangeError', () => {
  assert.throws(() => estimateAnnouncedOn('soon'), RangeError);
  assert.throws(() => mailingDateOn(''), RangeError);
  assert.throws(() => mailIdToDate('11020'), RangeError);
  assert.throws(() => mailIdToDate('111302'), RangeError);
  assert.throws(() => mailIdToDate('110230'), RangeError);
});

test('mailingDateOn and mailIdToDate', () => {
  assert.equal(mailingDateOn('Fri, 17 Mar 23 00:51:30 GMT'), '2023-03-17');
  assert.equal(mailingDateOn('2023-03-16T20:00:00-04:00'), '2023-03-17');
  assert.equal(mailIdToDate('110203'), '2011-02-03');
  assert.equal(mailIdToDate('970115'), '1997-01-15');
  assert.equal(mailIdToDate(' 000229 '), '2000-02-29');
});

test('property: announced on a weekday (UTC), within five days after submission', () => {
  const dateArb = fc.date({ min: new Date('1995-01-01T00:00:00Z'), max: new Date('2060-01-01T00:00:00Z'), noInvalidDate: true });
  fc.assert(
    fc.property(dateArb, (d) => {
      const on = estimateAnnouncedOn(d.toISOString());
      const day = new Date(`${on}T00:00:00Z`);
      const weekday = day.getUTCDay();
      assert.ok(weekday >= 1 && weekday <= 5, `${d.toISOString()} -> ${on}`);
      const lag = (day.getTime() - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())) / 86_400_000;
      assert.ok(lag >= 0 && lag <= 5, `${d.toISOString()} -> ${on}`);
    }),
    { numRuns: 2000 },
  );
});

test('property: later submissions are never announced earlier', () => {
  const dateArb = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true });
  fc.assert(
    fc.property(dateArb, fc.integer({ min: 0, max: 7 * 24 * 60 }), (d, minutes) => {
      const later = new Date(d.getTime() + minutes * 60_000);
      assert.ok(estimateAnnouncedOn(d.toISOString()) <= estimateAnnouncedOn(later.toISOString()));
    }),
    { numRuns: 2000 },
  );
});
