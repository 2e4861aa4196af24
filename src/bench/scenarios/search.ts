/**
 * Keyword search latency: a database of N synthetic papers, built once through
 * the real CLI (`paperboy import FILE`) and kept under bench-out/db/ so reruns
 * skip the import, then 200 mixed 1–5-word queries run in-process through
 * `searchKeyword` the way the search page runs them.
 *
 * With `--engine postgres` the papers are imported into the scenario's schema
 * (every run) and the queries run on this process's derived FTS5 file
 * (docs/decisions/009-server-mode-search.md), which the scenario builds from
 * scratch and times; it also times how long a committed write takes to reach
 * the file through the background sync.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase, type Database, type DatabaseLocation } from '../../db/connection.js';
import { catchUpKeywordIndex, keywordIndexStatus } from '../../db/keyword-index.js';
import type { DB } from '../../db/schema.js';
import { MATCH_WINDOW, searchKeyword } from '../../search/keyword.js';
import { ensureCorpus, profileSuffix, type Corpus } from '../corpus.js';
import { GENERATOR_VERSION, generateQueries, type CorpusProfileName } from '../generate.js';
import { dirSize, formatBytes, formatCount, formatDuration, runMeasured } from '../measure.js';
import { benchDatabase, type Scenario, type ScenarioOptions, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { parseSummary } from './import.js';

/** SPEC section 9: keyword search latency at 1M papers, in ms. */
const TARGETS = { p50: 10, p95: 50, p99: 150 } as const;
const TARGET_PAPERS = 1_000_000;

const QUERY_COUNT = 200;
const WARMUP_COUNT = 20;
const LIMIT = 20;
/** Written into the database directory after a successful import; its absence means "rebuild". */
const MARKER = 'bench-complete.json';

const PROGRESS_LINE = /^progress\s+(\d+)\s+records\b/;
/** Writes timed from commit to the derived index (server mode). */
const LAG_WRITES = 50;

/** What the marker file records about the import that built the database. */
export interface BuildMarker {
  generatorVersion: number;
  papers: number;
  seed: number;
  /** Absent in markers written before corpus profiles existed: those are `default`. */
  profile?: CorpusProfileName;
  corpus: string;
  corpusBytes: number;
  imported: number;
  importMs: number;
  finishedAt: string;
}

/** One query's timing in one pass. */
export interface QueryTiming {
  query: string;
  ms: number;
  /** Total matches, counted up to the match window (null in the no-count pass). */
  total: number | null;
  /** More matches than `total` (the count stopped at the match window). */
  totalIsLowerBound: boolean;
  /** Set when only the newest N matches were ranked (more matches than the window). */
  rankedNewest: number | null;
  hits: number;
  problem?: string;
}

