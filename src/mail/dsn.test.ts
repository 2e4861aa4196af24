import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { MAX_REPORT_BYTES, parseReport, type MailReport } from './dsn.js';

const DIR = 'test/fixtures/mail';
const fixture = (name: string): Buffer => readFileSync(`${DIR}/${name}`);
const crlf = (raw: Buffer): Buffer => Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

/** What every fixture reports, as written; each is checked with LF and CRLF line ends. */
const EXPECTED: Record<string, MailReport | null> = {
  'postfix-hard-5.1.1.eml': {
    type: 'delivery-status',
    events: [
      {
        kind: 'hard-bounce',
        email: 'no-such-user@example.net',
        detail:
          '5.1.1 smtp; 550 5.1.1 <no-such-user@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
      },
    ],
  },
  // Still being retried: a failed notice follows if the MTA gives up, so a delay counts for nothing.
  'postfix-soft-4.2.2-delayed.eml': { type: 'delivery-status', events: [] },
  'postfix-soft-4.2.2-failed.eml': {
    type: 'delivery-status',
    events: [
      { kind: 'soft-bounce', email: 'full.mailbox@example.org', detail: '4.2.2 smtp; 452 4.2.2 <full.mailbox@example.org>: Mailbox full' },
    ],
  },
  'exim-hard.eml': {
    type: 'delivery-status',
    events: [{ kind: 'hard-bounce', email: 'gone@example.org', detail: '5.0.0 smtp; 550 Unrouteable address' }],
  },
  'gmail-5.7.1.eml': {
    type: 'delivery-status',
    events: [
      {
        kind: 'soft-bounce',
        email: 'Blocked.Reader@Example.COM',
        detail:
          '5.7.1 smtp; 550 5.7.1 <Blocked.Reader@Example.COM>: Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]',
      },
    ],
  },
  'multi-recipient.eml': {
    type: 'delivery-status',
    events: [
      { kind: 'hard-bounce', email: 'dead@example.com', detail: '5.1.1 SMTP; 550 5.1.1 <dead@example.com>... User unknown' },
      // Failed after retrying a temporary error: soft, whatever the diagnostic's own code says.
      { kind: 'soft-bounce', email: 'quota@example.com', detail: '4.4.7 SMTP; 452 4.2.2 Over quota' },
      // The address the digest went to, not the one it was forwarded to.
      { kind: 'hard-bounce', email: 'alias@example.edu', detail: '5.2.1 SMTP; 550 5.2.1 Mailbox disabled' },
      // No Status field: the SMTP reply's class decides.
      { kind: 'hard-bounce', email: 'nostatus@example.com', detail: 'smtp; 554 Transaction failed' },
    ],
  },
  'truncated-report.eml': {
    type: 'delivery-status',
    events: [{ kind: 'hard-bounce', email: 'cut-off@example.com', detail: '5.1.1 smtp; 550 5.1.1 User unkn' }],
  },
  'arf-abuse.eml': {
    type: 'feedback-report',
    events: [
      {
        kind: 'complaint',
        email: 'Reader.One@example.com',
        token: 'jGp_ap6KiicB1z9G-48pLFfgED7Air90yNZocd_NOxI',
        detail: 'feedback-type abuse from SomeGenerator/1.0',
      },
    ],
  },
  // No Original-Rcpt-To: the To of the returned digest; the report itself is base64.
  'arf-to-only.eml': {
    type: 'feedback-report',
    events: [{ kind: 'complaint', email: 'reader.two@isp.example.net', detail: 'feedback-type abuse from ISP-FBL/2.1' }],
  },
  // The recipient redacted: only the digest's own link token says whose it was.
  'arf-redacted.eml': {
    type: 'feedback-report',
    events: [{ kind: 'complaint', token: 'oCcXAYyPq0-q3Ds0ckRL6qMFBHnWaLHCM6YZtUbxydI', detail: 'feedback-type abuse from MailProvider-FBL/1.0' }],
  },
  // A DKIM failure report in ARF clothing is no complaint.
  'arf-auth-failure.eml': { type: 'feedback-report', events: [] },
  'mailto-unsubscribe.eml': {
    type: 'unsubscribe-request',
    events: [{ kind: 'unsubscribe', token: 'gA6blyBjtwxLsgmxOosxbbfN5eG_r-WtFdgI4-hUCAw', detail: 'List-Unsubscribe mailto' }],
  },
  // Status-like lines in an ordinary message, and a plain-text bounce: not reports, nothing guessed.
  'out-of-office.eml': null,
  'exim-text-bounce.eml': null,
};

test('every fixture is covered', () => {
  assert.deepEqual(readdirSync(DIR).filter((f) => f.endsWith('.eml')).sort(), Object.keys(EXPECTED).sort());
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`${name}: ${expected === null ? 'not a report' : `${expected.type}, ${expected.events.length} event(s)`}`, () => {
    const raw = fixture(name);
    assert.deepEqual(parseReport(raw), expected);
    assert.deepEqual(parseReport(crlf(raw)), expected, 'CRLF line ends');
    assert.deepEqual(parseReport(raw.toString('utf8')), expected, 'as a string');
  });
}

