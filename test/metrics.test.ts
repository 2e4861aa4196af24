/**
 * /metrics: off unless METRICS_ENABLED, then Prometheus text with request
 * latency per route pattern, the job queue and the keyword index's state.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { enqueue, jobSpec } from '../src/jobs/queue.js';
import { pruneJobsJob } from '../src/jobs/maintenance.js';
import { emptyApp, importedApp } from './support/app.js';

test('/metrics is not served unless METRICS_ENABLED=true', async () => {
  const t = await emptyApp();
  try {
    assert.equal((await t.app.inject('/metrics')).statusCode, 404);
  } finally {
    await t.close();
  }
});

test('/metrics: latency by route pattern, jobs by status and type, search index, process metrics', async () => {
  // Two apps in one process: each has its own registry, so the second does not clash with the first.
  const other = await emptyApp({ METRICS_ENABLED: 'true' });
  const t = await emptyApp({ METRICS_ENABLED: 'true' });
  try {
    await t.app.inject('/api/papers/search?q=graphene');
    await t.app.inject('/papers/2106.09685');
    await t.app.inject('/no/such/page/12345');
    await enqueue(t.ctx.database.db, jobSpec(pruneJobsJob, { olderThanDays: 7 }));
    await enqueue(t.ctx.database.db, jobSpec(pruneJobsJob, { olderThanDays: 8 }));

    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.match(
      text,
      /^paperboy_http_request_duration_seconds_count\{route="\/api\/papers\/search",method="GET",status="2xx"\} 1$/m,
    );
    // The pattern, not the id: one series however many papers are read.
    assert.match(text, /^paperboy_http_request_duration_seconds_count\{route="\/papers\/:id",method="GET",status="[24]xx"\} 1$/m);
    assert.match(text, /^paperboy_http_request_duration_seconds_count\{route="unmatched",method="GET",status="4xx"\} 1$/m);
    assert.ok(!text.includes('12345'), 'raw URLs never become labels');
    assert.match(text, /^paperboy_jobs\{status="queued",type="maintenance\.prune"\} 2$/m);
    assert.match(text, /^paperboy_search_index_caught_up [01]$/m);
    assert.match(text, /^paperboy_search_index_lag_seconds -?\d/m);
    assert.match(text, /^paperboy_search_index_pending_changes \d+$/m);
    // An empty instance: no model yet, nothing to embed.
    assert.match(text, /^paperboy_vector_index_vectors 0$/m);
    assert.match(text, /^paperboy_papers_without_vector 0$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);

    // The other app counted only its own requests.
    const otherText = (await other.app.inject('/metrics')).body;
    assert.ok(!otherText.includes('route="/api/papers/search"'));
  } finally {
    await t.close();
    await other.close();
  }
});

test('/metrics: the vector index after a search by meaning, and the embed backlog', async () => {
  const t = await importedApp({ METRICS_ENABLED: 'true' });
  try {
    const papers = Number((await t.ctx.database.db.selectFrom('papers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal((await t.app.inject('/api/papers/search?q=quantum+entanglement&mode=semantic')).statusCode, 200);
    let text = (await t.app.inject('/metrics')).body;
    assert.match(text, new RegExp(`^paperboy_vector_index_vectors ${papers}$`, 'm'), 'every paper is in the index once it is used');
    assert.match(text, /^paperboy_vector_index_recall (1|0\.9\d*)$/m);
    assert.match(text, /^paperboy_papers_without_vector 0$/m);
    // A paper whose abstract changes loses its vector until the embed job runs again.
    await t.ctx.database.db.updateTable('papers').set({ abstract: 'A changed abstract about graphene.' }).where('arxiv_id', '=', '0704.0001').execute();
    text = (await t.app.inject('/metrics')).body;
    assert.match(text, /^paperboy_papers_without_vector 1$/m);
  } finally {
    await t.close();
  }
});
