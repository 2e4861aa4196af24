/**
 * Digest delivery over real SMTP (an in-process smtp-server; messages parsed
 * with mailparser): the list headers and parts of a digest, DKIM, retries
 * through a server that refuses one message in ten, permanent failures,
 * re-runs, recipients who left after the run was built, the uncertain-row
 * policies, stopping, throttling, and the outbox when there is no SMTP.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createVerify, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { deliverRun } from '../src/digests/delivery.js';
import { createLogger } from '../src/log.js';
import { mailerFor } from '../src/mail/mailer.js';
import { instanceEnv } from './support/database.js';
import { seedRun, seedSubscribers, type SeededSubscriber } from './support/digest-ledger.js';
import { headerOf, startSmtpServer, type ReceivedMessage, type TestSmtpServer } from './support/smtp-server.js';

const BASE = {
  BASE_URL: 'https://paperboy.test',
  MAIL_FROM: 'Paperboy <news@paperboy.test>',
  LOG_LEVEL: 'silent',
  HARVEST_ENABLED: 'false',
};
/** Retries within milliseconds, so a test exercises them without waiting. */
const FAST = { backoff: { baseMs: 2, capMs: 20 } };

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function instance(env: Record<string, string> = {}): Promise<AppContext> {
  const ctx = await createContext(loadConfig({ ...(await instanceEnv()), ...BASE, ...env }), createLogger('silent'));
  cleanup.push(() => ctx.database.close());
  return ctx;
}

async function smtp(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const server = await startSmtpServer(options);
  cleanup.push(() => server.close());
  return server;
}

function recipientsOf(received: readonly ReceivedMessage[]): string[] {
  return received.flatMap((m) => m.to).sort();
}

async function deliveries(ctx: AppContext, runId: number) {
  return ctx.database.db.selectFrom('digest_deliveries').selectAll().where('run_id', '=', runId).orderBy('subscriber_id').execute();
}

async function runStatus(ctx: AppContext, runId: number) {
  return ctx.database.db.selectFrom('digest_runs').select(['status', 'finished_at']).where('id', '=', runId).executeTakeFirstOrThrow();
}

/** A seeded PRNG (mulberry32): the "random" failures are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Checks a message's DKIM-Signature (RFC 6376, relaxed/relaxed, rsa-sha256)
 * against `publicKeyPem`: the body hash and the signature over the signed
 * headers. Returns the tags.
 */
function verifyDkim(raw: Buffer, publicKeyPem: string): Map<string, string> {
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split + 2);
  const body = text.slice(split + 4);
  const fields = head.split(/\r\n(?![ \t])/).filter((f) => f !== '');
  const relaxed = (field: string): string => {
    const colon = field.indexOf(':');
    const value = field.slice(colon + 1).replace(/\r\n/g, '').replace(/[ \t]+/g, ' ').trim();
    return `${field.slice(0, colon).trim().toLowerCase()}:${value}`;
  };
  const signature = fields.find((f) => /^dkim-signature:/i.test(f));
  assert.ok(signature, 'a DKIM-Signature header');
  const tags = new Map(
    signature
      .slice(signature.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter((t) => t !== '')
      .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)] as [string, string]),
  );
  assert.equal(tags.get('c'), 'relaxed/relaxed');
  assert.equal(tags.get('a'), 'rsa-sha256');
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const canonicalBody = lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
  assert.equal(createHash('sha256').update(canonicalBody, 'latin1').digest('base64'), tags.get('bh'), 'body hash');
  // Each signed name takes the last unused instance of that header, bottom up.
  const used = new Set<number>();
  const signed = (tags.get('h') ?? '').split(':').map((name) => {
    for (let i = fields.length - 1; i >= 0; i--) {
      const field = fields[i] ?? '';
      if (!used.has(i) && field.slice(0, field.indexOf(':')).trim().toLowerCase() === name.toLowerCase()) {
        used.add(i);
        return `${relaxed(field)}\r\n`;
      }
    }
    return '';
  });
  const unsigned = relaxed(signature).replace(/b=[^;]*$/, 'b=');
  const verifier = createVerify('RSA-SHA256');
  verifier.update(signed.join('') + unsigned, 'latin1');
  assert.ok(verifier.verify(createPublicKey(publicKeyPem), tags.get('b') ?? '', 'base64'), 'the DKIM signature verifies');
  return tags;
}

