import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { harvestJob } from '../src/arxiv/jobs.js';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { enqueue, jobSpec } from '../src/jobs/queue.js';
import { createRegistry } from '../src/jobs/registry.js';
import { startWorker } from '../src/jobs/worker.js';
import { startArxivServer } from './support/arxiv-server.js';
import { instanceEnv } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

async function context(env: Record<string, string>): Promise<{ ctx: AppContext; lines: string[] }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ ...(await instanceEnv()), ARXIV_MIN_INTERVAL_MS: '0', ...env });
  const ctx = await createContext(config, pino({ level: 'info' }, sink));
  return { ctx, lines };
}

async function jobRow(ctx: AppContext, id: number) {
  return ctx.database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('offline, the harvest job fails softly: a warning, and a retry later by the queue', async () => {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));

  const { ctx, lines } = await context({ ARXIV_OAI_URL: `http://127.0.0.1:${port}/oai`, BASE_URL: 'http://offline.test' });
  const worker = startWorker(ctx, createRegistry(), { pollMs: 20, concurrency: 1 });
  try {
    const { id } = await enqueue(ctx.database.db, jobSpec(harvestJob, {}, { uniqueKey: 'harvest:offline-test' }));
    const row = await until('the failed attempt', async () => {
      const r = await jobRow(ctx, id);
      return r.attempts === 1 && r.status === 'queued' ? r : undefined;
    });
    assert.match(row.last_error ?? '', /cannot reach 127\.0\.0\.1:\d+: this machine seems to be offline/);
    assert.ok(row.run_at > Date.now() + 20_000, 'retried later, with backoff');
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    assert.ok(
      warnings.some((w) => /^harvest postponed: cannot reach/.test(w.msg)),
      `a warning says why: ${JSON.stringify(warnings.map((w) => w.msg))}`,
    );
  } finally {
    await worker.stop();
    await ctx.database.close();
  }
});

test('the worker runs a harvest job end to end', { skip: shared.skip }, async () => {
  const server = await startArxivServer({ sharedData: shared.dir, oaiPageSize: 4 });
  const { ctx } = await context({ ARXIV_OAI_URL: server.oaiUrl, ARXIV_CATEGORIES: 'hep-th', BASE_URL: 'http://worker.test' });
  const worker = startWorker(ctx, createRegistry(), { pollMs: 20, concurrency: 1 });
  try {
    const { id } = await enqueue(ctx.database.db, jobSpec(harvestJob, { from: '2017-12-01', until: '2017-12-31' }));
    const row = await until('the job to finish', async () => {
      const r = await jobRow(ctx, id);
      return r.status === 'done' || r.status === 'failed' ? r : undefined;
    });
    assert.equal(row.status, 'done', row.last_error ?? '');
    const result = JSON.parse(row.result ?? '{}') as { records: number; imported: number; sets: { set: string }[] };
    assert.equal(result.records, server.oaiRecords.length);
    assert.deepEqual(
      result.sets.map((s) => s.set),
      ['physics:hep-th'],
    );
    assert.equal(server.oaiRequests()[0]?.params['set'], 'physics:hep-th');
    const papers = await ctx.database.db.selectFrom('papers').select('arxiv_id').execute();
    assert.equal(papers.length, server.oaiRecords.length);
    assert.equal(server.requests[0]?.userAgent, 'Paperboy/0.1 (+http://worker.test)');
  } finally {
    await worker.stop();
    await ctx.database.close();
    await server.close();
  }
});
