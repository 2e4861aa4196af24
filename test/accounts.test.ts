/**
 * Accounts through HTTP, on both engines: sign-up and its confirmation email,
 * signing in by password and by emailed link, password reset, signing out;
 * none of them tells whether an address has an account.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { browserCsrf } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';

let t: TestApp;
let clients = 0;

before(async () => {
  t = await emptyApp({ RATE_LIMIT_AUTH: '1000' });
});
after(async () => t.close());

/** A browser: its cookies, kept across requests. */
class Browser {
  private jar = new Map<string, string>();
  // Each browser its own address, so the sign-in rate limit bites only where a test wants it.
  readonly ip = `10.1.${Math.floor(++clients / 250)}.${(clients % 250) + 1}`;

  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair = '', ...attrs] = c.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value === '' || attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.keep(await t.app.inject({ url, remoteAddress: this.ip, headers: { cookie: this.cookie() } }));
  }

  /** Posts the form of the page at `from` (its CSRF token) with `fields`. */
  async post(url: string, fields: Record<string, string>, from = '/login'): Promise<LightMyRequestResponse> {
    const page = await this.get(from);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return this.keep(
      await t.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.ip,
        headers: { cookie: this.cookie(), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      }),
    );
  }

  async signedInAs(): Promise<string | null> {
    const page = await this.get('/papers');
    return /<a href="\/u\/([^"]+)">/.exec(page.body)?.[1] ?? null;
  }
}

/** The newest outbox id: mail sent after an action has a larger one. */
async function outboxMark(): Promise<number> {
  const row = await t.ctx.database.db.selectFrom('outbox').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** The first mail of `kind` to `to` after `mark` (mail is stored in the background: wait for it). */
async function mailSince(mark: number, to: string, kind: string): Promise<{ subject: string; text: string }> {
  for (let i = 0; i < 100; i += 1) {
    const row = await t.ctx.database.db
      .selectFrom('outbox')
      .select(['subject', 'text_body'])
      .where('recipient', '=', to)
      .where('kind', '=', kind)
      .where('id', '>', mark)
      .orderBy('id')
      .executeTakeFirst();
    if (row) return { subject: row.subject, text: row.text_body };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${kind} mail to ${to}`);
}

async function mailCount(to: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 100));
  const rows = await t.ctx.database.db.selectFrom('outbox').select('id').where('recipient', '=', to).execute();
  return rows.length;
}

const linkIn = (text: string, path: string): string => {
  const match = new RegExp(`https?://[^/\\s]+(${path.replace(/\//g, '\\/')}\\?token=[A-Za-z0-9_%-]+)`).exec(text);
  assert.ok(match?.[1], `a ${path} link in: ${text}`);
  return decodeURIComponent(match[1]);
};

const tokenOf = (path: string): string => new URL(path, 'http://x').searchParams.get('token') ?? '';

describe('sign-up', () => {
  test('sign up, confirm from the email (a button, not the GET), and be signed in', async () => {
    const b = new Browser();
    const mark = await outboxMark();
    const res = await b.post('/signup', { email: 'Ada@Example.org', username: 'ada', password: 'analytical engine notes' }, '/signup');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your email/);
    assert.equal(await b.signedInAs(), null, 'not signed in before confirming');

    const mail = await mailSince(mark, 'Ada@Example.org', 'verify');
    const link = linkIn(mail.text, '/verify');
    const landing = await b.get(link);
    assert.equal(landing.statusCode, 200);
    assert.match(landing.body, /Confirm and sign in/);
    assert.equal(await b.signedInAs(), null, 'opening the link changes nothing');

    const confirmed = await b.post('/verify', { token: tokenOf(link) }, link);
    assert.equal(confirmed.statusCode, 303);
    assert.equal(await b.signedInAs(), 'ada');
    const user = await t.ctx.database.db.selectFrom('users').selectAll().where('username', '=', 'ada').executeTakeFirstOrThrow();
    assert.ok(user.email_verified_at !== null);
    assert.equal(user.email_key, 'ada@example.org');
    assert.match(user.password_hash ?? '', /^scrypt\$/);

    // The link works once.
    const again = await new Browser().post('/verify', { token: tokenOf(link) });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /expired or was already used/);
  });

  test('a known address gets the same answer, and its owner an email instead of a new account', async () => {
    const b = new Browser();
    const mark = await outboxMark();
    const res = await b.post('/signup', { email: 'ada@example.org', username: 'someone_else', password: 'another long passphrase' }, '/signup');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Check your email/);
    await mailSince(mark, 'ada@example.org', 'signup-existing');
    const users = await t.ctx.database.db.selectFrom('users').select('id').where('username_key', '=', 'someone_else').execute();
    assert.equal(users.length, 0);
  });

  test('form problems are shown next to their field, and nothing is stored', async () => {
    const b = new Browser();
    const cases: [Record<string, string>, RegExp][] = [
      [{ email: 'not-an-address', username: 'bob', password: 'long enough pass' }, /Enter an email address/],
      [{ email: 'bob@example.org', username: 'b', password: 'long enough pass' }, /3 to 30 letters/],
      [{ email: 'bob@example.org', username: 'bob<script>', password: 'long enough pass' }, /3 to 30 letters/],
      [{ email: 'bob@example.org', username: 'admin', password: 'long enough pass' }, /reserved/],
      [{ email: 'bob@example.org', username: 'bob', password: 'short' }, /at least 8/],
      [{ email: 'bob@example.org', username: 'bob', password: 'password123' }, /most common/],
      [{ email: 'bob@example.org', username: 'ADA', password: 'long enough pass' }, /username is taken/],
    ];
    for (const [fields, problem] of cases) {
      const res = await b.post('/signup', fields, '/signup');
      assert.equal(res.statusCode, 400, JSON.stringify(fields));
      assert.match(res.body, problem);
      assert.match(res.body, /aria-invalid="true"/);
      assert.ok(!res.body.includes('<script>'), 'escaped');
    }
    assert.equal(await mailCount('bob@example.org'), 0);
  });

  test('without its CSRF token a sign-up is refused', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/signup',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=eve%40example.org&username=eve&password=long+enough+pass',
    });
    assert.equal(res.statusCode, 403);
  });
});