test('a digest carries list headers, a stable Message-ID, the digest sender, HTML and text, and a valid DKIM signature; transactional mail carries none of the list headers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-dkim-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'dkim.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  const server = await smtp();
  const ctx = await instance({
    SMTP_URL: server.url,
    DIGEST_REPLY_TO: 'Editors <editors@paperboy.test>',
    MAIL_REPLY_TO: 'help@paperboy.test',
    DKIM_DOMAIN: 'paperboy.test',
    DKIM_SELECTOR: 'mail2026',
    DKIM_PRIVATE_KEY_FILE: keyFile,
  });
  const subscribers = await seedSubscribers(ctx.database, 2);
  const runId = await seedRun(ctx.database, subscribers);

  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.equal((await runStatus(ctx, runId)).status, 'done');
  assert.deepEqual(recipientsOf(server.received), subscribers.map((s) => s.email).sort());

  for (const subscriber of subscribers) {
    const message = server.received.find((m) => m.to.includes(subscriber.email));
    assert.ok(message);
    assert.equal(message.from, 'digest@paperboy.test', 'the envelope sender is the digest address');
    const mail = await simpleParser(message.raw);
    const token = subscriber.linkToken;
    assert.equal(mail.from?.value[0]?.address, 'digest@paperboy.test');
    assert.notEqual(mail.from?.value[0]?.address, 'news@paperboy.test', 'digests and transactional mail have different senders');
    assert.equal(mail.replyTo?.value[0]?.address, 'editors@paperboy.test');
    assert.equal(mail.messageId, `<digest-${runId}-${subscriber.id}@paperboy.test>`);
    assert.equal(
      headerOf(message.raw, 'List-Unsubscribe'),
      `<https://paperboy.test/unsubscribe/${token}>, <mailto:digest@paperboy.test?subject=unsubscribe%20${token}>`,
    );
    assert.equal(headerOf(message.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.equal(headerOf(message.raw, 'List-Id'), 'Paperboy digest <digest.paperboy.test>');
    assert.equal(headerOf(message.raw, 'Precedence'), 'bulk');
    assert.equal(headerOf(message.raw, 'Auto-Submitted'), 'auto-generated');
    assert.equal(mail.subject, 'Trending papers, Thu 15 Jan 2026');
    assert.match(String(mail.html), /<table/);
    assert.ok(String(mail.html).includes(`https://paperboy.test/unsubscribe/${token}`), 'a visible unsubscribe link in the HTML part');
    assert.ok(String(mail.html).includes(`https://paperboy.test/subscription/${token}`), 'a preferences link in the HTML part');
    assert.ok(String(mail.html).includes('A study of thing 1 &amp; its &lt;neighbours&gt;'), 'paper titles are escaped');
    assert.ok(mail.text?.includes(`Unsubscribe: https://paperboy.test/unsubscribe/${token}`), 'the text part has the unsubscribe link');
    assert.ok(mail.text?.includes('https://arxiv.org/pdf/2601.00001'));
    const tags = verifyDkim(message.raw, publicPem);
    assert.equal(tags.get('d'), 'paperboy.test');
    assert.equal(tags.get('s'), 'mail2026');
    const signedHeaders = (tags.get('h') ?? '').toLowerCase().split(':');
    for (const name of ['from', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']) {
      assert.ok(signedHeaders.includes(name), `DKIM covers ${name}`);
    }
  }

  // Re-running a finished run sends nothing new.
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.equal(server.received.length, 2);

  // Transactional mail: MAIL_FROM, MAIL_REPLY_TO, signed, and never list headers.
  const mailer = mailerFor(ctx);
  cleanup.push(() => mailer.close());
  assert.equal((await mailer.send({ to: 'someone@example.org', subject: 'Confirm', text: 'Hello', kind: 'verify' })).sent, true);
  const transactional = server.received.find((m) => m.to.includes('someone@example.org'));
  assert.ok(transactional);
  const parsed = await simpleParser(transactional.raw);
  assert.equal(parsed.from?.value[0]?.address, 'news@paperboy.test');
  assert.equal(parsed.replyTo?.value[0]?.address, 'help@paperboy.test');
  for (const name of ['List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Id', 'Precedence']) {
    assert.equal(headerOf(transactional.raw, name), undefined, `no ${name} on transactional mail`);
  }
  assert.equal(verifyDkim(transactional.raw, publicPem).get('d'), 'paperboy.test');
});

test('an SMTP server that refuses one message in ten with 451 still gets every recipient exactly once', async () => {
  const random = seeded(9);
  // Half the refusals at RCPT TO, half after DATA: both are temporary.
  const server = await smtp({
    rcpt: () => (random() < 0.05 ? { code: 451, message: '4.7.1 Try again later' } : undefined),
    data: () => (random() < 0.05 ? { code: 451, message: '4.3.0 Temporary failure' } : undefined),
  });
  const ctx = await instance({ SMTP_URL: server.url });
  const subscribers = await seedSubscribers(ctx.database, 80);
  const runId = await seedRun(ctx.database, subscribers);

  const counts = await deliverRun(ctx, runId, { ...FAST, maxAttempts: 30 });
  assert.deepEqual(counts, { sent: 80, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.deepEqual(recipientsOf(server.received), subscribers.map((s) => s.email).sort(), 'every recipient exactly once');
  const rows = await deliveries(ctx, runId);
  const retried = rows.filter((r) => r.attempts > 1);
  const rcptRefusals = rows.reduce((n, r) => n + r.attempts - 1, 0) - server.refused;
  assert.ok(server.refused > 0, 'some messages were refused after DATA');
  assert.ok(rcptRefusals > 0, 'some recipients were refused at RCPT TO');
  assert.ok(retried.length >= 4, `${retried.length} rows were retried`);
  assert.ok(rows.every((r) => r.status === 'sent' && r.sent_at !== null && r.error === null && r.uncertain_at === null));
  assert.equal((await runStatus(ctx, runId)).status, 'done');
});

test('a temporary failure is retried after a backoff; past maxAttempts the row fails with the last answer', async () => {
  const server = await smtp({ rcpt: (to) => (to.startsWith('reader1@') ? { code: 452, message: '4.2.2 Mailbox full' } : undefined) });
  const ctx = await instance({ SMTP_URL: server.url });
  const subscribers = await seedSubscribers(ctx.database, 2);
  const runId = await seedRun(ctx.database, subscribers);
  const started = Date.now();
  const counts = await deliverRun(ctx, runId, { backoff: { baseMs: 40, capMs: 80 }, maxAttempts: 3 });
  assert.deepEqual(counts, { sent: 1, failed: 1, uncertain: 0, cancelled: 0, pending: 0 });
  // Backoffs after attempts 1 and 2: at least 20 + 40 ms (equal jitter keeps half of each).
  assert.ok(Date.now() - started >= 60, 'waited for the backoff within the call');
  const [, full] = await deliveries(ctx, runId);
  assert.equal(full?.status, 'failed');
  assert.equal(full?.attempts, 3);
  assert.match(full?.error ?? '', /452 4\.2\.2 Mailbox full/);
  assert.equal((await runStatus(ctx, runId)).status, 'done');
});

test('a permanent refusal (550) fails the row with the reason and is never retried', async () => {
  const server = await smtp({ rcpt: (to) => (to.startsWith('reader1@') ? { code: 550, message: '5.1.1 No such user' } : undefined) });
  const ctx = await instance({ SMTP_URL: server.url });
  const subscribers = await seedSubscribers(ctx.database, 3);
  const runId = await seedRun(ctx.database, subscribers);
  assert.deepEqual(await deliverRun(ctx, runId, FAST), { sent: 2, failed: 1, uncertain: 0, cancelled: 0, pending: 0 });
  const failed = (await deliveries(ctx, runId)).find((r) => r.email === 'reader1@example.org');
  assert.equal(failed?.status, 'failed');
  assert.equal(failed?.attempts, 1, 'no retry');
  assert.match(failed?.error ?? '', /550 5\.1\.1 No such user/);
  assert.deepEqual(recipientsOf(server.received), ['reader0@example.org', 'reader2@example.org']);
  assert.deepEqual(await deliverRun(ctx, runId, FAST), { sent: 2, failed: 1, uncertain: 0, cancelled: 0, pending: 0 });
  assert.equal(server.received.length, 2, 're-running sends nothing');
});

test('a subscriber who unsubscribed, was suppressed or went back to pending after the build is cancelled, never mailed', async () => {
  const server = await smtp();
  const ctx = await instance({ SMTP_URL: server.url });
  const subscribers = await seedSubscribers(ctx.database, 4);
  const runId = await seedRun(ctx.database, subscribers);
  const [, left, bounced, unconfirmed] = subscribers as [SeededSubscriber, SeededSubscriber, SeededSubscriber, SeededSubscriber];
  const { db } = ctx.database;
  await db.updateTable('subscribers').set({ status: 'unsubscribed' }).where('id', '=', left.id).execute();
  await db.updateTable('subscribers').set({ status: 'pending' }).where('id', '=', unconfirmed.id).execute();
  await db.insertInto('suppressions').values({ email_key: bounced.email, reason: 'hard-bounce', detail: null, created_at: new Date().toISOString() }).execute();

  assert.deepEqual(await deliverRun(ctx, runId), { sent: 1, failed: 0, uncertain: 0, cancelled: 3, pending: 0 });
  assert.deepEqual(recipientsOf(server.received), ['reader0@example.org']);
  const byEmail = new Map((await deliveries(ctx, runId)).map((r) => [r.email, r]));
  assert.equal(byEmail.get(left.email)?.error, 'subscriber unsubscribed');
  assert.equal(byEmail.get(unconfirmed.email)?.error, 'subscriber pending');
  assert.equal(byEmail.get(bounced.email)?.error, 'address suppressed (hard-bounce)');
  assert.equal((await runStatus(ctx, runId)).status, 'done');
});

/** Leaves the first row as a worker that died mid-send would: `sending`, leased to it until `leaseEnd`. */
async function crashedRow(ctx: AppContext, runId: number, subscriberId: number, leaseEnd: number): Promise<void> {
  await ctx.database.db
    .updateTable('digest_deliveries')
    .set({ status: 'sending', lease_owner: 'dead-worker', lease_expires_at: leaseEnd, attempts: 1 })
    .where('run_id', '=', runId)
    .where('subscriber_id', '=', subscriberId)
    .execute();
}

test('uncertain policy "hold": a row whose worker died mid-send is marked uncertain and never sent again', async () => {
  const server = await smtp();
  const ctx = await instance({ SMTP_URL: server.url, DIGEST_UNCERTAIN: 'hold' });
  const subscribers = await seedSubscribers(ctx.database, 3);
  const runId = await seedRun(ctx.database, subscribers);
  const crashed = subscribers[0] as SeededSubscriber;
  await crashedRow(ctx, runId, crashed.id, Date.now() - 1);

  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 1, cancelled: 0, pending: 0 });
  assert.deepEqual(recipientsOf(server.received), ['reader1@example.org', 'reader2@example.org']);
  const row = (await deliveries(ctx, runId)).find((r) => r.subscriber_id === crashed.id);
  assert.equal(row?.status, 'uncertain');
  assert.ok(row?.uncertain_at);
  assert.equal((await runStatus(ctx, runId)).status, 'done', 'held rows do not keep the run open');
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 1, cancelled: 0, pending: 0 });
  assert.equal(server.received.length, 2);
});

