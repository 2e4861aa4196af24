/**
 * Prometheus metrics at /metrics (METRICS_ENABLED=true): request latency per
 * route, the job queue, the keyword index's lag and the vector index's state
 * (size, recall, papers still without a vector), read from the database at
 * scrape time so every process reports the instance's queue as it is, plus
 * Node's process metrics. Each app has its own registry: tests build several
 * apps in one process, and the global registry would refuse a second metric
 * of the same name.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { vectorCoverage } from '../db/vector-store.js';
import { keywordIndexStatus } from '../search/index-status.js';
import { vectorIndexStatus } from '../semantic/vector-index.js';

/** Seconds; from a cached page (milliseconds) to a slow search under load. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Builds the registry and adds the timing hook and the /metrics route to `app`. */
export function installMetrics(app: FastifyInstance, ctx: AppContext): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const latency = new Histogram({
    name: 'paperboy_http_request_duration_seconds',
    help: 'Time to answer a request, by route pattern, method and status class',
    labelNames: ['route', 'method', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, never the raw URL: one series per route, not per paper id or query.
    const route = req.routeOptions.url ?? 'unmatched';
    latency.observe({ route, method: req.method, status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
  });

  const jobs = new Gauge({
    name: 'paperboy_jobs',
    help: 'Jobs in the queue by status and type (failed: gave up after their last attempt); finished jobs are not counted',
    labelNames: ['status', 'type'],
    registers: [registry],
  });
  const indexLag = new Gauge({
    name: 'paperboy_search_index_lag_seconds',
    help: 'Seconds since the keyword index last matched the database (0 on SQLite, where it is written with each paper; -1: not built yet)',
    registers: [registry],
  });
  const indexPending = new Gauge({
    name: 'paperboy_search_index_pending_changes',
    help: 'Committed paper and featuring changes the keyword index has not applied yet',
    registers: [registry],
  });
  const indexCaughtUp = new Gauge({
    name: 'paperboy_search_index_caught_up',
    help: '1 when the keyword index is in step with the database (what /readyz checks)',
    registers: [registry],
  });

  const vectorSize = new Gauge({
    name: 'paperboy_vector_index_vectors',
    help: "Vectors in this process's index for search by meaning (0 before its first use)",
    registers: [registry],
  });
  const vectorRecall = new Gauge({
    name: 'paperboy_vector_index_recall',
    help: 'recall@20 of the HNSW graph against exact search, measured by this process on its own vectors (1 while search is exact)',
    registers: [registry],
  });
  const papersWithoutVector = new Gauge({
    name: 'paperboy_papers_without_vector',
    help: "Papers the active embedding model has not embedded yet (the embed job's backlog; every paper before the first model)",
    registers: [registry],
  });

  /** Reads what the database-backed gauges show, once per scrape. */
  const refresh = async (): Promise<void> => {
    const [rows, index, vectors] = await Promise.all([
      ctx.database.db
        .selectFrom('jobs')
        .select(['status', 'type', sql<number>`count(*)`.as('n')])
        .where('status', '!=', 'done')
        .groupBy(['status', 'type'])
        .execute(),
      keywordIndexStatus(ctx),
      vectorIndexStatus(ctx.database),
    ]);
    const coverage =
      vectors.modelId === null
        ? { vectors: 0, papers: Number((await ctx.database.db.selectFrom('papers').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n) }
        : await vectorCoverage(ctx.database, vectors.modelId);
    // Reset first, so a status or type with no jobs left drops out instead of repeating its last count.
    jobs.reset();
    for (const row of rows) jobs.set({ status: row.status, type: row.type }, Number(row.n));
    indexLag.set(index.lagSeconds);
    indexPending.set(index.pendingChanges);
    indexCaughtUp.set(index.caughtUp ? 1 : 0);
    vectorSize.set(vectors.size);
    vectorRecall.set(vectors.kind === 'hnsw' ? (vectors.recall ?? 0) : 1);
    papersWithoutVector.set(coverage.papers - coverage.vectors);
  };

  app.get('/metrics', async (_req, reply) => {
    await refresh();
    const text = await registry.metrics();
    return reply.type(registry.contentType).header('cache-control', 'no-store').send(text);
  });
}
