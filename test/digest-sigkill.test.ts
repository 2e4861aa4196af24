/**
 * Crash safety of digest delivery with real processes: a 10,000-recipient run
 * whose sender is SIGKILLed at 20 random points (no chance to record or
 * release anything) and restarted each time ends with every recipient mailed,
 * no message lost, and at most one duplicate per kill, each duplicate on a row
 * the ledger marks uncertain.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { createLogger } from '../src/log.js';
import { instanceEnv, rows } from './support/database.js';
import { seedRun, seedSubscribers } from './support/digest-ledger.js';
import { headerOf, startSmtpServer } from './support/smtp-server.js';

const WORKER = fileURLToPath(new URL('./support/digest-worker.js', import.meta.url));
const RECIPIENTS = 10_000;
const KILLS = 20;
/** Short, so each restarted worker soon recovers the row its predecessor left leased. */
const LEASE_MS = 1_000;

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  // A failed assertion must not leave a worker process running.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test(`a ${RECIPIENTS}-recipient digest survives ${KILLS} SIGKILLs of its sender: nothing lost, at most one duplicate per kill, each one marked uncertain`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-digest-kill-'));
  dirs.push(dir);
  const instance = await instanceEnv(dir);
  const ctx = await createContext(loadConfig({ ...instance, LOG_LEVEL: 'silent', NODE_ENV: 'test' }), createLogger('silent'));

  // Count by Message-ID (stable per recipient): headers only, ten thousand messages are not parsed in full.
  const copies = new Map<string, number>();
  const envelopeTo = new Map<string, string>();
  let received = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  const smtp = await startSmtpServer({
    keep: false,
    onMessage: (message) => {
      const id = headerOf(message.raw, 'Message-ID') ?? '';
      copies.set(id, (copies.get(id) ?? 0) + 1);
      envelopeTo.set(id, message.to.join(','));
      received += 1;
      if (waiter !== undefined && received >= waiter.target) waiter.resolve();
    },
  });

  try {
    const subscribers = await seedSubscribers(ctx.database, RECIPIENTS);
    const runId = await seedRun(ctx.database, subscribers);
    const env = { ...process.env, ...instance, SMTP_URL: smtp.url, BASE_URL: 'https://paperboy.test', DIGEST_SEND_RATE: '100000', DIGEST_UNCERTAIN: 'resend' };
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [WORKER, dir, String(runId), String(LEASE_MS)], { stdio: ['ignore', 'pipe', 'inherit'], env });
      children.push(child);
      return child;
    };

    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = start();
      const exited = once(child, 'exit');
      // Most kills land while messages flow, after a random number of them; some at a random
      // moment that may fall in start-up, lease recovery or the wait for a lease to run out.
      const byTime = Math.random() < 0.25;
      const progress = byTime
        ? sleep(20 + Math.random() * 600)
        : new Promise<void>((resolve) => (waiter = { target: received + 1 + Math.floor(Math.random() * 300), resolve }));
      await Promise.race([progress, exited]);
      waiter = undefined;
      // Half the time at once: the server has the message, the worker has not recorded it.
      if (Math.random() < 0.5) await sleep(Math.random() * 3);
      assert.equal(child.exitCode, null, `worker ${k} finished the run before its kill`);
      child.kill('SIGKILL');
      await exited;
      killedAt.push(received);
    }
    assert.ok(killedAt[KILLS - 1] !== undefined && killedAt[KILLS - 1]! < RECIPIENTS, `the kills spread over the run: ${killedAt.join(', ')}`);

    const last = start();
    let output = '';
    last.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(last, 'exit')) as [number | null];
    assert.equal(code, 0, 'the last worker finished the run');
    assert.deepEqual(JSON.parse(output), { sent: RECIPIENTS, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });

    // Every recipient got the digest, each under its own Message-ID, to its own address.
    const byId = new Map(subscribers.map((s) => [`<digest-${runId}-${s.id}@paperboy.test>`, s]));
    assert.equal(copies.size, RECIPIENTS, 'one Message-ID per recipient, none missing');
    for (const [id, subscriber] of byId) {
      assert.ok((copies.get(id) ?? 0) >= 1, `${id} was never received`);
      assert.equal(envelopeTo.get(id), subscriber.email);
    }
    const duplicates = [...copies].filter(([, n]) => n > 1);
    assert.equal(received - RECIPIENTS, duplicates.reduce((n, [, c]) => n + c - 1, 0));
    assert.ok(received - RECIPIENTS <= KILLS, `${received - RECIPIENTS} duplicates for ${KILLS} kills`);

    // The ledger: everything sent; a row may carry an uncertain mark only from a kill, and
    // every duplicate is on such a row.
    const ledger = await rows<{ subscriber_id: number; status: string; uncertain_at: string | null }>(
      ctx.database,
      sql`SELECT subscriber_id, status, uncertain_at FROM digest_deliveries WHERE run_id = ${runId}`,
    );
    assert.equal(ledger.length, RECIPIENTS);
    assert.equal(ledger.filter((r) => r.status === 'sent').length, RECIPIENTS);
    const uncertain = new Set(ledger.filter((r) => r.uncertain_at !== null).map((r) => `<digest-${runId}-${r.subscriber_id}@paperboy.test>`));
    assert.ok(uncertain.size <= KILLS, `${uncertain.size} uncertain rows for ${KILLS} kills`);
    for (const [id] of duplicates) assert.ok(uncertain.has(id), `the duplicate ${id} is marked uncertain`);
    t.diagnostic(`kills after ${killedAt.join(', ')} messages; ${received - RECIPIENTS} duplicates, ${uncertain.size} uncertain rows`);
    const [run] = await rows<{ status: string }>(ctx.database, sql`SELECT status FROM digest_runs WHERE id = ${runId}`);
    assert.equal(run?.status, 'done');
  } finally {
    await smtp.close();
    await ctx.database.close();
  }
});