test('an mbox "From " line before the headers is skipped', () => {
  const raw = Buffer.concat([Buffer.from('From MAILER-DAEMON Tue Nov  3 07:12:03 2026\n'), fixture('postfix-hard-5.1.1.eml')]);
  assert.deepEqual(parseReport(raw), EXPECTED['postfix-hard-5.1.1.eml']);
});

test('a report nested in a multipart/mixed is found; one inside an attached message is not', () => {
  const report = fixture('postfix-hard-5.1.1.eml').toString('latin1');
  const wrap = (partType: string): string =>
    `From: relay@example.org\nTo: digest@paperboy.example\nSubject: wrapped\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer"\n\n` +
    `--outer\nContent-Type: text/plain\n\nsee attached\n--outer\n${partType === 'inline' ? '' : `Content-Type: ${partType}\n\n`}${report}\n--outer--\n`;
  assert.deepEqual(parseReport(wrap('inline')), EXPECTED['postfix-hard-5.1.1.eml']);
  // Someone forwarding a bounce is not the MTA reporting one.
  assert.equal(parseReport(wrap('message/rfc822')), null);
});

test('a subject that only looks like an unsubscribe request is not one', () => {
  const mail = (subject: string): string => `From: a@example.org\nTo: digest@paperboy.example\nSubject: ${subject}\n\nbody\n`;
  assert.equal(parseReport(mail('unsubscribe')), null);
  assert.equal(parseReport(mail('unsubscribe me please')), null);
  assert.equal(parseReport(mail('unsubscribe gA6blyBjtwxLsgmxOosxbbfN5eG_r-WtFdgI4-hUCAwX')), null, '44 characters');
  assert.deepEqual(parseReport(mail('Re: UNSUBSCRIBE gA6blyBjtwxLsgmxOosxbbfN5eG_r-WtFdgI4-hUCAw'))?.events[0]?.token, 'gA6blyBjtwxLsgmxOosxbbfN5eG_r-WtFdgI4-hUCAw');
});

test('a report with a base64 or quoted-printable delivery-status part is decoded', () => {
  const fields =
    'Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; b64@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n';
  const message = (encoding: string, body: string): string =>
    `From: MAILER-DAEMON@example\nSubject: failure\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n` +
    `--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: ${encoding}\n\n${body}\n--b--\n`;
  const events = [{ kind: 'hard-bounce', email: 'b64@example.com', detail: '5.1.1' }];
  assert.deepEqual(parseReport(message('base64', Buffer.from(fields).toString('base64')))?.events, events);
  assert.deepEqual(parseReport(message('quoted-printable', fields.replace('b64@', 'b6=34@').replace('Status', 'Sta=\r\ntus')))?.events, events);
});

test('garbage, empty and oversized input is no report', () => {
  assert.equal(parseReport(''), null);
  assert.equal(parseReport(Buffer.alloc(0)), null);
  assert.equal(parseReport('not a mail at all\n\njust words'), null);
  assert.equal(parseReport(Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0a, 0x41])), null);
  assert.equal(parseReport('Content-Type: multipart/report; report-type=delivery-status\n\nno boundary, no parts'), null);
  assert.equal(parseReport('Content-Type: multipart/report; report-type=disposition-notification; boundary=x\n\n--x\n\nread\n--x--'), null);
  const big = Buffer.concat([fixture('postfix-hard-5.1.1.eml'), Buffer.alloc(MAX_REPORT_BYTES, 0x20)]);
  assert.equal(parseReport(big), null);
});

test('a megabyte of hostile text is read in linear time', () => {
  const n = MAX_REPORT_BYTES - 4096;
  const arf = (headers: string): string =>
    'From: x\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: message/feedback-report\n\n' +
    `Feedback-Type: abuse\n\n--b\nContent-Type: text/rfc822-headers\n\n${headers}\n--b--\n`;
  const hostile = [
    arf(`To: ${'a'.repeat(n)}`),
    arf(`To: ${'<a'.repeat(n / 2)}`),
    `Content-Type: multipart/report; a="${';b="'.repeat(n / 4)}\n\n`,
    `Subject: a\n${' b\n'.repeat(n / 3)}\n`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: quoted-printable\n\n${' '.repeat(n)}\n--b--`,
  ];
  for (const text of hostile) {
    const started = Date.now();
    parseReport(text);
    // Quadratic backtracking over a megabyte takes minutes, not seconds.
    assert.ok(Date.now() - started < 5000, text.slice(0, 60));
  }
});

test('never throws on random bytes or on damaged fixtures', () => {
  const fixtures = Object.keys(EXPECTED).map(fixture);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
      parseReport(Buffer.from(bytes));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: fixtures.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
      fc.nat(),
      (which, edits, cut) => {
        const copy = Buffer.from(fixtures[which] ?? Buffer.alloc(0));
        for (const [at, byte] of edits) if (copy.length > 0) copy[at % copy.length] = byte;
        const result = parseReport(copy.subarray(0, copy.length === 0 ? 0 : (cut % copy.length) + 1));
        if (result !== null) for (const e of result.events) assert.ok(e.email !== undefined || e.token !== undefined);
      },
    ),
    { numRuns: 500 },
  );
});
