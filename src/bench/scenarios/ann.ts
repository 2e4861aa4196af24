/**
 * The ANN index alone (src/semantic/ann-index.ts): build time over N vectors,
 * top-20 query latency, and recall@20 against exact search on 200 queries, at
 * several search breadths (ef), and at the breadth a process would choose by
 * measuring recall on its own vectors (Calibration), so the parameters can be
 * checked on the vectors an instance really has.
 *
 * Vectors ($BENCH_ANN_VECTORS): `builtin` (default) embeds the synthetic
 * corpus with the built-in embedder, fitted on an even sample of it
 * ($BENCH_ANN_FIT_SAMPLE, default 10,000 papers); queries are half search
 * queries of the search bench, half papers' own vectors (what similar papers
 * asks). `synthetic` draws clustered random unit vectors instead (256
 * dimensions), for a quick run. Embedded vectors are cached under
 * bench-out/tmp/ so a rerun only builds and queries (delete
 * bench-out/tmp/ann-builtin-* to embed again).
 *
 * $BENCH_ANN_M and $BENCH_ANN_EF_ADD override the graph parameters.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AnnIndex, ANN_PARAMS, Calibration, ExactVectors, type AnnParams } from '../../semantic/ann-index.js';
import { builtinEmbedder, fitBuiltinModel, seededRandom } from '../../semantic/builtin.js';
import { documentText, normalize } from '../../semantic/embedder.js';
import { generateQueries, generateRecords } from '../generate.js';
import { formatCount, formatDuration } from '../measure.js';
import type { Scenario, ScenarioOptions, ScenarioResult, TargetCheck } from '../scenario.js';
import { summarize, type LatencySummary } from './search.js';

const QUERIES = 200;
const K = 20;
const BREADTHS = [64, 128, 256, ANN_PARAMS.expansionSearch, 512, 768, 1024, 1536, 2048].filter((b, i, all) => all.indexOf(b) === i).sort((a, b) => a - b);
const CHUNK = 2_000;
const SYNTHETIC_DIMS = 256;
const RECALL_TARGET = 0.95;

const fmtMs = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`);
const now = (): bigint => process.hrtime.bigint();
const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

interface VectorSet {
  dims: number;
  /** n × dims, row-major; row i is key i + 1. */
  matrix: Float32Array;
  queries: Float32Array[];
  source: string;
}

/** Unit vectors scattered around a few hundred topic centres. */
function syntheticVectors(n: number, seed: number): VectorSet {
  const d = SYNTHETIC_DIMS;
  const random = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: 300 }, () => normalize(Float32Array.from({ length: d }, gauss)));
  const draw = (): Float32Array => {
    const c = centres[Math.floor(random() * centres.length)] as Float32Array;
    return normalize(Float32Array.from(c, (x) => x + (1.2 * gauss()) / Math.sqrt(d)));
  };
  const matrix = new Float32Array(n * d);
  for (let i = 0; i < n; i++) matrix.set(draw(), i * d);
  return { dims: d, matrix, queries: Array.from({ length: QUERIES }, draw), source: 'synthetic: clustered random unit vectors (300 centres)' };
}

