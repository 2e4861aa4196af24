import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDatabase } from '../../test/support/database.js';
import { newSecret } from '../accounts/secrets.js';
import type { Database } from '../db/connection.js';
import type { SubscriberStatus } from '../db/schema.js';
import { isSuppressed, recordMailEvent, recordMailEvents, suppress, type BounceContext } from './bounces.js';

let database: Database;
let ctx: BounceContext;
const NOW = new Date('2026-11-20T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

before(async () => {
  database = await openTestDatabase();
  ctx = { database, config: { softBounceLimit: 3 } };
});

after(async () => {
  await database.close();
});

async function subscriber(email: string, status: SubscriberStatus): Promise<string> {
  const token = newSecret();
  const now = NOW.toISOString();
  await database.db
    .insertInto('subscribers')
    .values({
      email,
      email_key: email.trim().toLowerCase(),
      status,
      link_token: token,
      confirm_token_hash: status === 'pending' ? 'a'.repeat(64) : null,
      confirm_expires_at: status === 'pending' ? NOW.getTime() + DAY : null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return token;
}

async function subscriberRow(email: string) {
  return database.db.selectFrom('subscribers').selectAll().where('email_key', '=', email.toLowerCase()).executeTakeFirstOrThrow();
}

async function events(email: string) {
  return database.db.selectFrom('mail_events').selectAll().where('email_key', '=', email.toLowerCase()).orderBy('id').execute();
}

test('suppress keeps the first reason, is idempotent and case-insensitive', async () => {
  assert.equal(await isSuppressed(database, 'first@example.org'), false);
  assert.equal(await suppress(database, ' First@Example.org ', 'complaint', 'spam button', NOW), true);
  assert.equal(await suppress(database, 'first@example.org', 'hard-bounce', 'later', NOW), false);
  assert.equal(await isSuppressed(database, 'FIRST@example.org'), true);
  const rows = await database.db.selectFrom('suppressions').selectAll().where('email_key', '=', 'first@example.org').execute();
  assert.deepEqual(rows, [{ email_key: 'first@example.org', reason: 'complaint', detail: 'spam button', created_at: NOW.toISOString() }]);
});

test('a hard bounce and a complaint suppress at once and are recorded', async () => {
  assert.deepEqual(await recordMailEvent(ctx, { email: 'Hard@Example.org', kind: 'hard-bounce', source: 'dsn', detail: '5.1.1' }, NOW), {
    suppressed: true,
    unsubscribed: false,
  });
  assert.deepEqual(await recordMailEvent(ctx, { email: 'hard@example.org', kind: 'hard-bounce', source: 'webhook' }, NOW), {
    suppressed: false,
    unsubscribed: false,
  });
  assert.deepEqual(
    (await events('hard@example.org')).map((e) => [e.kind, e.source, e.detail]),
    [
      ['hard-bounce', 'dsn', '5.1.1'],
      ['hard-bounce', 'webhook', null],
    ],
  );
  assert.equal((await recordMailEvent(ctx, { email: 'spam@example.org', kind: 'complaint', source: 'webhook' }, NOW)).suppressed, true);
  const reasons = await database.db.selectFrom('suppressions').select(['email_key', 'reason']).where('email_key', 'in', ['hard@example.org', 'spam@example.org']).orderBy('email_key').execute();
  assert.deepEqual(reasons, [
    { email_key: 'hard@example.org', reason: 'hard-bounce' },
    { email_key: 'spam@example.org', reason: 'complaint' },
  ]);
});

test('soft bounces suppress at the limit within 30 days; older ones do not count', async () => {
  const email = 'soft@example.org';
  const at = (daysAgo: number): Date => new Date(NOW.getTime() - daysAgo * DAY);
  const soft = async (daysAgo: number, detail?: string): Promise<boolean> =>
    (await recordMailEvent(ctx, { email, kind: 'soft-bounce', source: 'dsn', detail }, at(daysAgo))).suppressed;
  // Each counts the soft bounces of the 30 days before it.
  assert.equal(await soft(70), false);
  assert.equal(await soft(69), false);
  assert.equal(await soft(30.01), false);
  assert.equal(await soft(1), false);
  assert.equal(await soft(0), false, 'the one of 30.01 days ago is out of the window: two, not three');
  assert.equal(await isSuppressed(database, email), false);
  assert.equal(await soft(-0.5, 'mailbox full'), true);
  const row = await database.db.selectFrom('suppressions').selectAll().where('email_key', '=', email).executeTakeFirstOrThrow();
  assert.equal(row.reason, 'soft-bounces');
  assert.equal(row.detail, '3 soft bounces within 30 days; last: mailbox full');
  assert.equal((await events(email)).length, 6);
  assert.equal(await soft(-1), false, 'already suppressed');
});

test('the soft bounce limit comes from the configuration', async () => {
  const strict: BounceContext = { database, config: { softBounceLimit: 1 } };
  assert.equal((await recordMailEvent(strict, { email: 'once@example.org', kind: 'soft-bounce', source: 'webhook' }, NOW)).suppressed, true);
});

test('an unsubscribe ends the subscription and voids a pending confirmation', async () => {
  await subscriber('Reader@Example.org', 'confirmed');
  await subscriber('pending@example.org', 'pending');
  assert.deepEqual(await recordMailEvent(ctx, { email: 'reader@example.org', kind: 'unsubscribe', source: 'webhook' }, NOW), {
    suppressed: false,
    unsubscribed: true,
  });
  const row = await subscriberRow('reader@example.org');
  assert.equal(row.status, 'unsubscribed');
  assert.equal(row.unsubscribed_at, NOW.toISOString());
  assert.equal(await isSuppressed(database, 'reader@example.org'), false, 'an unsubscribe is not a suppression: the reader may come back');
  assert.equal((await recordMailEvent(ctx, { email: 'reader@example.org', kind: 'unsubscribe', source: 'webhook' }, NOW)).unsubscribed, false);

  await recordMailEvent(ctx, { email: 'pending@example.org', kind: 'unsubscribe', source: 'dsn' }, NOW);
  const pending = await subscriberRow('pending@example.org');
  assert.equal(pending.status, 'unsubscribed');
  assert.equal(pending.confirm_token_hash, null);
  // An address with no subscription is still recorded.
  assert.equal((await recordMailEvent(ctx, { email: 'nobody@example.org', kind: 'unsubscribe', source: 'webhook' }, NOW)).unsubscribed, false);
  assert.equal((await events('nobody@example.org')).length, 1);
});

test('recordMailEvents resolves link tokens, counts, and falls back to the address', async () => {
  const token = await subscriber('token.reader@example.org', 'confirmed');
  const counts = await recordMailEvents(
    ctx,
    [
      { kind: 'unsubscribe', token },
      { kind: 'complaint', token, email: 'someone.else@example.org' },
      { kind: 'unsubscribe', token: newSecret() },
      { kind: 'unsubscribe', token: 'not a token' },
      { kind: 'hard-bounce', token: newSecret(), email: 'fallback@example.org' },
    ],
    'dsn',
    NOW,
  );
  assert.deepEqual(counts, { recorded: 3, suppressed: 2, unsubscribed: 1, ignored: 2 });
  assert.equal((await subscriberRow('token.reader@example.org')).status, 'unsubscribed');
  assert.equal(await isSuppressed(database, 'token.reader@example.org'), true, 'the token names the subscriber');
  assert.equal(await isSuppressed(database, 'someone.else@example.org'), false);
  assert.equal(await isSuppressed(database, 'fallback@example.org'), true);
});

test('a batch is all or nothing', async () => {
  const before = await database.db.selectFrom('mail_events').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
  await assert.rejects(
    recordMailEvents(
      ctx,
      [
        { kind: 'hard-bounce', email: 'batch@example.org' },
        // The CHECK constraint refuses it, after the first event was written.
        { kind: 'bogus' as 'hard-bounce', email: 'batch2@example.org' },
      ],
      'webhook',
      NOW,
    ),
  );
  const afterCount = await database.db.selectFrom('mail_events').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(afterCount.n), Number(before.n));
  assert.equal(await isSuppressed(database, 'batch@example.org'), false);
});