test('uncertain policy "resend": the crashed row is sent again once its lease ran out, with the same Message-ID, and keeps its uncertain mark', async () => {
  const server = await smtp();
  const ctx = await instance({ SMTP_URL: server.url, DIGEST_UNCERTAIN: 'resend' });
  const subscribers = await seedSubscribers(ctx.database, 3);
  const runId = await seedRun(ctx.database, subscribers);
  assert.equal((await deliverRun(ctx, runId)).sent, 3);
  const crashed = subscribers[1] as SeededSubscriber;
  // As if the worker had sent this message and died before recording it; its lease has 300 ms left.
  await crashedRow(ctx, runId, crashed.id, Date.now() + 300);
  await ctx.database.db.updateTable('digest_runs').set({ status: 'sending', finished_at: null }).where('id', '=', runId).execute();

  const started = Date.now();
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 3, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.ok(Date.now() - started >= 250, 'waited for the dead worker\'s lease to run out');
  const copies = server.received.filter((m) => m.to.includes(crashed.email));
  assert.equal(copies.length, 2, 'sent again');
  assert.deepEqual(
    copies.map((m) => headerOf(m.raw, 'Message-ID')),
    [`<digest-${runId}-${crashed.id}@paperboy.test>`, `<digest-${runId}-${crashed.id}@paperboy.test>`],
  );
  assert.equal(server.received.length, 4, 'no one else got a second copy');
  const row = (await deliveries(ctx, runId)).find((r) => r.subscriber_id === crashed.id);
  assert.equal(row?.status, 'sent');
  assert.ok(row?.uncertain_at, 'the row keeps the record that it may have gone twice');
  assert.equal(row?.attempts, 2);
  assert.equal((await runStatus(ctx, runId)).status, 'done');
});

