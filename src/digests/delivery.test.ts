import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery } from 'kysely';
import { openTestDatabase, testEngine } from '../../test/support/database.js';
import { seedRun, seedSubscribers } from '../../test/support/digest-ledger.js';
import type { Database } from '../db/connection.js';
import { analyzeLedger, claimDeliveryStatement, settleAndClaim, settleDelivery, type DeliveryClaimParams } from '../db/delivery-claim.js';
import { addressOf, baseHost, digestHeaders, digestLinks, digestMessageId, ineligibility } from './delivery.js';

const TOKEN = 'AbC-123_xyz';

test('digest list headers: one-click HTTPS unsubscribe and a mailto, List-Id and the bulk marks', () => {
  assert.deepEqual(digestHeaders({ baseUrl: 'https://papers.example.org/', from: 'Paperboy digest <digest@example.org>', linkToken: TOKEN }), {
    'List-Unsubscribe': `<https://papers.example.org/unsubscribe/${TOKEN}>, <mailto:digest@example.org?subject=unsubscribe%20${TOKEN}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': 'Paperboy digest <digest.papers.example.org>',
    Precedence: 'bulk',
    'Auto-Submitted': 'auto-generated',
  });
  // A development instance on plain HTTP with a port: the port stays in the URL, not in List-Id.
  const local = digestHeaders({ baseUrl: 'http://localhost:3000', from: 'digest@localhost', linkToken: TOKEN });
  assert.equal(local['List-Unsubscribe'], `<http://localhost:3000/unsubscribe/${TOKEN}>, <mailto:digest@localhost?subject=unsubscribe%20${TOKEN}>`);
  assert.equal(local['List-Id'], 'Paperboy digest <digest.localhost>');
});

test('the Message-ID is stable per run and subscriber and carries no port', () => {
  assert.equal(digestMessageId(12, 345, 'https://papers.example.org'), '<digest-12-345@papers.example.org>');
  assert.equal(digestMessageId(12, 345, 'http://localhost:3000'), '<digest-12-345@localhost>');
  assert.equal(digestMessageId(12, 345, 'http://localhost:3000'), digestMessageId(12, 345, 'http://localhost:3000'));
  assert.notEqual(digestMessageId(12, 345, 'x'), digestMessageId(13, 345, 'x'));
});

test('links, addresses and hosts', () => {
  assert.deepEqual(digestLinks('https://p.example/', TOKEN), {
    baseUrl: 'https://p.example',
    preferencesUrl: `https://p.example/subscription/${TOKEN}`,
    unsubscribeUrl: `https://p.example/unsubscribe/${TOKEN}`,
  });
  assert.equal(addressOf('"Paperboy, digest" <digest@example.org>'), 'digest@example.org');
  assert.equal(addressOf(' digest@example.org '), 'digest@example.org');
  assert.equal(baseHost('https://Papers.Example.org:8443/base'), 'papers.example.org');
  assert.equal(baseHost('not a url'), 'localhost');
});

test('only a confirmed, unsuppressed subscriber is still eligible when the row is claimed', () => {
  const ok = { subscriber_status: 'confirmed', suppressed: null, link_token: TOKEN };
  assert.equal(ineligibility(ok), undefined);
  assert.equal(ineligibility({ ...ok, subscriber_status: 'unsubscribed' }), 'subscriber unsubscribed');
  assert.equal(ineligibility({ ...ok, subscriber_status: 'pending' }), 'subscriber pending');
  assert.equal(ineligibility({ ...ok, suppressed: 'complaint' }), 'address suppressed (complaint)');
  assert.equal(ineligibility({ subscriber_status: null, suppressed: null, link_token: null }), 'subscriber deleted');
});

async function withLedger(count: number, fn: (database: Database, runId: number, ids: number[]) => Promise<void>): Promise<void> {
  const database = await openTestDatabase();
  try {
    const subscribers = await seedSubscribers(database, count);
    await fn(database, await seedRun(database, subscribers), subscribers.map((s) => s.id));
  } finally {
    await database.close();
  }
}

const T0 = 1_800_000_000_000;

test('the claim order: uncertain rows (with resend), then retries whose backoff is over, then never-tried rows after the position', async () => {
  await withLedger(6, async (database, runId, ids) => {
    const { db } = database;
    const [a, b, c, d, e, f] = ids as [number, number, number, number, number, number];
    const set = (id: number, values: { status?: 'uncertain' | 'pending'; next_attempt_at?: number }) =>
      db.updateTable('digest_deliveries').set(values).where('run_id', '=', runId).where('subscriber_id', '=', id).execute();
    await set(e, { status: 'uncertain', next_attempt_at: 0 });
    await set(b, { next_attempt_at: T0 - 10 });
    await set(f, { next_attempt_at: T0 + 1_000 });
    const claim = (params: Partial<DeliveryClaimParams> = {}) =>
      claimDeliveryStatement(db, { runId, owner: 'w', leaseMs: 60_000, now: T0, resendUncertain: true, after: 0, ...params }).executeTakeFirst();

    const first = await claim({ resendUncertain: false });
    assert.equal(first?.subscriber_id, b, 'hold: uncertain rows are not claimable; a due retry comes first');
    assert.equal((await claim())?.subscriber_id, e, 'resend: the uncertain row');
    assert.equal((await claim({ after: c }))?.subscriber_id, d, 'never-tried rows after the position');
    assert.equal((await claim({ after: d }))?.subscriber_id, undefined, 'f waits for its backoff; nothing after d');
    assert.equal((await claim())?.subscriber_id, a);
    assert.equal((await claim())?.subscriber_id, c);
    assert.equal(await claim(), undefined);
    const late = await claim({ now: T0 + 1_000 });
    assert.equal(late?.subscriber_id, f, 'the retry is claimable once its backoff is over');
    assert.equal(late?.attempts, 1);
    assert.equal(late?.subscriber_status, 'confirmed');
    assert.equal(late?.suppressed, null);
    assert.match(late?.link_token ?? '', /^[A-Za-z0-9_-]{43}$/);
    const leased = await db.selectFrom('digest_deliveries').select(['status', 'lease_owner', 'lease_expires_at']).where('run_id', '=', runId).execute();
    assert.ok(leased.every((r) => r.status === 'sending' && r.lease_owner === 'w'));
  });
});

test('the outcome of a row is written with the next claim, fenced on the lease; a release gives the row back untried', async () => {
  await withLedger(4, async (database, runId, ids) => {
    const { db } = database;
    const [a, b, c] = ids as [number, number, number, number];
    const params = { runId, owner: 'w', leaseMs: 60_000, now: T0, resendUncertain: true, after: 0 };
    const state = async (id: number) =>
      db.selectFrom('digest_deliveries').select(['status', 'lease_owner', 'attempts', 'next_attempt_at', 'sent_at', 'error']).where('run_id', '=', runId).where('subscriber_id', '=', id).executeTakeFirstOrThrow();

    const first = await settleAndClaim(db, undefined, params);
    assert.equal(first.claimed?.subscriber_id, a);
    const second = await settleAndClaim(db, { subscriberId: a, outcome: 'sent', at: '2026-01-15T08:00:00.000Z' }, { ...params, after: a });
    assert.equal(second.claimed?.subscriber_id, b);
    assert.equal(second.settled, true);
    assert.deepEqual(await state(a), { status: 'sent', lease_owner: 'w', attempts: 1, next_attempt_at: 0, sent_at: '2026-01-15T08:00:00.000Z', error: null });

    // Another worker took b over (its lease ran out): w's late outcome is not written.
    await db.updateTable('digest_deliveries').set({ lease_owner: 'x' }).where('run_id', '=', runId).where('subscriber_id', '=', b).execute();
    const third = await settleAndClaim(db, { subscriberId: b, outcome: 'failed', error: '550 gone' }, { ...params, after: b });
    assert.equal(third.claimed?.subscriber_id, c);
    assert.equal(third.settled, false);
    assert.deepEqual(await state(b), { status: 'sending', lease_owner: 'x', attempts: 1, next_attempt_at: 0, sent_at: null, error: null });

    assert.equal(await settleDelivery(db, runId, 'w', { subscriberId: c, outcome: 'release', at: T0 }), true);
    assert.deepEqual(await state(c), { status: 'pending', lease_owner: null, attempts: 0, next_attempt_at: T0, sent_at: null, error: null });
    assert.equal((await claimDeliveryStatement(db, { ...params, after: ids[3] ?? 0 }).executeTakeFirst())?.subscriber_id, c, 'claimable again at once');
  });
});

test('concurrent claims each get a different row', async () => {
  await withLedger(30, async (database, runId) => {
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        claimDeliveryStatement(database.db, { runId, owner: `w${i}`, leaseMs: 60_000, now: T0, resendUncertain: true, after: 0 }).executeTakeFirst(),
      ),
    );
    const ids = claims.map((c) => c?.subscriber_id);
    assert.ok(ids.every((id) => id !== undefined), 'every claim got a row');
    assert.equal(new Set(ids).size, 12);
  });
});

test('a claim of a never-tried row walks the primary key from the position, without sorting the run', async () => {
  await withLedger(2_000, async (database, runId) => {
    await analyzeLedger(database);
    const q = claimDeliveryStatement(database.db, { runId, owner: 'o', leaseMs: 1_000, now: T0, resendUncertain: true, after: 500 }).compile();
    if (testEngine === 'sqlite') {
      const plan = (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]))).rows.map(
        (r) => r.detail,
      );
      assert.ok(plan.some((d) => /SEARCH digest_deliveries USING INDEX \S+ \(run_id=\? AND subscriber_id>\?\)/.test(d)), plan.join('\n'));
      assert.ok(!plan.some((d) => /TEMP B-TREE|SCAN digest_deliveries/.test(d)), plan.join('\n'));
      return;
    }
    const result = await database.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]));
    const plan = result.rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.doesNotMatch(plan, /Sort|Seq Scan on digest_deliveries/, plan);
  });
});
