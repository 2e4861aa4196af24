/**
 * Accounts and the instance under moderation, on both engines: the admin
 * pages by role; bans (sessions and tokens ended, sign-in refused with the
 * reason, comments kept) and unbans; suspensions (every write refused with the
 * end date and reason, reads, sign-out and export still work, and the
 * suspension ends by itself); role changes; who may act on whom; and the
 * instance settings changing what the site does (sign-up, submissions, the
 * wait before a new account comments).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { browserCsrf, signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const PAPER = '0704.0001';

let t: TestApp;
let moderator: TestUser;
let admin: TestUser;

before(async () => {
  t = await importedApp();
  [moderator, admin] = await Promise.all([signedInUser(t.ctx, t.app, { role: 'moderator' }), signedInUser(t.ctx, t.app, { role: 'admin' })]);
});
after(async () => t.close());

const user = (role: 'user' | 'curator' | 'moderator' | 'admin' = 'user'): Promise<TestUser> => signedInUser(t.ctx, t.app, { role });

async function postForm(u: TestUser, url: string, fields: Record<string, string>) {
  return u.inject({ method: 'POST', url, headers: FORM, payload: new URLSearchParams({ ...fields, _csrf: u.csrf }).toString() });
}

async function logIn(u: TestUser) {
  const { cookie, csrf } = await browserCsrf(t.app);
  return t.app.inject({
    method: 'POST',
    url: '/login',
    headers: { ...FORM, cookie },
    payload: new URLSearchParams({ login: u.viewer.username, password: `a long passphrase for ${u.viewer.username}`, next: '/', _csrf: csrf }).toString(),
  });
}

async function lastAction(): Promise<{ action: string; subject_id: string; reason: string } | undefined> {
  return t.ctx.database.db.selectFrom('moderation_log').select(['action', 'subject_id', 'reason']).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

describe('admin pages by role', () => {
  test('the dashboard is for staff; users, reports and settings for their roles; email addresses for admins only', async () => {
    const [plain, curator] = await Promise.all([user(), user('curator')]);
    assert.equal((await t.app.inject('/admin')).statusCode, 303);
    assert.equal((await plain.inject({ url: '/admin' })).statusCode, 403);
    const dash = await curator.inject({ url: '/admin' });
    assert.equal(dash.statusCode, 200);
    assert.match(dash.body, /Authorship claims<\/a>: \d+ pending/);
    assert.doesNotMatch(dash.body, /href="\/admin\/users"/);
    assert.match((await admin.inject({ url: '/admin' })).body, /href="\/admin\/settings"/);
    assert.equal((await curator.inject({ url: '/admin/users' })).statusCode, 403);

    const forModerator = await moderator.inject({ url: `/admin/users?q=${plain.viewer.username}` });
    assert.equal(forModerator.statusCode, 200);
    assert.match(forModerator.body, new RegExp(`>${plain.viewer.username}</a>`));
    assert.ok(!forModerator.body.includes(`${plain.viewer.username}@example.org`), 'moderators do not see addresses');
    const byEmail = await moderator.inject({ url: `/admin/users?q=${encodeURIComponent(`${plain.viewer.username}@example`)}` });
    assert.match(byEmail.body, /No accounts match/, 'moderators cannot search by address');
    const forAdmin = await admin.inject({ url: `/admin/users?q=${encodeURIComponent(`${plain.viewer.username}@example`)}` });
    assert.ok(forAdmin.body.includes(`${plain.viewer.username}@example.org`));

    const detail = await moderator.inject({ url: `/admin/users/${plain.viewer.id}` });
    assert.equal(detail.statusCode, 200);
    assert.match(detail.body, /Ban /);
    assert.doesNotMatch(detail.body, /Change role/);
    assert.equal((await moderator.inject({ url: '/admin/users/999999' })).statusCode, 404);
    assert.equal((await moderator.inject({ url: '/admin/settings' })).statusCode, 403);
    assert.equal((await admin.inject({ url: '/admin/settings' })).statusCode, 200);
  });
});

describe('bans', () => {
  test('a ban ends sessions and tokens, refuses sign-in with the reason, keeps comments; unban lets them back', async () => {
    const target = await user();
    const token = await target.token('write');
    const posted = await target.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'Still here after the ban.' } });
    assert.equal(posted.statusCode, 201);

    const noReason = await postForm(moderator, `/admin/users/${target.viewer.id}/ban`, { reason: '' });
    assert.equal(noReason.statusCode, 400);
    const res = await postForm(moderator, `/admin/users/${target.viewer.id}/ban`, { reason: 'repeated abuse' });
    assert.equal(res.statusCode, 303, res.body);
    assert.deepEqual(await lastAction(), { action: 'ban_user', subject_id: String(target.viewer.id), reason: 'repeated abuse' });

    assert.equal((await target.inject({ url: '/settings' })).statusCode, 303, 'the session is gone');
    const api = await t.app.inject({ url: '/api/papers/0704.0001/comments', method: 'POST', headers: { authorization: `Bearer ${token}` }, payload: { body: 'x' } });
    assert.equal(api.statusCode, 401, 'the token is gone');
    const login = await logIn(target);
    assert.equal(login.statusCode, 403);
    assert.match(login.body, /banned by the moderators\. Reason: repeated abuse/);
    assert.ok(!String(login.headers['set-cookie'] ?? '').includes('paperboy_session='), 'no session cookie');
    const thread = await t.app.inject(`/api/papers/${PAPER}/comments`);
    assert.ok(thread.body.includes('Still here after the ban.'), 'comments stay');
    assert.equal((await postForm(moderator, `/admin/users/${target.viewer.id}/ban`, { reason: 'again' })).statusCode, 409);

    const unban = await postForm(moderator, `/admin/users/${target.viewer.id}/unban`, { reason: 'appeal' });
    assert.equal(unban.statusCode, 303);
    assert.equal((await lastAction())?.action, 'unban_user');
    assert.equal((await logIn(target)).statusCode, 303);
  });

  test('staff cannot act on themselves or on an equal or higher role; users cannot act at all', async () => {
    const [other, plain] = await Promise.all([user('moderator'), user()]);
    const count = (await t.ctx.database.db.selectFrom('moderation_log').select('id').execute()).length;
    for (const [actor, target] of [
      [moderator, moderator],
      [moderator, other],
      [moderator, admin],
      [admin, admin],
    ] as const) {
      const res = await postForm(actor, `/admin/users/${target.viewer.id}/ban`, { reason: 'x' });
      assert.equal(res.statusCode, 403, `${actor.viewer.role} on ${target.viewer.role}`);
      assert.match(res.body, /cannot/);
    }
    assert.equal((await postForm(plain, `/admin/users/${moderator.viewer.id}/ban`, { reason: 'x' })).statusCode, 403);
    assert.equal((await postForm(moderator, `/admin/users/${plain.viewer.id}/role`, { role: 'admin', reason: 'x' })).statusCode, 403);
    assert.equal((await t.ctx.database.db.selectFrom('moderation_log').select('id').execute()).length, count);
    const stillModerator = await t.ctx.database.db.selectFrom('users').select('banned_at').where('id', '=', other.viewer.id).executeTakeFirstOrThrow();
    assert.equal(stillModerator.banned_at, null);
  });

  test('admins change roles (logged); a new curator gets the dashboard', async () => {
    const target = await user();
    const bad = await postForm(admin, `/admin/users/${target.viewer.id}/role`, { role: 'emperor', reason: 'x' });
    assert.equal(bad.statusCode, 400);
    const res = await postForm(admin, `/admin/users/${target.viewer.id}/role`, { role: 'curator', reason: 'trusted reader' });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal((await lastAction())?.action, 'set_role');
    assert.equal((await target.inject({ url: '/admin' })).statusCode, 200);
    assert.equal((await postForm(admin, `/admin/users/${target.viewer.id}/role`, { role: 'curator', reason: 'x' })).statusCode, 409);
  });
});

describe('suspensions', () => {
  test('a suspended account reads but every write is refused with the end and reason; sign-out and export work; it ends by itself', async () => {
    const target = await user();
    const token = await target.token('write');
    for (const days of ['0', '366', 'seven']) {
      assert.equal((await postForm(moderator, `/admin/users/${target.viewer.id}/suspend`, { days, reason: 'x' })).statusCode, 400, days);
    }
    const res = await postForm(moderator, `/admin/users/${target.viewer.id}/suspend`, { days: '3', reason: 'cool down' });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal((await lastAction())?.action, 'suspend_user');
    const { suspended_until } = await t.ctx.database.db.selectFrom('users').select('suspended_until').where('id', '=', target.viewer.id).executeTakeFirstOrThrow();
    assert.ok(suspended_until !== null);
    const until = suspended_until.slice(0, 16).replace('T', ' ');

    const writes = [
      () => target.inject({ method: 'POST', url: `/api/papers/${PAPER}/upvote` }),
      () => target.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'hello' } }),
      () => postForm(target, `/papers/${PAPER}/comments`, { body: 'hello' }),
      () => postForm(target, `/papers/${PAPER}/upvote`, {}),
      () => target.inject({ method: 'POST', url: '/api/papers/submit', payload: { id: PAPER } }),
      () => postForm(target, '/papers/submit', { id: PAPER }),
      () => t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/upvote`, headers: { authorization: `Bearer ${token}` } }),
    ];
    for (const write of writes) {
      const refused = await write();
      assert.equal(refused.statusCode, 403, refused.body);
      assert.ok(refused.body.includes(until) && refused.body.includes('cool down'), refused.body);
    }
    const upvotes = await t.ctx.database.db.selectFrom('upvotes').select('paper_id').where('user_id', '=', target.viewer.id).execute();
    assert.equal(upvotes.length, 0);

    assert.equal((await target.inject({ url: `/papers/${PAPER}` })).statusCode, 200);
    assert.equal((await target.inject({ url: '/settings/export.json' })).statusCode, 200);

    await t.ctx.database.db.updateTable('users').set({ suspended_until: new Date(Date.now() - 1000).toISOString() }).where('id', '=', target.viewer.id).execute();
    const after = await target.inject({ method: 'POST', url: `/api/papers/${PAPER}/upvote` });
    assert.equal(after.statusCode, 200, after.body);
    assert.equal((await postForm(moderator, `/admin/users/${target.viewer.id}/unsuspend`, { reason: 'x' })).statusCode, 409, 'ended by itself');

    assert.equal((await postForm(moderator, `/admin/users/${target.viewer.id}/suspend`, { days: '1', reason: 'again' })).statusCode, 303);
    assert.equal((await postForm(moderator, `/admin/users/${target.viewer.id}/unsuspend`, { reason: 'lifted early' })).statusCode, 303);
    assert.equal((await lastAction())?.action, 'unsuspend_user');
    const logout = await postForm(target, '/logout', {});
    assert.equal(logout.statusCode, 303);
  });
});

describe('instance settings', () => {
  test('closed registrations refuse sign-up; closed submissions refuse submitting; new accounts wait to comment; every change logged', async () => {
    const forbidden = await postForm(moderator, '/admin/settings', { registrations: 'closed' });
    assert.equal(forbidden.statusCode, 403);
    const invalid = await postForm(admin, '/admin/settings', { comment_min_account_age_hours: '999' });
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.body, /at most 720/);
    assert.match(invalid.body, /value="999"/, 'what was typed is shown again');
    const wrong = await postForm(admin, '/admin/settings', { registrations: 'maybe' });
    assert.equal(wrong.statusCode, 400);

    const res = await postForm(admin, '/admin/settings', { registrations: 'closed', submissions: 'closed', comment_min_account_age_hours: '24', reason: 'spam wave' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /Saved: registrations, submissions, comment_min_account_age_hours/);
    const logged = await t.ctx.database.db.selectFrom('moderation_log').select(['subject_id', 'reason']).where('action', '=', 'change_setting').execute();
    assert.deepEqual(logged.map((l) => l.subject_id).sort(), ['comment_min_account_age_hours', 'registrations', 'submissions']);

    assert.match((await t.app.inject('/signup')).body, /Sign-up is closed/);
    const { cookie, csrf } = await browserCsrf(t.app);
    const signup = await t.app.inject({
      method: 'POST',
      url: '/signup',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ email: 'new@example.org', username: 'newcomer', password: 'a long passphrase here', _csrf: csrf }).toString(),
    });
    assert.equal(signup.statusCode, 403);
    assert.equal(await t.ctx.database.db.selectFrom('users').select('id').where('username', '=', 'newcomer').executeTakeFirst(), undefined);

    const fresh = await user();
    const submit = await fresh.inject({ method: 'POST', url: '/api/papers/submit', payload: { id: PAPER } });
    assert.equal(submit.statusCode, 403);
    assert.match(submit.body, /Submissions are closed/);
    const comment = await fresh.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'first!' } });
    assert.equal(comment.statusCode, 403);
    assert.match(comment.body, /24 hours after sign-up/);
    await t.ctx.database.db.updateTable('users').set({ created_at: new Date(Date.now() - 25 * 3_600_000).toISOString() }).where('id', '=', fresh.viewer.id).execute();
    assert.equal((await fresh.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'a day later' } })).statusCode, 201);

    const unchanged = await postForm(admin, '/admin/settings', { registrations: 'closed' });
    assert.match(unchanged.body, /Nothing changed/);
    const reopen = await postForm(admin, '/admin/settings', { registrations: 'open', submissions: 'open', comment_min_account_age_hours: '0' });
    assert.equal(reopen.statusCode, 200);
    assert.doesNotMatch((await t.app.inject('/signup')).body, /Sign-up is closed/);
  });
});