/** Percentiles of one pass, in ms. */
export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** p50/p95/p99/max/mean of a list of timings. */
export function summarize(ms: readonly number[]): LatencySummary {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

export const fmtMs = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`);

/** The database directory for a corpus size, seed and profile (no suffix for the default profile). */
export function searchDbDir(outDir: string, papers: number, seed: number, profile: CorpusProfileName = 'default'): string {
  return join(outDir, 'db', `search-n${papers}-s${seed}${profileSuffix(profile)}`);
}

async function readMarker(dir: string, papers: number, seed: number, profile: CorpusProfileName): Promise<BuildMarker | null> {
  const path = join(dir, MARKER);
  if (!existsSync(path) || !existsSync(join(dir, 'paperboy.db'))) return null;
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as BuildMarker;
    const sameProfile = (m.profile ?? 'default') === profile;
    return m.generatorVersion === GENERATOR_VERSION && m.papers === papers && m.seed === seed && sameProfile ? m : null;
  } catch {
    return null;
  }
}

/** A scenario's database, and how `paperboy` processes of the instance reach it. */
export interface BenchInstance {
  /**
   * SQLite: the cached database's directory (bench-out/db/). PostgreSQL: a
   * fresh directory under bench-out/tmp/ for what processes derive from the
   * database (their keyword index files).
   */
  dir: string;
  location: DatabaseLocation;
  /** PAPERBOY_DATA_DIR, and DATABASE_URL on PostgreSQL, for the instance's child processes. */
  env: Record<string, string>;
  marker: BuildMarker;
  /** Imported by this run (always on PostgreSQL: the schema is not cached between runs). */
  built: boolean;
  /** PostgreSQL: drops the schema and the directory, unless --keep-data. SQLite: keeps the cache. */
  release(): Promise<void>;
}

function markerFor(
  opts: ScenarioOptions,
  corpus: Corpus,
  imported: { imported: number; ms: number },
  profile: CorpusProfileName,
): BuildMarker {
  return {
    generatorVersion: GENERATOR_VERSION,
    papers: opts.papers,
    seed: opts.seed,
    ...(profile === 'default' ? {} : { profile }),
    corpus: corpus.path,
    corpusBytes: corpus.bytes,
    imported: imported.imported,
    importMs: imported.ms,
    finishedAt: new Date().toISOString(),
  };
}

/**
 * The corpus in a database on the engine of `opts`, imported with the real
 * `paperboy import`. SQLite: reuses the cached database for these papers and
 * seed (shared by the search and pages scenarios), or builds it. PostgreSQL:
 * imports into the schema bench_<scenario>, emptied first, on every run.
 */
export async function ensureDatabase(
  opts: ScenarioOptions,
  corpus: Corpus,
  scenario: string,
  profile: CorpusProfileName = 'default',
): Promise<BenchInstance | { dir: string; error: string }> {
  if (opts.engine === 'postgres') {
    const dir = join(opts.outDir, 'tmp', `${scenario}-postgres-n${opts.papers}-s${opts.seed}${profileSuffix(profile)}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const bench = await benchDatabase(opts, scenario, dir);
    const release = async (): Promise<void> => {
      if (opts.keepData) return;
      await bench.drop();
      await rm(dir, { recursive: true, force: true });
    };
    const imported = await importCorpus(opts, corpus, bench.env);
    if ('error' in imported) {
      await release();
      return { dir, error: imported.error };
    }
    return { dir, location: bench.location, env: bench.env, marker: markerFor(opts, corpus, imported, profile), built: true, release };
  }
  const dir = searchDbDir(opts.outDir, opts.papers, opts.seed, profile);
  const location: DatabaseLocation = { engine: 'sqlite', file: join(dir, 'paperboy.db') };
  const sqlite = { dir, location, env: { PAPERBOY_DATA_DIR: dir }, release: async () => {} };
  const existing = await readMarker(dir, opts.papers, opts.seed, profile);
  if (existing) {
    opts.log(`reusing database ${dir} (imported ${existing.finishedAt})`);
    return { ...sqlite, marker: existing, built: false };
  }
  // Whatever is there is unfinished (no marker): start over.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const imported = await importCorpus(opts, corpus, sqlite.env);
  if ('error' in imported) return { dir, error: imported.error };
  const marker = markerFor(opts, corpus, imported, profile);
  await writeFile(join(dir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  return { ...sqlite, marker, built: true };
}

/** `paperboy import` of the corpus into the instance `env` points at. */
async function importCorpus(
  opts: ScenarioOptions,
  corpus: Corpus,
  env: Record<string, string>,
): Promise<{ imported: number; ms: number } | { error: string }> {
  opts.log(`building database: paperboy import ${corpus.path} (${env.DATABASE_URL === undefined ? `data dir ${env.PAPERBOY_DATA_DIR ?? ''}` : opts.engine})`);
  let lastLog = 0;
  const child = await runMeasured(process.execPath, ['bin/paperboy.js', 'import', corpus.path], {
    cwd: opts.root,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn', PAPERBOY_PROGRESS: 'plain' },
    onStderrLine: ({ t, line }) => {
      const m = PROGRESS_LINE.exec(line);
      if (m && t - lastLog >= 10_000) {
        lastLog = t;
        opts.log(`  import: ${formatCount(Number(m[1]))} records after ${formatDuration(t)}`);
      }
    },
  });
  const counts = parseSummary(child.stdout);
  if (child.exitCode !== 0 || counts === null) {
    const tail = child.stderrLines.filter((l) => !PROGRESS_LINE.test(l.line)).slice(-10).map((l) => l.line);
    return { error: `import failed (exit ${child.exitCode ?? child.signal}): ${tail.join(' / ')}` };
  }
  opts.log(`imported ${formatCount(counts.imported)} papers in ${formatDuration(child.wallMs)}`);
  return { imported: counts.imported, ms: child.wallMs };
}

/** Server mode's index: built from scratch (timed), then how long commits take to reach it in the background. */
interface DerivedIndexRun {
  papers: number;
  buildMs: number;
  /** Commit to applied by the background sync, no search asking. */
  lag: LatencySummary;
}

async function buildDerivedIndex(database: Database, opts: ScenarioOptions): Promise<{ papers: number; buildMs: number }> {
  opts.log('building the derived keyword index from PostgreSQL');
  const t0 = process.hrtime.bigint();
  await catchUpKeywordIndex(database);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const papers = (await keywordIndexStatus(database)).papers ?? 0;
  opts.log(`built: ${formatCount(papers)} papers in ${formatDuration(buildMs)}`);
  return { papers, buildMs };
}

async function insertProbe(db: Kysely<DB>, arxivId: string): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('papers')
    .values({
      arxiv_id: arxivId,
      version: 1,
      title: `Lag probe ${arxivId}`,
      title_text: `Lag probe ${arxivId}`,
      abstract: 'A paper written to time the derived keyword index.',
      abstract_text: null,
      authors_text: 'Bench',
      authors: '[]',
      versions: '[]',
      links: '[]',
      primary_category: 'cs.LG',
      categories: 'cs.LG',
      announced_on: now.slice(0, 10),
      announced_estimated: 0,
      withdrawn: 0,
      content_hash: arxivId,
      created_at: now,
      modified_at: now,
    })
    .execute();
}

