/**
 * Mail over real SMTP: an in-process SMTP server (smtp-server) receives what
 * the app sends, parsed with mailparser; a server that cannot be reached
 * leaves the message in the outbox with its error, and the request succeeds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { browserCsrf } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';

const received: ParsedMail[] = [];
let smtp: SMTPServer;
let port = 0;

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  port = (smtp.server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

async function signUp(t: TestApp, email: string, username: string) {
  const { cookie, csrf } = await browserCsrf(t.app, '/signup');
  return t.app.inject({
    method: 'POST',
    url: '/signup',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, email, username, password: 'a passphrase for mail' }).toString(),
  });
}

async function until<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out');
}

test('a sign-up confirmation travels over SMTP, from MAIL_FROM, with a working link', async () => {
  const t = await emptyApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Paperboy <news@paperboy.test>', BASE_URL: 'https://paperboy.test' });
  try {
    assert.equal((await signUp(t, 'lin@example.org', 'lin')).statusCode, 200);
    const mail = await until(() => received.find((m) => m.subject === 'Confirm your email address for Paperboy'));
    assert.equal(mail.from?.value[0]?.address, 'news@paperboy.test');
    assert.equal(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : undefined, 'lin@example.org');
    const link = /https:\/\/paperboy\.test(\/verify\?token=[A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1];
    assert.ok(link, mail.text);
    const row = await until(async () => (await t.ctx.database.db.selectFrom('outbox').selectAll().where('recipient', '=', 'lin@example.org').executeTakeFirst()) ?? undefined);
    await until(async () => ((await t.ctx.database.db.selectFrom('outbox').select('sent_at').where('id', '=', row.id).executeTakeFirst())?.sent_at ? true : undefined));
    const page = await t.app.inject(link);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Confirm and sign in/);
  } finally {
    await t.close();
  }
});

test('an SMTP server that cannot be reached: the sign-up still answers, the outbox keeps the error', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = new SMTPServer({ authOptional: true });
    s.listen(0, '127.0.0.1', () => {
      const p = (s.server.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const t = await emptyApp({ SMTP_URL: `smtp://127.0.0.1:${closed}` });
  try {
    assert.equal((await signUp(t, 'max@example.org', 'max')).statusCode, 200);
    const row = await until(async () => {
      const r = await t.ctx.database.db.selectFrom('outbox').selectAll().where('recipient', '=', 'max@example.org').executeTakeFirst();
      return r?.error ? r : undefined;
    });
    assert.equal(row.sent_at, null);
    assert.match(row.error ?? '', /ECONNREFUSED|connect/i);
  } finally {
    await t.close();
  }
});