async function builtinVectors(opts: ScenarioOptions): Promise<VectorSet> {
  const n = opts.papers;
  const sampleSize = Math.min(n, Number(process.env.BENCH_ANN_FIT_SAMPLE ?? '') || 10_000);
  const cache = join(opts.outDir, 'tmp', `ann-builtin-n${n}-s${opts.seed}-f${sampleSize}`);
  const source = `built-in embedder (fitted on ${formatCount(sampleSize)} of the synthetic corpus): ${QUERIES / 2} search queries and ${QUERIES / 2} papers' own vectors`;
  if (existsSync(`${cache}.json`)) {
    const { dims } = JSON.parse(await readFile(`${cache}.json`, 'utf8')) as { dims: number };
    const floats = async (file: string): Promise<Float32Array> => {
      const bytes = await readFile(file);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    };
    const matrix = await floats(`${cache}.vectors.f32`);
    const q = await floats(`${cache}.queries.f32`);
    if (matrix.length !== n * dims) throw new Error(`${cache}.vectors.f32 does not hold ${n} × ${dims} floats: delete ${cache}.*`);
    opts.log(`vectors from ${cache}.*`);
    return { dims, matrix, queries: Array.from({ length: q.length / dims }, (_, i) => q.slice(i * dims, (i + 1) * dims)), source };
  }
  const step = Math.max(1, Math.floor(n / sampleSize));
  const sample: string[] = [];
  let i = 0;
  for (const r of generateRecords({ count: n, seed: opts.seed })) {
    if (i++ % step === 0 && sample.length < sampleSize) sample.push(documentText(r.title, r.abstract));
  }
  opts.log(`fitting the built-in model on ${formatCount(sample.length)} papers`);
  const t0 = now();
  const model = fitBuiltinModel(sample);
  opts.log(`fitted in ${formatDuration(since(t0))} (${model.dimensions} dimensions)`);
  const embedder = builtinEmbedder(model, 'bench');
  const d = model.dimensions;
  opts.log(`embedding ${formatCount(n)} papers`);
  const matrix = new Float32Array(n * d);
  const t1 = now();
  let batch: string[] = [];
  let row = 0;
  const flush = async (): Promise<void> => {
    for (const v of await embedder.embed(batch, 'document')) matrix.set(v, d * row++);
    batch = [];
  };
  for (const r of generateRecords({ count: n, seed: opts.seed })) {
    batch.push(documentText(r.title, r.abstract));
    if (batch.length === 1_000) await flush();
  }
  await flush();
  opts.log(`embedded in ${formatDuration(since(t1))} (${Math.round(n / (since(t1) / 1000))} papers/s)`);
  const searchQueries = await embedder.embed(generateQueries(QUERIES / 2, opts.seed + 1), 'query');
  const random = seededRandom(opts.seed);
  const paperQueries = Array.from({ length: QUERIES - searchQueries.length }, () => {
    const r = Math.floor(random() * n);
    return matrix.slice(r * d, (r + 1) * d);
  });
  // A query of words the model never saw embeds to zero: nothing to measure.
  const queries = [...searchQueries, ...paperQueries].filter((q) => q.some((x) => x !== 0));
  await mkdir(join(opts.outDir, 'tmp'), { recursive: true });
  const joined = new Float32Array(queries.length * d);
  queries.forEach((q, j) => joined.set(q, j * d));
  await writeFile(`${cache}.vectors.f32`, new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength));
  await writeFile(`${cache}.queries.f32`, new Uint8Array(joined.buffer));
  // Last, so a run cut short is never mistaken for a complete cache.
  await writeFile(`${cache}.json`, JSON.stringify({ dims: d, papers: n, queries: queries.length }));
  return { dims: d, matrix, queries, source };
}

