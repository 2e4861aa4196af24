/**
 * Account settings through HTTP, on both engines: sessions and API tokens
 * (each person reaches only their own), the email change, the export and
 * deleting an account.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { signedInUser, type TestUser } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';

let t: TestApp;
let ada: TestUser;
let bob: TestUser;

before(async () => {
  t = await emptyApp({ RATE_LIMIT_AUTH: '1000' });
  ada = await signedInUser(t.ctx, t.app, { username: 'ada' });
  bob = await signedInUser(t.ctx, t.app, { username: 'bob' });
});
after(async () => t.close());

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

test('settings need a signed-in browser', async () => {
  const anonymous = await t.app.inject('/settings');
  assert.equal(anonymous.statusCode, 303);
  assert.equal(anonymous.headers.location, '/login?next=%2Fsettings');
  const page = await ada.inject({ url: '/settings' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Signed in as <strong>ada<\/strong>/);
  assert.equal(page.headers['cache-control'], 'private, no-store');
  // A write token may not manage the account.
  const token = await ada.token('write');
  const viaToken = await t.app.inject({ method: 'POST', url: '/settings/tokens', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=x&scope=write' });
  assert.equal(viaToken.statusCode, 403);
  // Nor may a form without its CSRF token.
  const noCsrf = await t.app.inject({ method: 'POST', url: '/settings/tokens', headers: { cookie: ada.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=x&scope=write' });
  assert.equal(noCsrf.statusCode, 403);
});

test('an API token is shown once, works as a bearer token, and only its owner can revoke it', async () => {
  const created = await ada.inject({ method: 'POST', url: '/settings/tokens', ...form({ name: 'notebook', scope: 'read' }) });
  assert.equal(created.statusCode, 201);
  const token = /<code class="token" id="new-token">([^<]+)<\/code>/.exec(created.body)?.[1] ?? '';
  assert.match(token, /^pb_[A-Za-z0-9_-]{43}$/);
  assert.equal((await t.app.inject({ url: '/api/papers/search?q=x', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
  const stored = await t.ctx.database.db.selectFrom('api_tokens').selectAll().where('name', '=', 'notebook').executeTakeFirstOrThrow();
  assert.notEqual(stored.token_hash, token, 'hashed at rest');
  assert.ok(!(await ada.inject({ url: '/settings' })).body.includes(token), 'never shown again');

  // Bob cannot revoke Ada's token (no such token of his), and it keeps working.
  const idor = await bob.inject({ method: 'POST', url: `/settings/tokens/${stored.id}/revoke`, ...form({}) });
  assert.equal(idor.statusCode, 404);
  assert.equal((await t.app.inject({ url: '/api/papers/search?q=x', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);

  const revoked = await ada.inject({ method: 'POST', url: `/settings/tokens/${stored.id}/revoke`, ...form({}) });
  assert.equal(revoked.statusCode, 303);
  const after = await t.app.inject({ url: '/api/papers/search?q=x', headers: { authorization: `Bearer ${token}` } });
  assert.equal(after.statusCode, 401);
  assert.deepEqual(Object.keys(after.json()), ['error', 'message']);
  assert.equal((await t.app.inject({ url: '/api/papers/search?q=x', headers: { authorization: 'Bearer not-a-token' } })).statusCode, 401);
});

test('token form problems are explained', async () => {
  const res = await ada.inject({ method: 'POST', url: '/settings/tokens', ...form({ name: '', scope: 'read' }) });
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /Name the token/);
  const scope = await ada.inject({ method: 'POST', url: '/settings/tokens', ...form({ name: 'x', scope: 'admin' }) });
  assert.equal(scope.statusCode, 400);
});

test('sessions: listed, one ended, all others ended; nobody ends another person\'s', async () => {
  const second = await signedInUser(t.ctx, t.app, { username: 'carol' });
  // A second browser of carol's.
  const login = await t.ctx.database.db.selectFrom('sessions').select(['id']).where('user_id', '=', second.viewer.id).execute();
  assert.equal(login.length, 1);
  const { startSession } = await import('../src/accounts/sessions.js');
  const other = await startSession(t.ctx.database, t.ctx.config, second.viewer.id, { userAgent: 'Other browser' });
  const otherId = (await t.ctx.database.db.selectFrom('sessions').select('id').where('user_id', '=', second.viewer.id).orderBy('id', 'desc').executeTakeFirstOrThrow()).id;

  const page = await second.inject({ url: '/settings' });
  assert.match(page.body, /Other browser/);
  assert.match(page.body, /this browser/);

  assert.equal((await ada.inject({ method: 'POST', url: `/settings/sessions/${otherId}/revoke`, ...form({}) })).statusCode, 404, 'not Ada\'s');
  const signedIn = async (token: string) => (await t.app.inject({ url: '/papers', headers: { cookie: `paperboy_session=${token}` } })).body.includes('href="/u/carol"');
  assert.equal(await signedIn(other), true);
  assert.equal((await second.inject({ method: 'POST', url: `/settings/sessions/${otherId}/revoke`, ...form({}) })).statusCode, 303);
  assert.equal(await signedIn(other), false);

  const third = await startSession(t.ctx.database, t.ctx.config, second.viewer.id, { userAgent: 'Third' });
  const res = await second.inject({ method: 'POST', url: '/settings/sessions/revoke-others', ...form({}) });
  assert.match(res.body, /Signed out of 1 other session/);
  assert.equal(await signedIn(third), false);
  assert.equal((await second.inject({ url: '/settings' })).statusCode, 200, 'this browser stays signed in');
});

test('idle and absolute timeouts end a session', async () => {
  const dave = await signedInUser(t.ctx, t.app, { username: 'dave' });
  const { db } = t.ctx.database;
  await db.updateTable('sessions').set({ last_seen_at: Date.now() - t.ctx.config.sessions.idleMs - 1 }).where('user_id', '=', dave.viewer.id).execute();
  assert.equal((await dave.inject({ url: '/settings' })).statusCode, 303, 'idle too long');
  const erin = await signedInUser(t.ctx, t.app, { username: 'erin' });
  await db.updateTable('sessions').set({ expires_at: Date.now() - 1 }).where('user_id', '=', erin.viewer.id).execute();
  assert.equal((await erin.inject({ url: '/settings' })).statusCode, 303, 'past the absolute end');
});

test('an email change needs the password and is confirmed from the new address', async () => {
  const wrong = await ada.inject({ method: 'POST', url: '/settings/email', ...form({ email: 'ada@new.example', password: 'wrong' }) });
  assert.equal(wrong.statusCode, 403);
  const taken = await ada.inject({ method: 'POST', url: '/settings/email', ...form({ email: 'not an email', password: 'a long passphrase for ada' }) });
  assert.equal(taken.statusCode, 400);
  const res = await ada.inject({ method: 'POST', url: '/settings/email', ...form({ email: 'ada@new.example', password: 'a long passphrase for ada' }) });
  assert.equal(res.statusCode, 200);
  let mail: { text_body: string } | undefined;
  for (let i = 0; i < 100 && mail === undefined; i += 1) {
    mail = await t.ctx.database.db.selectFrom('outbox').select('text_body').where('recipient', '=', 'ada@new.example').executeTakeFirst();
    if (mail === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.text_body ?? '')?.[1] ?? '';
  assert.ok(token);
  const notice = await t.ctx.database.db.selectFrom('outbox').select('kind').where('recipient', '=', 'ada@example.org').where('kind', '=', 'email-change-notice').executeTakeFirst();
  assert.ok(notice, 'the old address is told');
  assert.equal((await t.ctx.database.db.selectFrom('users').select('email').where('id', '=', ada.viewer.id).executeTakeFirstOrThrow()).email, 'ada@example.org', 'unchanged until confirmed');
  const confirmed = await ada.inject({ method: 'POST', url: '/settings/email/confirm', ...form({ token, _csrf: ada.csrf }) });
  assert.equal(confirmed.statusCode, 303);
  assert.equal((await t.ctx.database.db.selectFrom('users').select('email').where('id', '=', ada.viewer.id).executeTakeFirstOrThrow()).email, 'ada@new.example');
});

test('the export holds the account, and deleting it signs out and removes it', async () => {
  const frank = await signedInUser(t.ctx, t.app, { username: 'frank' });
  await frank.token('read');
  const exported = await frank.inject({ url: '/settings/export.json' });
  assert.equal(exported.statusCode, 200);
  assert.match(exported.headers['content-disposition'] ?? '', /paperboy-frank\.json/);
  const data = exported.json();
  assert.equal(data.account.username, 'frank');
  assert.equal(data.apiTokens.length, 1);
  assert.ok(!JSON.stringify(data).includes('token_hash') && !JSON.stringify(data).includes('password'), 'no secrets in the export');
  assert.equal((await t.app.inject('/settings/export.json')).statusCode, 303, 'signed out: to the log-in page');

  const refused = await frank.inject({ method: 'POST', url: '/settings/delete', ...form({ password: 'wrong' }) });
  assert.equal(refused.statusCode, 403);
  const deleted = await frank.inject({ method: 'POST', url: '/settings/delete', ...form({ password: 'a long passphrase for frank' }) });
  assert.equal(deleted.statusCode, 303);
  const rows = await t.ctx.database.db.selectFrom('users').select('id').where('username', '=', 'frank').execute();
  assert.equal(rows.length, 0);
  const sessions = await t.ctx.database.db.selectFrom('sessions').select('id').where('user_id', '=', frank.viewer.id).execute();
  assert.equal(sessions.length, 0);
  assert.equal((await frank.inject({ url: '/settings' })).statusCode, 303);
});

test('the export holds what the person made: collections, follows, muted keywords and saved searches, without their secrets', async () => {
  const gail = await signedInUser(t.ctx, t.app, { username: 'gail' });
  const token = await gail.token('write');
  const post = async (url: string, body: unknown): Promise<void> => {
    const res = await t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: body as object });
    assert.ok(res.statusCode === 200 || res.statusCode === 201, `${url}: ${res.statusCode} ${res.body}`);
  };
  await post('/api/collections', { name: 'Reading group', description: 'Tuesdays', public: true });
  await post('/api/follows', { kind: 'category', target: 'cs.LG' });
  await post('/api/muted-keywords', { keyword: 'survey' });
  await post('/api/saved-searches', { name: 'Diffusion', query: 'diffusion models', webhookUrl: 'https://hooks.example.org/services/T000/B000/secretpart' });
  const data = (await gail.inject({ url: '/settings/export.json' })).json();
  assert.deepEqual(
    data.collections.map((c: { name: string; public: boolean; papers: unknown[] }) => [c.name, c.public, c.papers.length]),
    [['Reading group', true, 0]],
  );
  assert.deepEqual(data.follows.map((f: { kind: string; target: string }) => [f.kind, f.target]), [['category', 'cs.LG']]);
  assert.deepEqual(data.mutedKeywords.map((m: { keyword: string }) => m.keyword), ['survey']);
  assert.deepEqual(data.notInterested, []);
  assert.deepEqual(data.claims, []);
  assert.equal(data.savedSearches.length, 1);
  assert.equal(data.savedSearches[0].query, 'diffusion models');
  assert.equal(data.savedSearches[0].webhook, true);
  const text = JSON.stringify(data);
  const stored = await t.ctx.database.db.selectFrom('saved_searches').select(['feed_token', 'alert_token']).executeTakeFirstOrThrow();
  for (const secret of ['secretpart', stored.feed_token, stored.alert_token]) assert.ok(!text.includes(secret), 'no feed, alert or webhook secret');
});

test('admins read the outbox; nobody else does', async () => {
  const admin = await signedInUser(t.ctx, t.app, { username: 'root_admin', role: 'admin' });
  const res = await admin.inject({ url: '/admin/outbox' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Confirm your new email address for Paperboy/);
  assert.match(res.body, /SMTP_URL is not set/);
  assert.equal((await bob.inject({ url: '/admin/outbox' })).statusCode, 403);
  assert.equal((await t.app.inject('/admin/outbox')).statusCode, 303);
});

test('a public profile shows the person and their public activity, never their email', async () => {
  const page = await t.app.inject('/u/BOB');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<h1>bob<\/h1>/);
  assert.ok(!page.body.includes('bob@example.org'));
  assert.equal((await t.app.inject('/u/nobody-here')).statusCode, 404);
  assert.equal((await t.app.inject('/u/%3Cscript%3E')).statusCode, 404);
});