/**
 * Writes LAG_WRITES papers through another connection pool, each at a random
 * point of the sync loop's period, and times each from its commit until the
 * index file has it (the status reads the file without syncing it).
 */
async function measureLag(database: Database, location: DatabaseLocation, opts: ScenarioOptions): Promise<LatencySummary> {
  opts.log(`timing ${LAG_WRITES} writes from commit to the derived index`);
  const writer = openDatabase(location);
  const lags: number[] = [];
  try {
    for (let i = 0; i < LAG_WRITES; i++) {
      const before = (await keywordIndexStatus(database)).papers ?? 0;
      await insertProbe(writer.db, `lag.${String(i).padStart(5, '0')}`);
      const committed = process.hrtime.bigint();
      while (((await keywordIndexStatus(database)).papers ?? 0) === before) {
        if (Number(process.hrtime.bigint() - committed) > 30e9) throw new Error('a write did not reach the derived index in 30 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      lags.push(Number(process.hrtime.bigint() - committed) / 1e6);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 500));
    }
  } finally {
    await writer.db.deleteFrom('papers').where('arxiv_id', 'like', 'lag.%').execute();
    await writer.close();
  }
  return summarize(lags);
}

export async function runPass(database: Database, queries: readonly string[], count: boolean): Promise<QueryTiming[]> {
  const out: QueryTiming[] = [];
  for (const query of queries) {
    const t0 = process.hrtime.bigint();
    const result = await searchKeyword(database, query, { limit: LIMIT, count });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    out.push({
      query,
      ms,
      total: result.total,
      totalIsLowerBound: result.totalIsLowerBound,
      rankedNewest: result.rankedNewest,
      hits: result.hits.length,
      ...(result.problem === undefined ? {} : { problem: result.problem }),
    });
  }
  return out;
}

function latencyRow(label: string, s: LatencySummary): string[] {
  return [label, String(s.n), fmtMs(s.p50), fmtMs(s.p95), fmtMs(s.p99), fmtMs(s.max), fmtMs(s.mean)];
}

function buildChecks(papers: number, s: LatencySummary): TargetCheck[] {
  const note =
    papers >= TARGET_PAPERS
      ? 'limit 20, snippets, total count'
      : `at ${formatCount(papers)} papers, target is for 1M: indicative only`;
  return (['p50', 'p95', 'p99'] as const).map((k) => ({
    metric: `keyword search ${k}`,
    target: `≤ ${TARGETS[k]} ms at 1M papers`,
    actual: fmtMs(s[k]),
    pass: Number.isNaN(s[k]) ? null : s[k] <= TARGETS[k],
    note,
  }));
}

/** The database the queries run on, and how to describe and release it. */
type Instance = {
  database: Database;
  dir: string;
  note(bytes: number): string;
  raw: Record<string, unknown>;
  close(): Promise<void>;
};

/**
 * SQLite: the cached database under bench-out/db/. PostgreSQL: the corpus
 * imported into the scenario's schema, and the derived index in the
 * instance's directory (both dropped afterwards unless --keep-data).
 */
async function openInstance(opts: ScenarioOptions, corpus: Corpus): Promise<Instance | { dir: string; error: string }> {
  const built = await ensureDatabase(opts, corpus, 'search');
  if ('error' in built) return built;
  const database = openDatabase(built.location, { dataDir: built.dir });
  const { dir, marker } = built;
  return {
    database,
    dir,
    note: (bytes) =>
      opts.engine === 'sqlite'
        ? `Database: ${formatBytes(bytes)} in ${dir}, ` +
          (built.built
            ? `built by this run (import took ${formatDuration(marker.importMs)}).`
            : `reused from ${marker.finishedAt} (delete the directory to rebuild).`)
        : `PostgreSQL schema bench_search, imported by this run in ${formatDuration(marker.importMs)}; ` +
          `the derived index file and data directory: ${formatBytes(bytes)} in ${dir}.`,
    raw: { build: marker, builtThisRun: built.built },
    close: async () => {
      await database.close();
      await built.release();
    },
  };
}

/** The `search` scenario. */
export const searchScenario: Scenario = {
  name: 'search',
  description: 'keyword search latency (p50/p95/p99) over 200 mixed queries on an imported corpus',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const corpus = await ensureCorpus(opts.outDir, opts.papers, opts.seed, opts.log);
    const params = { engine: opts.engine, papers: opts.papers, seed: opts.seed, corpus: corpus.path, queries: QUERY_COUNT, limit: LIMIT };
    const title =
      `Keyword search: ${formatCount(opts.papers)} synthetic papers, ${QUERY_COUNT} queries` +
      (opts.engine === 'postgres' ? ' (PostgreSQL, derived index)' : '');
    const instance = await openInstance(opts, corpus);
    if ('error' in instance) {
      return { scenario: 'search', title, params, checks: [], tables: [], notes: [instance.error], raw: { dbDir: instance.dir, error: instance.error }, ok: false };
    }
    // generateQueries draws queries one after another from one stream, so the
    // first 200 of 220 are exactly generateQueries(200, seed); the last 20,
    // different queries, warm the caches without flattering the measured ones.
    const all = generateQueries(QUERY_COUNT + WARMUP_COUNT, opts.seed);
    const queries = all.slice(0, QUERY_COUNT);
    const warmup = all.slice(QUERY_COUNT);

    const { database } = instance;
    let withCount: QueryTiming[];
    let noCount: QueryTiming[];
    let derived: DerivedIndexRun | null = null;
    let dbBytes: number;
    try {
      const build = database.engine === 'postgres' ? await buildDerivedIndex(database, opts) : null;
      opts.log(`warm-up: ${warmup.length} queries`);
      await runPass(database, warmup, true);
      opts.log(`measuring: ${queries.length} queries with total count`);
      withCount = await runPass(database, queries, true);
      opts.log(`measuring: ${queries.length} queries without total count`);
      noCount = await runPass(database, queries, false);
      if (build !== null) derived = { ...build, lag: await measureLag(database, database.location, opts) };
      dbBytes = await dirSize(instance.dir);
    } finally {
      await instance.close();
    }

    const sWith = summarize(withCount.map((q) => q.ms));
    const sNo = summarize(noCount.map((q) => q.ms));
    const slowest = withCount
      .map((q, i) => ({ ...q, noCountMs: (noCount[i] as QueryTiming).ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5);
    const zeroHit = withCount.filter((q) => q.total === 0 && q.problem === undefined).length;
    const problems = withCount.filter((q) => q.problem !== undefined);
    const totals = withCount.map((q) => q.total ?? 0).sort((a, b) => a - b);
    const windowed = withCount.filter((q) => q.rankedNewest !== null).length;
    const lengths = [1, 2, 3, 4, 5].map((n) => queries.filter((q) => q.split(' ').length === n).length);

    const notes = [
      instance.note(dbBytes),
      `Queries: generateQueries(${QUERY_COUNT}, ${opts.seed}); words per query 1–5: ${lengths.join(' / ')}; ` +
        `${WARMUP_COUNT} other warm-up queries first, not measured.`,
      `Each query runs once per pass, in-process through searchKeyword (mode all, limit ${LIMIT}, snippets), ` +
        'timed with process.hrtime.bigint() around the call. The no-count pass runs second, on caches the first pass warmed.',
      `Matches per query (with count, counted up to the match window of ${formatCount(MATCH_WINDOW)}): ` +
        `median ${formatCount(percentile(totals, 50))}, p95 ${formatCount(percentile(totals, 95))}, ` +
        `max ${formatCount(totals[totals.length - 1] ?? 0)}; ${zeroHit} queries with no match, ` +
        `${problems.length} rejected by the query parser.`,
      `${windowed} queries matched more than ${formatCount(MATCH_WINDOW)} papers: their total is a lower bound and ` +
        `only their newest ${formatCount(MATCH_WINDOW)} matches were ranked (docs/decisions/007-search-latency.md).`,
    ];
    for (const p of problems) notes.push(`Rejected: \`${p.query}\`: ${p.problem ?? ''}`);

    return {
      scenario: 'search',
      title,
      params,
      checks: buildChecks(opts.papers, sWith),
      tables: [
        {
          title: 'Latency per query',
          headers: ['pass', 'queries', 'p50', 'p95', 'p99', 'max', 'mean'],
          rows: [latencyRow('with total count (search page)', sWith), latencyRow('without total count', sNo)],
        },
        ...(derived === null
          ? []
          : [
              {
                title: "Server mode: this process's derived keyword index",
                headers: ['what', 'measured'],
                rows: [
                  [
                    'full build from PostgreSQL',
                    `${formatCount(derived.papers)} papers in ${formatDuration(derived.buildMs)} ` +
                      `(${formatCount(Math.round(derived.papers / (derived.buildMs / 1000)))} papers/s)`,
                  ],
                  [
                    `commit → applied by the background sync (${derived.lag.n} writes)`,
                    `p50 ${fmtMs(derived.lag.p50)}, p95 ${fmtMs(derived.lag.p95)}, max ${fmtMs(derived.lag.max)}`,
                  ],
                ],
              },
            ]),
        {
          title: 'Slowest 5 queries (with count)',
          headers: ['query', 'words', 'ms', 'ms without count', 'matches'],
          rows: slowest.map((q) => [
            `\`${q.query}\``,
            String(q.query.split(' ').length),
            fmtMs(q.ms),
            fmtMs(q.noCountMs),
            q.total === null ? 'n/a' : `${q.totalIsLowerBound ? '> ' : ''}${formatCount(q.total)}`,
          ]),
        },
      ],
      notes,
      raw: {
        engine: opts.engine,
        dbDir: instance.dir,
        dbBytes,
        ...instance.raw,
        derivedIndex: derived,
        withCount: { summary: sWith, queries: withCount },
        noCount: { summary: sNo, queries: noCount },
      },
      ok: true,
    };
  },
};