function envInt(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? '');
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export const annScenario: Scenario = {
  name: 'ann',
  description: 'ANN index alone: build time, top-20 latency and recall@20 against exact search at several search breadths',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const kind = process.env.BENCH_ANN_VECTORS === 'synthetic' ? 'synthetic' : 'builtin';
    const params: AnnParams = { ...ANN_PARAMS, connectivity: envInt('BENCH_ANN_M', ANN_PARAMS.connectivity), expansionAdd: envInt('BENCH_ANN_EF_ADD', ANN_PARAMS.expansionAdd) };
    const title = `ANN index: ${formatCount(opts.papers)} vectors (${kind})`;
    const set = kind === 'synthetic' ? syntheticVectors(opts.papers, opts.seed) : await builtinVectors(opts);
    const { dims: d, matrix, queries } = set;
    const n = matrix.length / d;
    const entries = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, j) => ({ paperId: from + j + 1, vector: matrix.subarray((from + j) * d, (from + j + 1) * d) }));

    opts.log(`building the graph over ${formatCount(n)} vectors (M ${params.connectivity}, ef_add ${params.expansionAdd}, ${params.quantization}, all cores)`);
    const index = AnnIndex.create(d, params);
    const t0 = now();
    for (let i = 0; i < n; i += CHUNK) {
      index.upsert(entries(i, Math.min(n, i + CHUNK)), 0);
      if ((i / CHUNK) % 50 === 49) opts.log(`  ${formatCount(i + CHUNK)} vectors, ${formatDuration(since(t0))}`);
    }
    const buildMs = since(t0);
    const rss = process.memoryUsage().rss;
    opts.log(`built in ${formatDuration(buildMs)}`);

    opts.log(`exact top-${K} of ${queries.length} queries`);
    const exact = new ExactVectors(d);
    for (let i = 0; i < n; i += CHUNK) exact.upsert(entries(i, Math.min(n, i + CHUNK)));
    const exactTimes: number[] = [];
    const truth = queries.map((q) => {
      const t = now();
      const ids = new Set(exact.search(q, K).map((x) => x.paperId));
      exactTimes.push(since(t));
      return ids;
    });

    const rows: { breadth: number; recall: number; latency: LatencySummary }[] = [];
    for (const breadth of BREADTHS) {
      index.breadth = breadth;
      for (const q of queries.slice(0, 20)) index.search(q, K);
      const times: number[] = [];
      let hits = 0;
      queries.forEach((q, i) => {
        const t = now();
        const found = index.search(q, K);
        times.push(since(t));
        hits += found.filter((x) => truth[i]?.has(x.paperId)).length;
      });
      rows.push({ breadth, recall: hits / (queries.length * K), latency: summarize(times) });
      opts.log(`ef ${breadth}: recall@${K} ${(hits / (queries.length * K)).toFixed(3)}`);
    }
    // What a process does with these vectors: measure recall on 32 of them and pick the breadth.
    opts.log('calibrating the search breadth as a process does');
    const calibration = new Calibration(d);
    for (let i = 0; i < n; i += CHUNK) calibration.observe(entries(i, Math.min(n, i + CHUNK)));
    await calibration.tune(index);
    const calibrated = { breadth: index.breadth, probeRecall: index.recall ?? Number.NaN };
    const times: number[] = [];
    let hits = 0;
    queries.forEach((q, i) => {
      const t = now();
      const found = index.search(q, K);
      times.push(since(t));
      hits += found.filter((x) => truth[i]?.has(x.paperId)).length;
    });
    const chosen = { breadth: calibrated.breadth, recall: hits / (queries.length * K), latency: summarize(times) };
    opts.log(`calibrated ef ${chosen.breadth} (recall on its probes ${calibrated.probeRecall.toFixed(3)}): recall@${K} ${chosen.recall.toFixed(3)} on the bench queries`);
    const exactSummary = summarize(exactTimes);
    const checks: TargetCheck[] = [
      { metric: `recall@${K} against exact (calibrated ef ${chosen.breadth})`, target: `≥ ${RECALL_TARGET}`, actual: chosen.recall.toFixed(3), pass: chosen.recall >= RECALL_TARGET },
      { metric: `ANN query p95 (top-${K}, calibrated ef ${chosen.breadth})`, target: 'informational', actual: fmtMs(chosen.latency.p95), pass: null },
    ];
    return {
      scenario: 'ann',
      title,
      params: { papers: opts.papers, seed: opts.seed, vectors: kind, dimensions: d, connectivity: params.connectivity, expansionAdd: params.expansionAdd, quantization: params.quantization, queries: queries.length },
      checks,
      tables: [
        {
          title: `Search breadth: recall@${K} and latency (one thread, in-process)`,
          headers: ['ef', `recall@${K}`, 'p50', 'p95', 'p99', 'max'],
          rows: [
            ...rows.map((r) => [String(r.breadth), r.recall.toFixed(3), fmtMs(r.latency.p50), fmtMs(r.latency.p95), fmtMs(r.latency.p99), fmtMs(r.latency.max)]),
            [`${chosen.breadth} (calibrated)`, chosen.recall.toFixed(3), fmtMs(chosen.latency.p50), fmtMs(chosen.latency.p95), fmtMs(chosen.latency.p99), fmtMs(chosen.latency.max)],
            ['exact', '1.000', fmtMs(exactSummary.p50), fmtMs(exactSummary.p95), fmtMs(exactSummary.p99), fmtMs(exactSummary.max)],
          ],
        },
        {
          title: 'Build',
          headers: ['what', 'value'],
          rows: [
            ['vectors', `${formatCount(n)} × ${d} (${set.source})`],
            ['graph', `M ${params.connectivity}, ef_add ${params.expansionAdd}, ${params.quantization}, inner product`],
            ['build time (all cores)', `${formatDuration(buildMs)} (${Math.round(n / (buildMs / 1000))} vectors/s)`],
            ['process RSS after the build (vectors as float32 included)', `${Math.round(rss / 1048576)} MiB`],
          ],
        },
      ],
      notes: [set.source],
      raw: { buildMs, rss, breadths: rows, calibrated: { ...calibrated, recall: chosen.recall, latency: chosen.latency }, exact: exactSummary, params },
      ok: true,
    };
  },
};
