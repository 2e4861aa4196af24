import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expandYear, parseArxivDate } from './dates.js';

test('the forms arXiv sources use', () => {
  const cases: [string, string][] = [
    ['Mon, 2 Apr 2007 19:18:42 GMT', '2007-04-02T19:18:42.000Z'],
    ['Mon, 2 Apr 2007 19:18:42 GMT   (377kb,D)', '2007-04-02T19:18:42.000Z'],
    ['Fri, 1 Jan 1999 01:01:10 GMT   (15kb)', '1999-01-01T01:01:10.000Z'],
    ['Fri, 17 Mar 23 00:51:30 GMT', '2023-03-17T00:51:30.000Z'],
    ['Mon, 5 Aug 91 10:00:00 GMT', '1991-08-05T10:00:00.000Z'],
    ['Thu, 7 Mar 2021 17:29:20 GMT', '2021-03-07T17:29:20.000Z'], // wrong weekday, as found
    ['2 Apr 2007 19:18:42 GMT', '2007-04-02T19:18:42.000Z'],
    ['Mon, 02 Apr 2007 19:18 EDT', '2007-04-02T23:18:00.000Z'],
    ['Mon, 2 Apr 2007 19:18:42 +0200', '2007-04-02T17:18:42.000Z'],
    ['Mon, 2 Apr 2007', '2007-04-02T00:00:00.000Z'],
    ['2007-04-02', '2007-04-02T00:00:00.000Z'],
    ['2017-12-14T13:00:41Z', '2017-12-14T13:00:41.000Z'],
    ['2017-12-14T13:00:41.123Z', '2017-12-14T13:00:41.123Z'],
    ['2008-02-29T23:59:59.999Z', '2008-02-29T23:59:59.999Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['2016-10-09T00:00:00-04:00', '2016-10-09T04:00:00.000Z'],
    ['2016-10-09T00:00:00+0530', '2016-10-08T18:30:00.000Z'],
    ['2007-04-01 16:37:36', '2007-04-01T16:37:36.000Z'],
    ['  2007-04-01T16:37  ', '2007-04-01T16:37:00.000Z'],
  ];
  for (const [input, iso] of cases) assert.equal(parseArxivDate(input), iso, input);
});

test('garbage is null', () => {
  for (const bad of [
    '',
    'yesterday',
    '2007-02-30',
    '2007-02-29T00:00:00.000Z', // canonical form, still validated
    '2008-04-31T00:00:00.000Z',
    '2008-04-30T24:00:00.000Z',
    '2007-13-01',
    '2007-04-02T25:00:00Z',
    'Mon, 32 Apr 2007 19:18:42 GMT',
    'Mon, 2 Foo 2007 19:18:42 GMT',
    'Mon, 2 Apr 2007 19:18:42 GMT trailing',
    '2 April',
    '12345678',
    'Mon, 2 Apr 2007 24:00:00 GMT',
  ]) {
    assert.equal(parseArxivDate(bad), null, bad);
  }
});

test('two-digit years: arXiv began in 1991', () => {
  assert.equal(expandYear(91), 1991);
  assert.equal(expandYear(99), 1999);
  assert.equal(expandYear(0), 2000);
  assert.equal(expandYear(23), 2023);
});

test('property: round trip of RFC and ISO renderings', () => {
  const dateArb = fc.date({ min: new Date('1991-01-01T00:00:00Z'), max: new Date('2090-12-31T23:59:59Z'), noInvalidDate: true });
  fc.assert(
    fc.property(dateArb, (d) => {
      const iso = d.toISOString();
      assert.equal(parseArxivDate(iso), iso);
      const seconds = new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
      // toUTCString is "Mon, 02 Apr 2007 19:18:42 GMT", the RFC 2822 form arXiv writes.
      assert.equal(parseArxivDate(d.toUTCString()), seconds);
      assert.equal(parseArxivDate(iso.slice(0, 10)), `${iso.slice(0, 10)}T00:00:00.000Z`);
      assert.equal(parseArxivDate(`${iso.slice(0, 10)} ${iso.slice(11, 19)}`), seconds);
    }),
    { numRuns: 1000 },
  );
});

test('property: never throws on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      const r = parseArxivDate(s);
      if (r !== null) assert.equal(new Date(r).toISOString(), r);
    }),
    { numRuns: 2000 },
  );
});
