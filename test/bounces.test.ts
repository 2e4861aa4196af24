/**
 * The mail webhook over HTTP, on both engines: its shared-secret
 * authentication, the JSON events and what they change, and every DSN and
 * ARF fixture through the raw-message route.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { newSecret } from '../src/accounts/secrets.js';
import type { SubscriberStatus } from '../src/db/schema.js';
import { MAX_REPORT_BYTES } from '../src/mail/dsn.js';
import { emptyApp, type TestApp } from './support/app.js';

const SECRET = 'mail-webhook-secret-for-tests-0123456789';
const AUTH = { authorization: `Bearer ${SECRET}` };
const DAY = 24 * 60 * 60 * 1000;
const fixture = (name: string): Buffer => readFileSync(`test/fixtures/mail/${name}`);

async function postEvents(t: TestApp, body: unknown, headers: Record<string, string> = AUTH): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/mail/events', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });
}

async function postMessage(t: TestApp, raw: Buffer | string, type = 'message/rfc822', headers: Record<string, string> = AUTH): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/mail/dsn', headers: { 'content-type': type, ...headers }, payload: raw });
}

async function subscriber(t: TestApp, email: string, status: SubscriberStatus = 'confirmed', token: string = newSecret()): Promise<string> {
  const now = new Date().toISOString();
  await t.ctx.database.db
    .insertInto('subscribers')
    .values({ email, email_key: email.toLowerCase(), status, link_token: token, created_at: now, updated_at: now })
    .execute();
  return token;
}

async function suppressed(t: TestApp): Promise<Record<string, string>> {
  const rows = await t.ctx.database.db.selectFrom('suppressions').select(['email_key', 'reason']).orderBy('email_key').execute();
  return Object.fromEntries(rows.map((r) => [r.email_key, r.reason]));
}

async function eventCount(t: TestApp): Promise<number> {
  const row = await t.ctx.database.db.selectFrom('mail_events').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function status(t: TestApp, email: string): Promise<string | undefined> {
  return (await t.ctx.database.db.selectFrom('subscribers').select('status').where('email_key', '=', email.toLowerCase()).executeTakeFirst())?.status;
}

function errorOf(res: LightMyRequestResponse, code: number): string {
  assert.equal(res.statusCode, code, res.body);
  const body = res.json<{ error: string; message: string }>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
  return body.message;
}

test('without MAIL_WEBHOOK_SECRET the webhook does not exist', async () => {
  const t = await emptyApp();
  try {
    const unknown = await t.app.inject({ method: 'POST', url: '/api/mail/nothing' });
    for (const res of [
      await postEvents(t, { events: [{ type: 'complaint', email: 'a@example.org' }] }),
      await postEvents(t, { events: [] }, {}),
      await postMessage(t, fixture('postfix-hard-5.1.1.eml')),
    ]) {
      assert.match(errorOf(res, 404), /^Nothing at \/api\/mail\/(events|dsn)\.$/);
      assert.equal(res.json<{ error: string }>().error, unknown.json<{ error: string }>().error);
    }
    assert.equal(await eventCount(t), 0);
  } finally {
    await t.close();
  }
});

describe('the mail webhook', () => {
  let t: TestApp;
  before(async () => {
    t = await emptyApp({ MAIL_WEBHOOK_SECRET: SECRET, SOFT_BOUNCE_LIMIT: '3' });
  });
  after(async () => {
    await t.close();
  });

  test('refuses a missing or wrong secret with 401 and records nothing', async () => {
    const body = { events: [{ type: 'bounce', email: 'victim@example.org', bounce: 'hard' }] };
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${SECRET}x` },
      { authorization: `Bearer ${SECRET.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}` },
      { authorization: SECRET },
      { authorization: 'Bearer pb_personal_api_token_is_not_the_secret' },
    ];
    for (const headers of attempts) {
      const res = await postEvents(t, body, headers);
      assert.match(errorOf(res, 401), /MAIL_WEBHOOK_SECRET/);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="paperboy-mail"');
      assert.equal(errorOf(await postMessage(t, fixture('postfix-hard-5.1.1.eml'), 'message/rfc822', headers), 401).length > 0, true);
    }
    assert.equal(await eventCount(t), 0);
    assert.deepEqual(await suppressed(t), {});
    // The scheme is case-insensitive, as HTTP says.
    assert.equal((await postEvents(t, { events: [{ type: 'complaint', email: 'ok@example.org' }] }, { authorization: `bearer ${SECRET}` })).statusCode, 200);
  });

  test('a hard bounce and a complaint suppress at once; the answer gives counts, never addresses', async () => {
    const res = await postEvents(t, {
      events: [
        { type: 'bounce', email: ' Gone@Example.net ', bounce: 'hard', detail: '550 5.1.1 user unknown' },
        { type: 'complaint', email: 'angry@example.net' },
        { type: 'bounce', email: 'gone@example.net', bounce: 'hard' },
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), { recorded: 3, suppressed: 2, unsubscribed: 0, ignored: 0 });
    const now = await suppressed(t);
    assert.equal(now['gone@example.net'], 'hard-bounce');
    assert.equal(now['angry@example.net'], 'complaint');
    const detail = await t.ctx.database.db.selectFrom('mail_events').select(['detail', 'source']).where('email_key', '=', 'gone@example.net').orderBy('id').executeTakeFirstOrThrow();
    assert.deepEqual(detail, { detail: '550 5.1.1 user unknown', source: 'webhook' });
  });

  test('soft bounces suppress only at the threshold, and ones older than 30 days do not count', async () => {
    const email = 'full@example.net';
    const old = new Date(Date.now() - 31 * DAY).toISOString();
    await t.ctx.database.db
      .insertInto('mail_events')
      .values([1, 2].map(() => ({ email_key: email, kind: 'soft-bounce' as const, source: 'dsn' as const, detail: null, created_at: old })))
      .execute();
    const soft = { type: 'bounce', email, bounce: 'soft', detail: '452 4.2.2 mailbox full' };
    assert.deepEqual((await postEvents(t, { events: [soft, soft] })).json(), { recorded: 2, suppressed: 0, unsubscribed: 0, ignored: 0 });
    assert.equal((await suppressed(t))[email], undefined, 'two recent and two old soft bounces');
    assert.deepEqual((await postEvents(t, { events: [soft] })).json(), { recorded: 1, suppressed: 1, unsubscribed: 0, ignored: 0 });
    assert.equal((await suppressed(t))[email], 'soft-bounces');
  });

  test('unsubscribe by address and by the link token of the mailto subject', async () => {
    await subscriber(t, 'by.address@example.org');
    const token = await subscriber(t, 'by.token@example.org');
    await subscriber(t, 'bystander@example.org');
    const res = await postEvents(t, {
      events: [
        { type: 'unsubscribe', email: 'BY.ADDRESS@example.org' },
        { type: 'unsubscribe', token },
        { type: 'unsubscribe', token: newSecret() },
      ],
    });
    assert.deepEqual(res.json(), { recorded: 2, suppressed: 0, unsubscribed: 2, ignored: 1 });
    assert.equal(await status(t, 'by.address@example.org'), 'unsubscribed');
    assert.equal(await status(t, 'by.token@example.org'), 'unsubscribed');
    assert.equal(await status(t, 'bystander@example.org'), 'confirmed');
    const kinds = await t.ctx.database.db.selectFrom('mail_events').select('kind').where('email_key', '=', 'by.token@example.org').execute();
    assert.deepEqual(kinds, [{ kind: 'unsubscribe' }]);
  });

  test('malformed requests are 400s that name the problem, and change nothing', async () => {
    const before = await eventCount(t);
    const cases: [unknown, RegExp][] = [
      [{}, /events: is required/],
      [{ events: [] }, /events: must list at least one event/],
      [{ events: Array.from({ length: 501 }, () => ({ type: 'complaint', email: 'x@example.org' })) }, /at most 500/],
      [{ events: [{ type: 'complaint', email: 'fine@example.org' }, { type: 'bounce', email: 'not-an-address', bounce: 'hard' }] }, /events\.1\.email: must be an email address/],
      [{ events: [{ type: 'bounce', email: 'x@example.org', bounce: 'medium' }] }, /events\.0\.bounce: must be "hard" or "soft"/],
      [{ events: [{ type: 'delivered', email: 'x@example.org' }] }, /events\.0\.type: type must be "bounce", "complaint" or "unsubscribe"/],
      [{ events: [{ type: 'unsubscribe' }] }, /events\.0: give the email or the token/],
      [{ events: [{ type: 'unsubscribe', token: 'short' }] }, /events\.0\.token: must be a subscriber's link token/],
      [{ events: [{ type: 'complaint', email: 'x@example.org', extra: 1 }] }, /unknown parameter extra/],
      [{ events: [], more: true }, /unknown parameter more/],
    ];
    for (const [body, problem] of cases) assert.match(errorOf(await postEvents(t, body), 400), problem, JSON.stringify(body).slice(0, 100));
    const broken = await t.app.inject({ method: 'POST', url: '/api/mail/events', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"events": [' });
    errorOf(broken, 400);
    const raw = await t.app.inject({ method: 'POST', url: '/api/mail/events', headers: { ...AUTH, 'content-type': 'message/rfc822' }, payload: 'Subject: x\n\ny' });
    assert.match(errorOf(raw, 415), /application\/json/);
    assert.equal(await eventCount(t), before);
  });

  test('the raw-message route takes only a message, of at most 1 MB', async () => {
    const before = await eventCount(t);
    assert.match(errorOf(await postMessage(t, '{"a":1}', 'application/json'), 415), /message\/rfc822/);
    errorOf(await postMessage(t, 'x', 'image/png'), 415);
    assert.match(errorOf(await postMessage(t, '', 'message/rfc822'), 400), /empty/);
    const big = Buffer.concat([fixture('postfix-hard-5.1.1.eml'), Buffer.alloc(MAX_REPORT_BYTES, 0x20)]);
    errorOf(await postMessage(t, big), 413);
    assert.equal(await eventCount(t), before);
    assert.deepEqual(await suppressed(t).then((s) => s['no-such-user@example.net']), undefined);
  });
});

describe('returned messages through POST /api/mail/dsn', () => {
  let t: TestApp;
  before(async () => {
    t = await emptyApp({ MAIL_WEBHOOK_SECRET: SECRET });
    await subscriber(t, 'redacted.reader@example.org', 'confirmed', 'oCcXAYyPq0-q3Ds0ckRL6qMFBHnWaLHCM6YZtUbxydI');
    await subscriber(t, 'reader.four@example.org', 'confirmed', 'gA6blyBjtwxLsgmxOosxbbfN5eG_r-WtFdgI4-hUCAw');
  });
  after(async () => {
    await t.close();
  });

  const none = { recorded: 0, suppressed: 0, unsubscribed: 0, ignored: 0 };
  const cases: [string, Record<string, unknown>, Record<string, string>][] = [
    ['postfix-hard-5.1.1.eml', { report: 'delivery-status', recorded: 1, suppressed: 1 }, { 'no-such-user@example.net': 'hard-bounce' }],
    ['postfix-soft-4.2.2-delayed.eml', { report: 'delivery-status' }, {}],
    ['postfix-soft-4.2.2-failed.eml', { report: 'delivery-status', recorded: 1 }, {}],
    ['exim-hard.eml', { report: 'delivery-status', recorded: 1, suppressed: 1 }, { 'gone@example.org': 'hard-bounce' }],
    ['gmail-5.7.1.eml', { report: 'delivery-status', recorded: 1, suppressed: 0 }, {}],
    [
      'multi-recipient.eml',
      { report: 'delivery-status', recorded: 4, suppressed: 3 },
      { 'dead@example.com': 'hard-bounce', 'alias@example.edu': 'hard-bounce', 'nostatus@example.com': 'hard-bounce' },
    ],
    ['truncated-report.eml', { report: 'delivery-status', recorded: 1, suppressed: 1 }, { 'cut-off@example.com': 'hard-bounce' }],
    ['arf-abuse.eml', { report: 'feedback-report', recorded: 1, suppressed: 1 }, { 'reader.one@example.com': 'complaint' }],
    ['arf-to-only.eml', { report: 'feedback-report', recorded: 1, suppressed: 1 }, { 'reader.two@isp.example.net': 'complaint' }],
    ['arf-redacted.eml', { report: 'feedback-report', recorded: 1, suppressed: 1 }, { 'redacted.reader@example.org': 'complaint' }],
    ['arf-auth-failure.eml', { report: 'feedback-report' }, {}],
    ['mailto-unsubscribe.eml', { report: 'unsubscribe-request', recorded: 1, unsubscribed: 1 }, {}],
    ['out-of-office.eml', { report: null }, {}],
    ['exim-text-bounce.eml', { report: null }, {}],
  ];
  for (const [name, answer, added] of cases) {
    test(`${name} → ${String(answer.report)}, ${Object.keys(added).length} suppressed`, async () => {
      const before = await suppressed(t);
      const res = await postMessage(t, fixture(name));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { ...none, ...answer });
      assert.deepEqual(await suppressed(t), { ...before, ...added });
    });
  }

  test('what the reports did: the mailto unsubscribed its subscriber, the soft bounce was only counted', async () => {
    assert.equal(await status(t, 'reader.four@example.org'), 'unsubscribed');
    const soft = await t.ctx.database.db.selectFrom('mail_events').select(['kind', 'source', 'detail']).where('email_key', '=', 'full.mailbox@example.org').execute();
    assert.deepEqual(soft, [{ kind: 'soft-bounce', source: 'dsn', detail: '4.2.2 smtp; 452 4.2.2 <full.mailbox@example.org>: Mailbox full' }]);
  });

  test('garbage is no report and records nothing, whatever its type', async () => {
    const before = await eventCount(t);
    for (const [raw, type] of [
      [Buffer.from([0, 1, 2, 255, 254, 10, 10, 65]), 'application/octet-stream'],
      ['just some words\n\nand more', 'text/plain'],
      ['Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n--x--', 'message/rfc822'],
    ] as const) {
      const res = await postMessage(t, raw, type);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { report: null, ...none });
    }
    assert.equal(await eventCount(t), before);
  });

  test('a complaint whose token is unknown and whose recipient was redacted is ignored', async () => {
    const other = fixture('arf-redacted.eml').toString('latin1').replaceAll('oCcXAYyPq0-q3Ds0ckRL6qMFBHnWaLHCM6YZtUbxydI', newSecret());
    const res = await postMessage(t, other);
    assert.deepEqual(res.json(), { report: 'feedback-report', ...none, ignored: 1 });
  });

  test('the same bounce again is recorded again but suppresses nothing new', async () => {
    const res = await postMessage(t, fixture('postfix-hard-5.1.1.eml'), 'text/plain');
    assert.deepEqual(res.json(), { report: 'delivery-status', ...none, recorded: 1 });
  });

  test('the OpenAPI document describes both routes with the webhook secret', async () => {
    const doc = (await t.app.inject('/api/openapi.json')).json<{
      paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, { description: string }>; requestBody: { content: Record<string, unknown> } }>>;
    }>();
    for (const path of ['/api/mail/events', '/api/mail/dsn']) {
      const op = doc.paths[path]?.post;
      assert.deepEqual(op?.security, [{ mailWebhookSecret: [] }], path);
      assert.match(op?.responses['404']?.description ?? '', /MAIL_WEBHOOK_SECRET/);
    }
    assert.deepEqual(Object.keys(doc.paths['/api/mail/dsn']?.post?.requestBody.content ?? {}), ['message/rfc822', 'text/plain', 'application/octet-stream']);
  });
});
