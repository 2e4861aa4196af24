/**
 * The promise behind double opt-in, as a property: over random sequences of
 * subscribe, confirm (from the emailed link), one-click unsubscribe, bounces,
 * complaints and digest runs, a digest reaches exactly the addresses that
 * confirmed, did not leave and are not suppressed, as a model of those rules
 * predicts. Digests go through a real SMTP server; confirmation links are read
 * from the mail the instance wrote.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createRun } from '../src/digests/runs.js';
import { deliverRun } from '../src/digests/delivery.js';
import { featurePaper } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { recordMailEvent } from '../src/subscriptions/bounces.js';
import { confirmSubscription, requestSubscription } from '../src/subscriptions/subscribers.js';
import { emptyApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const DAY = '2026-11-20';
const ADDRESSES = 3;
const SOFT_BOUNCE_LIMIT = 2;

type Command =
  | { op: 'subscribe'; who: number }
  | { op: 'confirm'; who: number }
  | { op: 'unsubscribe'; who: number }
  | { op: 'bounce'; who: number; kind: 'hard-bounce' | 'soft-bounce' | 'complaint' }
  | { op: 'run' };

const who = fc.integer({ min: 0, max: ADDRESSES - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('subscribe' as const), who }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('confirm' as const), who }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('unsubscribe' as const), who }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('bounce' as const), who, kind: fc.constantFrom('hard-bounce' as const, 'soft-bounce' as const, 'complaint' as const) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('run' as const) }), weight: 3 },
);

/** What the rules say about one address. */
interface Model {
  status: 'none' | 'pending' | 'confirmed' | 'unsubscribed';
  suppressed: boolean;
  softBounces: number;
  /** Confirmation emails sent to it so far. */
  confirmations: number;
}

let t: TestApp;
let smtp: TestSmtpServer;

before(async () => {
  smtp = await startSmtpServer();
  t = await emptyApp({ SMTP_URL: smtp.url, SOFT_BOUNCE_LIMIT: String(SOFT_BOUNCE_LIMIT), RATE_LIMIT_SUBSCRIBE: '1000000' });
  const file = join(tempDataDir('paperboy-digest-property-'), 'papers.jsonl');
  writeFileSync(
    file,
    `${JSON.stringify({
      id: '2611.00001',
      authors: 'Ada Lovelace',
      title: 'Analytical engines for everyone',
      categories: 'cs.LG',
      abstract: 'We study analytical engines. They compute.',
      versions: [{ version: 'v1', created: 'Mon, 16 Nov 2026 10:00:00 GMT' }],
    })}\n`,
  );
  await importPaths(t.ctx.database, [file]);
  await featurePaper(t.ctx.database, { arxivId: '2611.00001', on: DAY, source: 'curator', by: 'ada' });
});

after(async () => {
  await t?.close();
  await smtp?.close();
});

/** The newest confirmation link emailed to `email`, once `count` of them have been written. */
async function latestConfirmationToken(email: string, count: number): Promise<string> {
  for (let i = 0; i < 400; i += 1) {
    const rows = await t.ctx.database.db
      .selectFrom('outbox')
      .select(['text_body'])
      .where('recipient', '=', email)
      .where('kind', '=', 'subscribe')
      .orderBy('id', 'desc')
      .execute();
    const token = rows.length >= count ? /\/subscriptions\/confirm\?token=([A-Za-z0-9_-]+)/.exec(rows[0]?.text_body ?? '')?.[1] : undefined;
    if (token !== undefined) return token;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`confirmation email ${count} to ${email} never arrived`);
}

let sequence = 0;

test('a digest reaches exactly the confirmed, subscribed, unsuppressed addresses', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 24 }), async (commands) => {
      sequence += 1;
      const emails = Array.from({ length: ADDRESSES }, (_, i) => `p${sequence}-${i}@example.org`);
      const model: Model[] = emails.map(() => ({ status: 'none', suppressed: false, softBounces: 0, confirmations: 0 }));
      const { db } = t.ctx.database;
      for (const c of commands) {
        if (c.op === 'run') {
          // One period, run again and again: the previous run (and its ledger) goes first.
          await db.deleteFrom('digest_runs').execute();
          const before = smtp.received.length;
          const run = await createRun(t.ctx, { cadence: 'daily', periodEnd: DAY });
          await deliverRun(t.ctx, run.runId);
          const mailed = smtp.received
            .slice(before)
            // Confirmation emails sent in the background arrive meanwhile; digests come from their own sender.
            .filter((m) => m.from === 'digest@localhost')
            .flatMap((m) => m.to)
            .filter((to) => emails.includes(to))
            .sort();
          const expected = emails.filter((_, i) => model[i]!.status === 'confirmed' && !model[i]!.suppressed).sort();
          assert.deepEqual(mailed, expected, `after ${JSON.stringify(commands)}`);
          continue;
        }
        const email = emails[c.who]!;
        const m = model[c.who]!;
        if (c.op === 'subscribe') {
          const outcome = await requestSubscription(t.ctx, { email });
          if (m.suppressed) assert.equal(outcome, 'suppressed');
          else if (m.status === 'confirmed') assert.ok(outcome === 'reminder-sent' || outcome === 'throttled', outcome);
          else if (m.status === 'none') assert.equal(outcome, 'confirmation-sent');
          else assert.ok(outcome === 'confirmation-sent' || outcome === 'throttled', outcome);
          if (outcome === 'confirmation-sent') {
            m.status = 'pending';
            m.confirmations += 1;
          }
        } else if (c.op === 'confirm') {
          if (m.confirmations === 0) continue;
          const confirmed = await confirmSubscription(t.ctx.database, await latestConfirmationToken(email, m.confirmations));
          // Only a pending address's newest link confirms, and only once.
          assert.equal(confirmed !== null, m.status === 'pending', `confirm in state ${m.status}`);
          if (confirmed !== null) m.status = 'confirmed';
        } else if (c.op === 'unsubscribe') {
          const row = await db.selectFrom('subscribers').select('link_token').where('email_key', '=', email).executeTakeFirst();
          if (row === undefined) continue;
          // RFC 8058: what a mail client posts, with no cookie and no CSRF token.
          const res = await t.app.inject({
            method: 'POST',
            url: `/unsubscribe/${row.link_token}`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: 'List-Unsubscribe=One-Click',
          });
          assert.equal(res.statusCode, 200);
          m.status = 'unsubscribed';
        } else {
          await recordMailEvent(t.ctx, { email, kind: c.kind, source: 'webhook' });
          if (c.kind === 'soft-bounce') m.softBounces += 1;
          if (c.kind !== 'soft-bounce' || m.softBounces >= SOFT_BOUNCE_LIMIT) m.suppressed = true;
        }
      }
    }),
    { numRuns: 40 },
  );
});
