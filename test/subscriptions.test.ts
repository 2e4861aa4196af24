/**
 * Digest subscriptions through HTTP, on both engines: the API and the
 * /subscribe form answer alike whatever the address's state; double opt-in
 * with a single-use, expiring link behind a button; one email per address per
 * 10 minutes; the rate limit per client address; the preferences page and its
 * validation; RFC 8058 one-click unsubscribe; subscribing from settings; and
 * what the account export and deletion do to a subscription.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { startSession } from '../src/accounts/sessions.js';
import { createUser } from '../src/accounts/users.js';
import { createApiToken } from '../src/accounts/api-tokens.js';
import { browserCsrf } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';

let t: TestApp;
let clients = 0;
/** A client address of its own, so one test's requests never spend another's rate-limit budget. */
const nextIp = (): string => `10.9.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

before(async () => {
  t = await emptyApp({ RATE_LIMIT_SUBSCRIBE: '1000', RATE_LIMIT_AUTH: '1000' });
});
after(async () => t.close());

const json = { 'content-type': 'application/json' };
const formType = { 'content-type': 'application/x-www-form-urlencoded' };

async function subscribeApi(body: unknown, ip = nextIp()): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/subscriptions', headers: json, payload: JSON.stringify(body), remoteAddress: ip });
}

async function outboxMark(): Promise<number> {
  const row = await t.ctx.database.db.selectFrom('outbox').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Time for mail sent in the background to be stored, before asserting that none was. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

/** The mails to `to` after `mark`. */
async function mailsSince(mark: number, to: string): Promise<{ kind: string; subject: string; text: string }[]> {
  const rows = await t.ctx.database.db
    .selectFrom('outbox')
    .select(['kind', 'subject', 'text_body'])
    .where('recipient', '=', to)
    .where('id', '>', mark)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ kind: r.kind, subject: r.subject, text: r.text_body }));
}

/** The first mail of `kind` to `to` after `mark` (mail is stored in the background: wait for it). */
async function mailSince(mark: number, to: string, kind: string): Promise<{ subject: string; text: string }> {
  for (let i = 0; i < 100; i += 1) {
    const found = (await mailsSince(mark, to)).find((m) => m.kind === kind);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${kind} mail to ${to}`);
}

function confirmTokenIn(text: string): string {
  const match = /https?:\/\/[^/\s]+\/subscriptions\/confirm\?token=([A-Za-z0-9_%-]+)/.exec(text);
  assert.ok(match?.[1], `a confirmation link in: ${text}`);
  return decodeURIComponent(match[1]);
}

async function subscriber(email: string) {
  return t.ctx.database.db.selectFrom('subscribers').selectAll().where('email_key', '=', email.toLowerCase()).executeTakeFirstOrThrow();
}

/** An anonymous browser's POST of a form carrying its CSRF token (taken from `from`). */
async function postForm(url: string, fields: Record<string, string>, from = '/subscribe'): Promise<LightMyRequestResponse> {
  const { cookie, csrf } = await browserCsrf(t.app, from);
  return t.app.inject({
    method: 'POST',
    url,
    remoteAddress: nextIp(),
    headers: { ...formType, cookie },
    payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
  });
}

