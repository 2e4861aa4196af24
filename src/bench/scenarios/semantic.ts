/**
 * Search by meaning at scale: the built-in model fitted on the instance's own
 * papers and every paper embedded (fit time, embedding throughput), the ANN
 * index build (before the model becomes active; by the first query when the
 * vectors come from an earlier run) and a second process loading the saved
 * index, then 200 mixed queries in hybrid and
 * semantic mode through `searchPapers` as the search page runs them, and the
 * similar papers of 200 papers (each asked once, so no cache answers).
 *
 * It uses the search scenario's database of the corpus profile
 * BENCH_SEMANTIC_PROFILE (bench-out/db/, built if missing; default `topical`,
 * where papers of a field share words, as real ones do: on `default` every
 * word is drawn regardless of the paper, so vectors spread evenly, the
 * hardest case for a nearest-neighbour graph) and leaves the vectors in it,
 * so a rerun measures queries only; delete the vectors (or the directory) to
 * time embedding again.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../../db/connection.js';
import { activeModel, vectorCoverage } from '../../db/vector-store.js';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { searchPapers, type SearchMode } from '../../search/search.js';
import { FIT_SAMPLE_MAX } from '../../semantic/builtin.js';
import { embedAll } from '../../semantic/jobs.js';
import { similarPapers } from '../../semantic/similar.js';
import { nearestPapers } from '../../semantic/vector-index.js';
import { embedQuery } from '../../semantic/models.js';
import { ensureCorpus } from '../corpus.js';
import { generateQueries, parseProfile } from '../generate.js';
import { formatCount, formatDuration } from '../measure.js';
import type { Scenario, ScenarioOptions, ScenarioResult, TargetCheck } from '../scenario.js';
import { ensureDatabase, summarize, type LatencySummary } from './search.js';

const QUERY_COUNT = 200;
const WARMUP_COUNT = 20;
const SIMILAR_COUNT = 200;
const LIMIT = 20;
const TARGET_PAPERS = 1_000_000;
const TARGETS = { hybrid: 100, similar: 20 } as const;

const fmtMs = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`);
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

function row(label: string, s: LatencySummary): string[] {
  return [label, String(s.n), fmtMs(s.p50), fmtMs(s.p95), fmtMs(s.p99), fmtMs(s.max)];
}

export const semanticScenario: Scenario = {
  name: 'semantic',
  description: 'built-in embedder fit and throughput, ANN index build and load, hybrid/semantic search and similar-papers latency',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const profile = parseProfile(process.env.BENCH_SEMANTIC_PROFILE || 'topical').name;
    const corpus = await ensureCorpus(opts.outDir, opts.papers, opts.seed, opts.log, profile);
    const params = { engine: opts.engine, papers: opts.papers, seed: opts.seed, profile, queries: QUERY_COUNT, similar: SIMILAR_COUNT, limit: LIMIT };
    const title = `Search by meaning: ${formatCount(opts.papers)} synthetic papers, profile ${profile} (${opts.engine})`;
    const built = await ensureDatabase(opts, corpus, 'search', profile);
    if ('error' in built) return { scenario: 'semantic', title, params, checks: [], tables: [], notes: [built.error], raw: { error: built.error }, ok: false };
    // A fresh directory for this process's index files, so the index is built (by the embed step or the first query) and timed.
    const indexDir = join(opts.outDir, 'tmp', `semantic-index-${opts.engine}`);
    await rm(indexDir, { recursive: true, force: true });
    const database = openDatabase(built.location, { dataDir: indexDir });
    const ctx = { config: loadConfig({ ...built.env, PAPERBOY_DATA_DIR: indexDir }), log: createLogger('warn'), database };
    try {
      opts.log('embedding: fitting the built-in model (if none) and embedding every paper without a vector');
      const t0 = process.hrtime.bigint();
      const embedded = await embedAll(ctx);
      const embedMs = ms(t0);
      const model = await activeModel(database);
      if (model === null) throw new Error(`no active model after embedding: ${embedded.planned}`);
      const coverage = await vectorCoverage(database, model.id);
      opts.log(`embedded ${formatCount(embedded.written)} papers in ${formatDuration(embedMs)} (${embedded.planned})`);

      // A model activated by this run had its index built and saved before activation; otherwise the first query builds it.
      opts.log(embedded.indexBuilt === null ? "building this process's ANN index (first query)" : 'first query on the index built before activation');
      const probe = await embedQuery(ctx, 'graph neural networks');
      if (probe === null) throw new Error('no query vector');
      const t1 = process.hrtime.bigint();
      await nearestPapers(database, model.id, probe.vector, 20);
      const annBuildMs = embedded.indexBuilt === null ? ms(t1) : embedded.indexBuilt.seconds * 1000;
      opts.log(`index ready in ${formatDuration(annBuildMs)}`);
      // What another process of this data directory (a second web process, a restart) pays: loading the saved file.
      await new Promise((resolve) => setImmediate(resolve)); // after a first-query build, its save is queued this way
      const second = openDatabase(built.location, { dataDir: indexDir });
      let loadMs: number;
      try {
        const t2 = process.hrtime.bigint();
        await nearestPapers(second, model.id, probe.vector, 20);
        loadMs = ms(t2);
      } finally {
        await second.close();
      }
      opts.log(`a second process's first query (loads the saved index) took ${formatDuration(loadMs)}`);

      const all = generateQueries(QUERY_COUNT + WARMUP_COUNT, opts.seed);
      const queries = all.slice(0, QUERY_COUNT);
      const timings: Record<SearchMode, number[]> = { keyword: [], semantic: [], hybrid: [] };
      for (const q of all.slice(QUERY_COUNT)) await searchPapers(ctx, q, { mode: 'hybrid', limit: LIMIT });
      for (const mode of ['hybrid', 'semantic', 'keyword'] as const) {
        opts.log(`measuring: ${queries.length} ${mode} queries`);
        for (const q of queries) {
          const t = process.hrtime.bigint();
          await searchPapers(ctx, q, { mode, limit: LIMIT });
          timings[mode].push(ms(t));
        }
      }
      opts.log(`measuring: similar papers of ${SIMILAR_COUNT} papers`);
      const ids = await database.db.selectFrom('papers').select('id').orderBy('id').execute();
      const step = Math.max(1, Math.floor(ids.length / SIMILAR_COUNT));
      const similar: number[] = [];
      for (let i = 0; i < ids.length && similar.length < SIMILAR_COUNT; i += step) {
        const t = process.hrtime.bigint();
        await similarPapers(ctx, ids[i]?.id ?? 0, 10);
        similar.push(ms(t));
      }
      const s = { hybrid: summarize(timings.hybrid), semantic: summarize(timings.semantic), keyword: summarize(timings.keyword), similar: summarize(similar) };
      const scale = opts.papers >= TARGET_PAPERS ? undefined : `at ${formatCount(opts.papers)} papers, target is for 1M: indicative only`;
      const checks: TargetCheck[] = [
        { metric: 'hybrid search p95', target: `≤ ${TARGETS.hybrid} ms at 1M papers`, actual: fmtMs(s.hybrid.p95), pass: s.hybrid.p95 <= TARGETS.hybrid, ...(scale ? { note: scale } : {}) },
        { metric: 'similar papers p95', target: `≤ ${TARGETS.similar} ms at 1M papers`, actual: fmtMs(s.similar.p95), pass: s.similar.p95 <= TARGETS.similar, ...(scale ? { note: scale } : {}) },
      ];
      const indexMs = (embedded.indexBuilt?.seconds ?? 0) * 1000;
      const rate = embedded.written > 0 ? Math.round(embedded.written / ((embedMs - indexMs) / 1000)) : null;
      return {
        scenario: 'semantic',
        title,
        params,
        checks,
        tables: [
          {
            title: 'Latency (in-process, limit 20)',
            headers: ['what', 'n', 'p50', 'p95', 'p99', 'max'],
            rows: [row('hybrid search', s.hybrid), row('semantic search', s.semantic), row('keyword search', s.keyword), row('similar papers (10)', s.similar)],
          },
          {
            title: 'Model and index',
            headers: ['what', 'value'],
            rows: [
              ['model', `${model.id} (${model.embedder}, ${model.dimensions} dimensions, fitted on a sample of at most ${formatCount(FIT_SAMPLE_MAX)} of ${formatCount(model.corpusSize)} papers)`],
              ['vectors', `${formatCount(coverage.vectors)} of ${formatCount(coverage.papers)} papers`],
              ['this run embedded', embedded.written > 0 ? `${formatCount(embedded.written)} papers in ${formatDuration(embedMs - indexMs)} (${rate ?? 0} papers/s, fit included)` : 'nothing (vectors from an earlier run)'],
              [
                embedded.indexBuilt === null ? 'first ANN index build of a process (first query)' : 'ANN index build and save before the model became active',
                formatDuration(annBuildMs),
              ],
              ['first query of a second process (loads the saved index)', formatDuration(loadMs)],
            ],
          },
        ],
        notes: [embedded.planned],
        raw: { embedMs, embedded, annBuildMs, loadMs, timings, similar, summaries: s },
        ok: true,
      };
    } finally {
      await database.close();
      await built.release();
      await rm(indexDir, { recursive: true, force: true });
    }
  },
};