describe('signing in and out', () => {
  before(async () => {
    const b = new Browser();
    const mark = await outboxMark();
    await b.post('/signup', { email: 'grace@example.org', username: 'grace', password: 'cobol compilers rule' }, '/signup');
    const link = linkIn((await mailSince(mark, 'grace@example.org', 'verify')).text, '/verify');
    await b.post('/verify', { token: tokenOf(link) }, link);
  });

  test('by password, with email or username, to the page asked for; a new session each time', async () => {
    for (const login of ['grace@example.org', 'GRACE']) {
      const b = new Browser();
      const res = await b.post('/login', { login, password: 'cobol compilers rule', next: '/papers/trending' });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/papers/trending');
      assert.equal(await b.signedInAs(), 'grace');
    }
    const sessions = await t.ctx.database.db.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id').select('token_hash').where('username', '=', 'grace').execute();
    assert.ok(sessions.length >= 3, 'the confirmation and each sign-in made its own session');
  });

  test('next never leads off the site', async () => {
    for (const next of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await new Browser().post('/login', { login: 'grace', password: 'cobol compilers rule', next });
      assert.equal(res.headers.location, '/', next);
    }
  });

  test('a wrong password and an unknown account get the same answer', async () => {
    const wrong = await new Browser().post('/login', { login: 'grace', password: 'not the password' });
    const unknown = await new Browser().post('/login', { login: 'nobody@example.org', password: 'not the password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    const message = (r: LightMyRequestResponse) => /<div class="notice error"[^>]*>([\s\S]*?)<\/div>/.exec(r.body)?.[1];
    assert.equal(message(wrong), message(unknown));
  });

  test('log out ends the session on the server, not just the cookie', async () => {
    const b = new Browser();
    await b.post('/login', { login: 'grace', password: 'cobol compilers rule' });
    const stolen = b.cookie();
    const out = await b.post('/logout', {}, '/papers');
    assert.equal(out.statusCode, 303);
    assert.equal(await b.signedInAs(), null);
    const replay = await t.app.inject({ url: '/papers', headers: { cookie: stolen } });
    assert.ok(!replay.body.includes('href="/u/grace"'), 'the old cookie signs nobody in');
  });

  test('an emailed link signs in once, within 15 minutes; unknown addresses get the same answer', async () => {
    const b = new Browser();
    const mark = await outboxMark();
    const sent = await b.post('/login/link/send', { 'link-email': 'grace@example.org' });
    const notSent = await b.post('/login/link/send', { 'link-email': 'nobody@example.org' });
    assert.equal(sent.statusCode, 200);
    assert.equal(notSent.statusCode, 200);
    assert.equal(sent.body.replace(/grace@example\.org/g, 'X').replace(/value="[^"]+"/g, ''), notSent.body.replace(/nobody@example\.org/g, 'X').replace(/value="[^"]+"/g, ''));
    assert.equal(await mailCount('nobody@example.org'), 0);

    const link = linkIn((await mailSince(mark, 'grace@example.org', 'login')).text, '/login/link');
    const res = await b.post('/login/link', { token: tokenOf(link) }, link);
    assert.equal(res.statusCode, 303);
    assert.equal(await b.signedInAs(), 'grace');
    assert.equal((await new Browser().post('/login/link', { token: tokenOf(link) })).statusCode, 400, 'single use');

    // An expired link does nothing.
    const lateMark = await outboxMark();
    await new Browser().post('/login/link/send', { 'link-email': 'grace@example.org' });
    const late = linkIn((await mailSince(lateMark, 'grace@example.org', 'login')).text, '/login/link');
    await t.ctx.database.db.updateTable('email_tokens').set({ expires_at: Date.now() - 1 }).where('purpose', '=', 'login').where('used_at', 'is', null).execute();
    assert.equal((await new Browser().post('/login/link', { token: tokenOf(late) })).statusCode, 400);
  });

  test('a password reset sets the new password and signs out every other session', async () => {
    const other = new Browser();
    await other.post('/login', { login: 'grace', password: 'cobol compilers rule' });
    assert.equal(await other.signedInAs(), 'grace');

    const b = new Browser();
    const mark = await outboxMark();
    assert.equal((await b.post('/reset', { email: 'grace@example.org' }, '/reset')).statusCode, 200);
    const link = linkIn((await mailSince(mark, 'grace@example.org', 'reset')).text, '/reset/confirm');
    const weak = await b.post('/reset/confirm', { token: tokenOf(link), password: 'password1' }, link);
    assert.equal(weak.statusCode, 400, 'a common password is refused, and the link still works');
    const res = await b.post('/reset/confirm', { token: tokenOf(link), password: 'nanoseconds of wire' }, link);
    assert.equal(res.statusCode, 303);
    assert.equal(await b.signedInAs(), 'grace');
    assert.equal(await other.signedInAs(), null, 'signed out elsewhere');

    assert.equal((await new Browser().post('/login', { login: 'grace', password: 'cobol compilers rule' })).statusCode, 401);
    assert.equal((await new Browser().post('/login', { login: 'grace', password: 'nanoseconds of wire' })).statusCode, 303);
  });
});

test('sign-in forms share a rate limit per address', async () => {
  const limited = await emptyApp({ RATE_LIMIT_AUTH: '3' });
  try {
    const { cookie, csrf } = await browserCsrf(limited.app);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await limited.app.inject({
        method: 'POST',
        url: i % 2 === 0 ? '/login' : '/reset',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, login: 'x', password: 'y', email: 'x@example.org' }).toString(),
      });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses.slice(0, 3).map((s) => s !== 429), [true, true, true]);
    assert.equal(statuses[3], 429);
  } finally {
    await limited.close();
  }
});