interface Account {
  id: number;
  cookie: string;
  /** A request as this person's browser: session cookie and, for non-GET methods, the CSRF header. */
  inject(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse>;
}

/** A signed-in browser of a new account without a password (hashing one would cost most of this file's time). */
async function account(target: TestApp, username: string, email: string, verified = true): Promise<Account> {
  const created = await createUser(target.ctx.database, { email, username, verified });
  if (!created.ok) throw new Error(`${created.field}: ${created.problem}`);
  const session = await startSession(target.ctx.database, target.ctx.config, created.user.id, { userAgent: 'test' });
  const { cookie: csrfCookie, csrf } = await browserCsrf(target.app);
  const cookie = `paperboy_session=${session}; ${csrfCookie}`;
  return {
    id: created.user.id,
    cookie,
    inject: (request) =>
      target.app.inject({
        ...request,
        headers: { cookie, ...(request.method !== undefined && request.method !== 'GET' ? { 'x-csrf-token': csrf } : {}), ...request.headers },
      }),
  };
}

/** Subscribes `email` and confirms it from the emailed link; its link token. */
async function confirmedSubscriber(email: string, body: Record<string, unknown> = {}): Promise<string> {
  const mark = await outboxMark();
  assert.equal((await subscribeApi({ email, ...body })).statusCode, 202);
  const token = confirmTokenIn((await mailSince(mark, email, 'subscribe')).text);
  const done = await postForm('/subscriptions/confirm', { token });
  assert.equal(done.statusCode, 200);
  return (await subscriber(email)).link_token;
}

describe('asking for a subscription', () => {
  test('the API answers one 202 for new, pending, confirmed, unsubscribed and suppressed addresses; only the mailbox hears the difference', async () => {
    await confirmedSubscriber('confirmed@example.org');
    const gone = await confirmedSubscriber('gone@example.org');
    assert.equal((await t.app.inject({ method: 'POST', url: `/unsubscribe/${gone}` })).statusCode, 200);
    assert.equal((await subscribeApi({ email: 'pending@example.org' })).statusCode, 202);
    await t.ctx.database.db.insertInto('suppressions').values({ email_key: 'blocked@example.org', reason: 'complaint', detail: null, created_at: new Date().toISOString() }).execute();
    // Nothing has been mailed to these two within 10 minutes any more.
    await t.ctx.database.db.updateTable('subscribers').set({ confirm_sent_at: Date.now() - 11 * 60_000 }).where('email_key', 'in', ['confirmed@example.org', 'gone@example.org']).execute();

    const mark = await outboxMark();
    const answers = [];
    for (const email of ['new@example.org', 'Pending@Example.org', 'confirmed@example.org', 'gone@example.org', 'blocked@example.org']) {
      const res = await subscribeApi({ email });
      answers.push({ status: res.statusCode, type: res.headers['content-type'], cache: res.headers['cache-control'], body: res.body });
    }
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.equal(answers[0]?.status, 202);
    assert.deepEqual(JSON.parse(answers[0]?.body ?? ''), {
      status: 'accepted',
      message: 'If this address can get the digest, a confirmation email is on its way. Nothing is sent until its link is used; the link works for 48 hours.',
    });

    assert.equal((await mailSince(mark, 'new@example.org', 'subscribe')).subject, 'Confirm your Paperboy digest subscription');
    await settle();
    assert.deepEqual([...(await mailsSince(mark, 'Pending@Example.org')), ...(await mailsSince(mark, 'pending@example.org'))], [], 'pending: mailed a moment ago, so not again');
    const note = await mailSince(mark, 'confirmed@example.org', 'subscribe-existing');
    assert.match(note.text, new RegExp(`/subscription/${(await subscriber('confirmed@example.org')).link_token}`));
    assert.equal((await subscriber('confirmed@example.org')).status, 'confirmed', 'an unproven request changes no live subscription');
    await mailSince(mark, 'gone@example.org', 'subscribe');
    assert.equal((await subscriber('gone@example.org')).status, 'pending', 'unsubscribed: asked to confirm again');
    assert.deepEqual(await mailsSince(mark, 'blocked@example.org'), [], 'suppressed: nothing at all');
    const blocked = await t.ctx.database.db.selectFrom('subscribers').select('id').where('email_key', '=', 'blocked@example.org').execute();
    assert.equal(blocked.length, 0);
  });

  test('malformed addresses and invalid choices are a 400 saying what is wrong', async () => {
    for (const [body, words] of [
      [{}, /email: is required/],
      [{ email: 'not an address' }, /email: must be an email address/],
      [{ email: 'ada@example.org', cadence: 'hourly' }, /cadence: must be "daily" or "weekly"/],
      [{ email: 'ada@example.org', categories: ['cs.LG', 'nope.XX'] }, /categories: unknown arXiv category or archive "nope.XX"/],
      [{ email: 'ada@example.org', extra: 1 }, /unknown parameter extra/],
    ] as const) {
      const res = await subscribeApi(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      const answer = res.json<{ error: string; message: string }>();
      assert.equal(answer.error, 'invalid_request');
      assert.match(answer.message, words);
    }
    const stored = await t.ctx.database.db.selectFrom('subscribers').select('id').where('email_key', '=', 'ada@example.org').execute();
    assert.equal(stored.length, 0);
  });

  test('the confirmation link opens a page with a button; only the button confirms, once, and leads to the preferences', async () => {
    const mark = await outboxMark();
    assert.equal((await subscribeApi({ email: 'Eve@Example.org', cadence: 'weekly', categories: ['cs.LG', 'math'] })).statusCode, 202);
    const mail = await mailSince(mark, 'Eve@Example.org', 'subscribe');
    assert.match(mail.text, /\(weekly\)/);
    assert.match(mail.text, /works once, for 48 hours/);
    assert.match(mail.text, /^http:\/\/localhost:3000\/subscriptions\/confirm\?token=/m);
    const token = confirmTokenIn(mail.text);
    const before = await subscriber('eve@example.org');
    assert.equal(before.status, 'pending');
    assert.equal(before.cadence, 'weekly');
    assert.deepEqual(JSON.parse(before.categories), ['cs.LG', 'math']);
    assert.notEqual(before.confirm_token_hash, token, 'only the hash is stored');

    const landing = await t.app.inject(`/subscriptions/confirm?token=${encodeURIComponent(token)}`);
    assert.equal(landing.statusCode, 200);
    assert.match(landing.body, /<button type="submit">Confirm subscription<\/button>/);
    assert.match(landing.body, /Eve@Example\.org/);
    assert.equal(landing.headers['referrer-policy'], 'no-referrer');
    assert.equal(landing.headers['cache-control'], 'private, no-store');
    assert.deepEqual(await subscriber('eve@example.org'), before, 'opening the link (or a scanner prefetching it) changes nothing');

    const noCsrf = await t.app.inject({ method: 'POST', url: '/subscriptions/confirm', headers: formType, payload: `token=${token}` });
    assert.equal(noCsrf.statusCode, 403);
    const confirmed = await postForm('/subscriptions/confirm', { token }, `/subscriptions/confirm?token=${encodeURIComponent(token)}`);
    assert.equal(confirmed.statusCode, 200);
    const after = await subscriber('eve@example.org');
    assert.equal(after.status, 'confirmed');
    assert.ok(after.confirmed_at !== null);
    assert.equal(after.confirm_token_hash, null);
    assert.ok(confirmed.body.includes(`href="/subscription/${after.link_token}"`), 'the answer links to the preferences');
    assert.equal(confirmed.headers['referrer-policy'], 'no-referrer');

    const again = await postForm('/subscriptions/confirm', { token });
    assert.equal(again.statusCode, 410);
    assert.match(again.body, /expired or was already used/);
    assert.match(again.body, /action="\/subscribe"/, 'offers to subscribe again');
    assert.equal((await t.app.inject(`/subscriptions/confirm?token=${encodeURIComponent(token)}`)).statusCode, 410);
    assert.equal((await t.app.inject('/subscriptions/confirm')).statusCode, 400);
  });

  test('a confirmation link expires after 48 hours', async () => {
    const mark = await outboxMark();
    await subscribeApi({ email: 'late@example.org' });
    const token = confirmTokenIn((await mailSince(mark, 'late@example.org', 'subscribe')).text);
    const row = await subscriber('late@example.org');
    assert.ok(Math.abs(Number(row.confirm_expires_at) - (Date.now() + 48 * 3600_000)) < 60_000, 'valid for 48 hours');
    await t.ctx.database.db.updateTable('subscribers').set({ confirm_expires_at: Date.now() - 1 }).where('id', '=', row.id).execute();
    const landing = await t.app.inject(`/subscriptions/confirm?token=${encodeURIComponent(token)}`);
    assert.equal(landing.statusCode, 410);
    assert.doesNotMatch(landing.body, /Confirm subscription<\/button>/);
    assert.equal((await postForm('/subscriptions/confirm', { token })).statusCode, 410);
    assert.equal((await subscriber('late@example.org')).status, 'pending');
  });

  test('an address gets one confirmation per 10 minutes; a later one replaces the earlier link', async () => {
    const mark = await outboxMark();
    const [a, b] = await Promise.all([subscribeApi({ email: 'twice@example.org' }), subscribeApi({ email: 'twice@example.org' })]);
    assert.equal(a.statusCode, 202);
    assert.equal(b.body, a.body);
    await subscribeApi({ email: 'TWICE@example.org' });
    await mailSince(mark, 'twice@example.org', 'subscribe');
    await settle();
    const mails = await mailsSince(mark, 'twice@example.org');
    assert.equal(mails.length + (await mailsSince(mark, 'TWICE@example.org')).length, 1, 'one email for three requests');
    const first = confirmTokenIn(mails[0]?.text ?? '');

    await t.ctx.database.db.updateTable('subscribers').set({ confirm_sent_at: Date.now() - 10 * 60_000 - 1000 }).where('email_key', '=', 'twice@example.org').execute();
    const later = await outboxMark();
    await subscribeApi({ email: 'twice@example.org' });
    const second = confirmTokenIn((await mailSince(later, 'twice@example.org', 'subscribe')).text);
    assert.notEqual(second, first);
    assert.equal((await t.app.inject(`/subscriptions/confirm?token=${encodeURIComponent(first)}`)).statusCode, 410);
    assert.equal((await t.app.inject(`/subscriptions/confirm?token=${encodeURIComponent(second)}`)).statusCode, 200);
  });

  test('requests are limited per client address, also with an API token, with a JSON 429 and Retry-After', async () => {
    const limited = await emptyApp({ RATE_LIMIT_SUBSCRIBE: '2' });
    try {
      const user = await account(limited, 'scripter', 'scripter@example.org');
      const { token } = await createApiToken(limited.ctx.database, user.id, 'write', 'test');
      const post = (email: string, remoteAddress: string, headers: Record<string, string> = {}) =>
        limited.app.inject({ method: 'POST', url: '/api/subscriptions', remoteAddress, headers: { ...json, ...headers }, payload: JSON.stringify({ email }) });
      assert.equal((await post('a@example.org', '10.20.0.1')).statusCode, 202);
      assert.equal((await post('b@example.org', '10.20.0.1', { authorization: `Bearer ${token}` })).statusCode, 202);
      const over = await post('c@example.org', '10.20.0.1', { authorization: `Bearer ${token}` });
      assert.equal(over.statusCode, 429, 'a token buys no bigger budget');
      assert.equal(over.json<{ error: string }>().error, 'rate_limited');
      assert.ok(Number(over.headers['retry-after']) > 0);
      assert.match(over.json<{ message: string }>().message, /from one address/);
      const rows = await limited.ctx.database.db.selectFrom('subscribers').select('email').execute();
      assert.deepEqual(rows.map((r) => r.email).sort(), ['a@example.org', 'b@example.org']);
      assert.equal((await post('c@example.org', '10.20.0.2')).statusCode, 202, 'another address has its own budget');
    } finally {
      await limited.close();
    }
  });
});

describe('the subscribe box and form', () => {
  test('every page has the box: a GET form to /subscribe, labelled', async () => {
    for (const url of ['/', '/search', '/login']) {
      const page = await t.app.inject(url);
      assert.match(page.body, /<form class="subscribe-box" method="get" action="\/subscribe">/, url);
      assert.match(page.body, /<label for="subscribe-email">Get trending papers in your email inbox!<\/label>/);
      assert.match(page.body, /<input id="subscribe-email" type="email" name="email"[^>]*>/);
      assert.match(page.body, /<button type="submit">Subscribe<\/button>/);
    }
  });

  test('/subscribe works without JavaScript: prefilled from the box, posted with its CSRF token, one answer for all', async () => {
    const page = await t.app.inject('/subscribe?email=form%40example.org&cadence=weekly');
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'private, no-store');
    assert.match(page.body, /<form method="post" action="\/subscribe"/);
    assert.match(page.body, /name="email" type="email" value="form@example.org"/);
    assert.match(page.body, /value="weekly" checked/);
    assert.match(page.body, /name="_csrf"/);
    assert.doesNotMatch(page.body, /<script/);

    const mark = await outboxMark();
    const res = await postForm('/subscribe', { email: 'form@example.org', cadence: 'weekly' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your inbox/);
    await mailSince(mark, 'form@example.org', 'subscribe');
    assert.equal((await subscriber('form@example.org')).cadence, 'weekly');
    const again = await postForm('/subscribe', { email: 'form@example.org', cadence: 'weekly' });
    assert.equal(again.statusCode, 200);
    assert.equal(again.body.replace(/name="_csrf" value="[^"]+"/g, ''), res.body.replace(/name="_csrf" value="[^"]+"/g, ''));

    const bad = await postForm('/subscribe', { email: 'form at example', cadence: 'daily' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /aria-invalid="true"/);
    assert.match(bad.body, /value="form at example"/);
    const noCsrf = await t.app.inject({ method: 'POST', url: '/subscribe', headers: formType, payload: 'email=x%40example.org' });
    assert.equal(noCsrf.statusCode, 403);
  });
});

describe('preferences and unsubscribing', () => {
  test('the preferences page saves valid choices and explains invalid ones, keeping what was typed', async () => {
    const linkToken = await confirmedSubscriber('prefs@example.org');
    const url = `/subscription/${linkToken}`;
    const page = await t.app.inject(url);
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['cache-control'], 'private, no-store');
    assert.match(page.body, /prefs@example\.org<\/strong> gets the digest/);
    assert.match(page.body, /name="paperCount" type="number" value="10"/);
    assert.doesNotMatch(page.body, /name="forYou"/, 'not an account\'s address');

    const saved = await postForm(url, { cadence: 'weekly', paperCount: '25', categories: 'cs.LG, hep-th math', keywords: 'diffusion, graph neural networks', mutedKeywords: 'survey' }, url);
    assert.equal(saved.statusCode, 303);
    assert.equal(saved.headers.location, `${url}?saved=1`);
    const row = await subscriber('prefs@example.org');
    assert.equal(row.cadence, 'weekly');
    assert.equal(row.paper_count, 25);
    assert.deepEqual(JSON.parse(row.categories), ['cs.LG', 'hep-th', 'math']);
    assert.deepEqual(JSON.parse(row.keywords), ['diffusion', 'graph neural networks']);
    assert.deepEqual(JSON.parse(row.muted_keywords), ['survey']);
    assert.match((await t.app.inject(`${url}?saved=1`)).body, /Saved\./);

    const invalid = await postForm(url, { cadence: 'weekly', paperCount: '0', categories: 'cs.LG, astro-xx', keywords: 'x'.repeat(61), mutedKeywords: 'review' }, url);
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.body, /Choose a whole number from 1 to 50\./);
    assert.match(invalid.body, /Unknown arXiv category or archive &quot;astro-xx&quot;/);
    assert.match(invalid.body, /A keyword has at most 60 characters/);
    assert.match(invalid.body, /name="categories" type="text" value="cs.LG, astro-xx"/, 'what was typed stays');
    assert.match(invalid.body, /name="mutedKeywords" type="text" value="review"/);
    assert.deepEqual(await subscriber('prefs@example.org'), row, 'nothing saved');

    const noCsrf = await t.app.inject({ method: 'POST', url, headers: formType, payload: 'paperCount=5' });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal((await t.app.inject('/subscription/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).statusCode, 404);

    const out = await postForm(`${url}/unsubscribe`, {}, url);
    assert.equal(out.statusCode, 200);
    assert.match(out.body, /You are unsubscribed/);
    assert.equal((await subscriber('prefs@example.org')).status, 'unsubscribed');
  });

  test('one-click unsubscribe: a POST without cookies or token answers 200 itself; a GET only shows the button', async () => {
    const linkToken = await confirmedSubscriber('oneclick@example.org');
    const url = `/unsubscribe/${linkToken}`;
    const before = await subscriber('oneclick@example.org');

    const page = await t.app.inject(url);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`<form method="post" action="${url}"`));
    assert.doesNotMatch(page.body, /_csrf/, 'the one-click POST needs no token, so neither does its page');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.deepEqual(await subscriber('oneclick@example.org'), before, 'the GET changes nothing');

    const res = await t.app.inject({ method: 'POST', url, headers: formType, payload: 'List-Unsubscribe=One-Click' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.location, undefined);
    assert.equal(res.headers['set-cookie'], undefined);
    const after = await subscriber('oneclick@example.org');
    assert.equal(after.status, 'unsubscribed');
    assert.ok(after.unsubscribed_at !== null);

    // Again, and as multipart (RFC 8058 prefers it): still 200, nothing new.
    const multipart = await t.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      payload: '--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--xyz--\r\n',
    });
    assert.equal(multipart.statusCode, 200);
    assert.equal((await subscriber('oneclick@example.org')).unsubscribed_at, after.unsubscribed_at);

    assert.equal((await t.app.inject({ method: 'POST', url: '/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', headers: formType, payload: 'List-Unsubscribe=One-Click' })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'POST', url: '/unsubscribe/short' })).statusCode, 404);
    assert.equal((await t.app.inject('/unsubscribe/short')).statusCode, 404);
  });
});