test('an abort stops the run between two messages, leaving no row leased; the next call finishes it', async () => {
  const controller = new AbortController();
  const server = await smtp({ onMessage: () => server.received.length >= 3 && controller.abort() });
  const ctx = await instance({ SMTP_URL: server.url });
  const subscribers = await seedSubscribers(ctx.database, 10);
  const runId = await seedRun(ctx.database, subscribers);
  const counts = await deliverRun(ctx, runId, { signal: controller.signal });
  assert.equal(counts.sent, 3, 'the message in flight when the abort came was recorded');
  assert.equal(counts.pending, 7);
  assert.ok((await deliveries(ctx, runId)).every((r) => r.status !== 'sending'), 'nothing left leased');
  assert.equal((await runStatus(ctx, runId)).status, 'sending');
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 10, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.deepEqual(recipientsOf(server.received), subscribers.map((s) => s.email).sort());
});

test('sending is throttled to DIGEST_SEND_RATE messages a second', async () => {
  const server = await smtp();
  const ctx = await instance({ SMTP_URL: server.url, DIGEST_SEND_RATE: '25' });
  const runId = await seedRun(ctx.database, await seedSubscribers(ctx.database, 6));
  const started = Date.now();
  assert.equal((await deliverRun(ctx, runId)).sent, 6);
  // Six messages at 25 a second: five intervals of 40 ms at least.
  assert.ok(Date.now() - started >= 190, `took ${Date.now() - started} ms`);
});

test('without SMTP_URL the digest lands in the outbox, and the ledger records it sent', async () => {
  const ctx = await instance();
  const subscribers = await seedSubscribers(ctx.database, 2);
  const runId = await seedRun(ctx.database, subscribers);
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  const outbox = await ctx.database.db.selectFrom('outbox').selectAll().orderBy('id').execute();
  assert.deepEqual(
    outbox.map((m) => [m.kind, m.recipient, m.subject]),
    subscribers.map((s) => ['digest', s.email, 'Trending papers, Thu 15 Jan 2026']),
  );
  assert.ok(outbox[0]?.text_body.includes(`https://paperboy.test/unsubscribe/${subscribers[0]?.linkToken}`));
  assert.match(outbox[0]?.html_body ?? '', /<table/);
  assert.deepEqual(await deliverRun(ctx, runId), { sent: 2, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
  assert.equal((await ctx.database.db.selectFrom('outbox').select('id').execute()).length, 2, 're-running adds nothing');
});