describe('signed in', () => {
  test('settings subscribe a verified address at once, linked to the account, and open its preferences', async () => {
    const ada = await account(t, 'digest_ada', 'Digest.Ada@example.org');
    const settings = await ada.inject({ url: '/settings' });
    assert.match(settings.body, /<h2 id="digest-h">Email digest<\/h2>/);
    assert.match(settings.body, /<form method="post" action="\/settings\/subscription"/);

    const mark = await outboxMark();
    const res = await ada.inject({ method: 'POST', url: '/settings/subscription', headers: formType, payload: 'cadence=weekly' });
    assert.equal(res.statusCode, 303);
    const row = await subscriber('digest.ada@example.org');
    assert.equal(row.status, 'confirmed');
    assert.equal(row.user_id, ada.id);
    assert.equal(row.cadence, 'weekly');
    await settle();
    assert.deepEqual(await mailsSince(mark, 'Digest.Ada@example.org'), [], 'no confirmation needed');

    const now = await ada.inject({ url: '/settings' });
    assert.match(now.body, /gets the digest weekly, up to 10 papers/);
    assert.ok(now.body.includes(`href="/subscription/${row.link_token}"`));
    const prefs = await t.app.inject(`/subscription/${row.link_token}`);
    assert.match(prefs.body, /<legend>For you<\/legend>/);
    assert.match(prefs.body, /<input type="checkbox" name="forYou" value="1" checked>/, 'on by default for an account');

    const noCsrf = await t.app.inject({ method: 'POST', url: '/settings/subscription', headers: { ...formType, cookie: ada.cookie }, payload: '' });
    assert.equal(noCsrf.statusCode, 403);
  });

  test('settings confirm a pending subscription, and say so when the address is suppressed', async () => {
    await subscribeApi({ email: 'pending_bo@example.org' });
    const bo = await account(t, 'pending_bo', 'pending_bo@example.org');
    assert.match((await bo.inject({ url: '/settings' })).body, /A confirmation link was emailed/);
    await bo.inject({ method: 'POST', url: '/settings/subscription', headers: formType, payload: '' });
    assert.equal((await subscriber('pending_bo@example.org')).status, 'confirmed');

    const cy = await account(t, 'bounced_cy', 'bounced_cy@example.org');
    await t.ctx.database.db.insertInto('suppressions').values({ email_key: 'bounced_cy@example.org', reason: 'hard-bounce', detail: '550 no such user', created_at: '2026-01-02T03:04:05.000Z' }).execute();
    await cy.inject({ method: 'POST', url: '/settings/subscription', headers: formType, payload: '' });
    assert.match((await cy.inject({ url: '/settings' })).body, /Paperboy sends no mail to <strong>bounced_cy@example.org<\/strong>: mail to it bounced \(2026-01-02\)/);
    assert.equal((await t.ctx.database.db.selectFrom('subscribers').select('id').where('email_key', '=', 'bounced_cy@example.org').execute()).length, 0);
  });

  test('an unconfirmed account address goes through double opt-in and is not linked', async () => {
    const unproven = await account(t, 'unproven', 'unproven@example.org', false);
    await subscribeApi({ email: 'unproven@example.org' });
    await t.ctx.database.db.updateTable('subscribers').set({ status: 'confirmed', confirm_sent_at: null }).where('email_key', '=', 'unproven@example.org').execute();
    const settings = await unproven.inject({ url: '/settings' });
    assert.doesNotMatch(settings.body, /gets the digest/, 'whether the address subscribes is not shown before it is proven');

    const mark = await outboxMark();
    const res = await unproven.inject({ method: 'POST', url: '/settings/subscription', headers: formType, payload: '' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your inbox/);
    await mailSince(mark, 'unproven@example.org', 'subscribe-existing');
    assert.equal((await subscriber('unproven@example.org')).user_id, null);
  });

  test('the export holds the subscription (not its link token); deleting the account unsubscribes, unlinks and forgets the interests', async () => {
    const dee = await account(t, 'deleting_dee', 'dee@example.org');
    await dee.inject({ method: 'POST', url: '/settings/subscription', headers: formType, payload: 'cadence=daily' });
    const row = await subscriber('dee@example.org');
    const url = `/subscription/${row.link_token}`;
    assert.equal((await postForm(url, { cadence: 'daily', paperCount: '5', categories: 'quant-ph', keywords: 'qubits', mutedKeywords: '' }, url)).statusCode, 303);

    const exported = await dee.inject({ url: '/settings/export.json' });
    const data = exported.json<{ subscriptions: { email: string; status: string; paperCount: number; categories: string[]; keywords: string[] }[] }>();
    assert.equal(data.subscriptions.length, 1);
    assert.deepEqual(
      { ...data.subscriptions[0], createdAt: undefined, confirmedAt: undefined },
      { email: 'dee@example.org', status: 'confirmed', cadence: 'daily', paperCount: 5, categories: ['quant-ph'], keywords: ['qubits'], mutedKeywords: [], createdAt: undefined, confirmedAt: undefined, unsubscribedAt: null },
    );
    assert.ok(!exported.body.includes(row.link_token), 'no link token in the export');

    const deleted = await dee.inject({ method: 'POST', url: '/settings/delete', headers: formType, payload: 'confirm=deleting_dee' });
    assert.equal(deleted.statusCode, 303);
    const after = await subscriber('dee@example.org');
    assert.equal(after.status, 'unsubscribed');
    assert.ok(after.unsubscribed_at !== null);
    assert.equal(after.user_id, null);
    assert.deepEqual([after.categories, after.keywords, after.muted_keywords], ['[]', '[]', '[]']);
    const old = await t.app.inject(`/unsubscribe/${row.link_token}`);
    assert.equal(old.statusCode, 200, 'links in old digests still answer');
    assert.match(old.body, /You are unsubscribed/);
  });
});
