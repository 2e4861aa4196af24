/**
 * Page throughput: the daily feed (`/` and `/papers/date/<busiest recent day>`)
 * and paper pages (`/papers/<arxiv id>`, a different id on every request),
 * each loaded by autocannon with 50 connections.
 *
 * The database comes from the search scenario's ensureDatabase: on SQLite its
 * cached one (bench-out/db/search-n<N>-s<seed>/), built with `paperboy import`
 * when missing; on PostgreSQL the corpus imported into the schema bench_pages.
 * Setup opens it through
 * `createContext` (which applies pending migrations), runs the category rule
 * that features each day's new announcements, makes sure the benchmarked day
 * has at least a full page of papers, and samples the paper ids. The server
 * then runs as a child process, the real `paperboy serve --roles web`, so the
 * load generator (this process) and the server each have a core of their own
 * on a 2-core machine and the server's CPU time is measured on its own.
 *
 * Each route is measured with one web process and again with several on the
 * same instance (BENCH_PAGES_PROCESSES), the way an instance scales out: the
 * 50 connections are split over the processes, one autocannon per process,
 * run at the same time and their results merged.
 *
 * Knobs (environment): BENCH_PAGES_DURATION (measured seconds per route,
 * default 15), BENCH_PAGES_WARMUP (warm-up seconds, default 3),
 * BENCH_PAGES_ROUTES (comma list of front,day,paper; default all),
 * BENCH_PAGES_PROCESSES (comma list of web process counts, measured in that
 * order; default 1,2; a repeated count measures again in the same run, e.g.
 * 1,2,1,2,1,2 for medians without importing again on PostgreSQL),
 * BENCH_PAGES_CPU_PROF=1 (run the server under `node --cpu-prof`; profiles go
 * to bench-out/profiles/), BENCH_PAGES_LOG_LEVEL (server LOG_LEVEL, default warn).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { sql } from 'kysely';
import type { Database } from '../../db/connection.js';
import { applyCategoryRule, featurePaper } from '../../feeds/featuring.js';
import { digestAll } from '../../papers/digest.js';
import { latestFeaturedDay } from '../../feeds/feed.js';
import { addDays } from '../../feeds/periods.js';
import { ensureCorpus } from '../corpus.js';
import { cpuSeconds, formatBytes, formatCount, formatDuration, sampleMemory } from '../measure.js';
import { Rng, hash32 } from '../prng.js';
import type { ReportTable, Scenario, ScenarioOptions, ScenarioResult, TargetCheck } from '../scenario.js';
import { ensureDatabase, type BenchInstance } from './search.js';

/** SPEC section 9: page throughput at 50 connections on a 2-core machine. */
const CONNECTIONS = 50;
const TARGETS = {
  feed: { rps: 2000, p99: 50 },
  paper: { rps: 1500, p99: 50 },
} as const;
const TARGET_PAPERS = 1_000_000;

/** Cards on one feed page (feed-pages.ts PAGE_SIZE). */
const FULL_PAGE = 50;
/** A benchmark day with fewer papers than a full page is topped up to this many (curator featuring). */
const TOP_UP_TO = 200;
/** "Recent": the busiest day is picked among the featured days this close to the newest one. */
const RECENT_DAYS = 14;
/** Paper ids requested in rotation, sampled uniformly over the whole database. */
const PAPER_SAMPLE = 20_000;
/** Load-generator CPU (in cores) from which its own speed may cap the measured rate. */
const LOADGEN_SATURATED = 0.9;
/** autocannon threads for a fixed path, shared by the processes' load generators (see `load`). */
const LOADGEN_THREADS = 2;
/** Web processes allowed in BENCH_PAGES_PROCESSES (more is pointless on the 2-core target machine). */
const MAX_PROCESSES = 8;
/** How long a web process may take to report ready: on PostgreSQL it first builds its keyword index (~3 min at 1M). */
const READY_TIMEOUT_MS = 20 * 60_000;
/** Who the top-up featuring is credited to. */
const BENCH_CURATOR = 'bench';


type RouteKey = 'front' | 'day' | 'paper';
const ROUTE_KEYS: readonly RouteKey[] = ['front', 'day', 'paper'];

interface Settings {
  durationS: number;
  warmupS: number;
  routes: RouteKey[];
  /** Web process counts to measure every route with, in order (repeats allowed). */
  processes: number[];
  cpuProf: boolean;
  logLevel: string;
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in ${min}..${max}, got "${raw}"`);
  return n;
}

function readSettings(): Settings {
  const rawRoutes = process.env.BENCH_PAGES_ROUTES;
  const routes =
    rawRoutes === undefined || rawRoutes === ''
      ? [...ROUTE_KEYS]
      : rawRoutes.split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of routes) {
    if (!ROUTE_KEYS.includes(r as RouteKey)) throw new Error(`BENCH_PAGES_ROUTES: unknown route "${r}" (use ${ROUTE_KEYS.join(',')})`);
  }
  const rawProcesses = process.env.BENCH_PAGES_PROCESSES || '1,2';
  const processes = rawProcesses.split(',').map((p) => p.trim()).filter(Boolean).map(Number);
  if (processes.length === 0 || processes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_PROCESSES)) {
    throw new Error(`BENCH_PAGES_PROCESSES must be a comma list of integers in 1..${MAX_PROCESSES}, got "${rawProcesses}"`);
  }
  return {
    durationS: envNumber('BENCH_PAGES_DURATION', 15, 1, 600),
    warmupS: envNumber('BENCH_PAGES_WARMUP', 3, 0, 120),
    routes: routes as RouteKey[],
    processes,
    cpuProf: process.env.BENCH_PAGES_CPU_PROF === '1',
    logLevel: process.env.BENCH_PAGES_LOG_LEVEL || 'warn',
  };
}

// --- The database -----------------------------------------------------------

/** What setup found and did, for the report. */
interface Fixture {
  categories: string[];
  migrations: string[];
  featuredByRule: number;
  featuredTotal: number;
  /** The newest featured day (what `/` shows) and its visible papers. */
  latest: { day: string; papers: number };
  /** The busiest featured day among the recent ones. */
  busiest: { day: string; papers: number };
  /** Papers featured by hand onto the latest day because it had less than a full page. */
  toppedUp: number;
  paperIds: string[];
  setupMs: number;
}

async function dayCount(database: Database, day: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM featured WHERE hidden_at IS NULL AND featured_on = ${day}`.execute(
    database.db,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Opens the database the way the server does, features announcements, makes
 * sure the benchmarked day holds at least a full page, and samples paper ids.
 */
async function prepareFixture(opts: ScenarioOptions, instance: BenchInstance, categories: string): Promise<Fixture> {
  const t0 = performance.now();
  const config = loadConfig({ ...instance.env, LOG_LEVEL: 'warn', ARXIV_CATEGORIES: categories });
  const ctx = await createContext(config);
  const migrations: string[] = [];
  try {
    const applied = await ctx.database.db.selectFrom('schema_migrations').select(['version', 'name']).orderBy('version').execute();
    migrations.push(...applied.map((m) => `${m.version} ${m.name}`));
    opts.log(`applying the category rule (${config.arxivCategories.join(', ')})`);
    const { featured } = await applyCategoryRule(ctx.database, config.arxivCategories);
    const database = ctx.database;
    const latestDay = await latestFeaturedDay(ctx.database);
    if (latestDay === null) throw new Error('no featured papers after the category rule: does the corpus have announced_on?');

    // A day with less than a full page does not exercise the feed page: give it
    // papers the way a curator would (featurePaper), announced on or before it.
    let toppedUp = 0;
    const before = await dayCount(database, latestDay);
    if (before < FULL_PAGE) {
      const { rows: candidates } = await sql<{ arxiv_id: string }>`SELECT p.arxiv_id FROM papers p
           LEFT JOIN featured f ON f.paper_id = p.id
           WHERE f.paper_id IS NULL AND p.withdrawn = 0 AND p.announced_on <= ${latestDay}
           ORDER BY p.announced_on DESC, p.id DESC LIMIT ${TOP_UP_TO - before}`.execute(database.db);
      for (const { arxiv_id: arxivId } of candidates) {
        await featurePaper(ctx.database, { arxivId, on: latestDay, source: 'curator', by: BENCH_CURATOR });
        toppedUp++;
      }
      opts.log(`${latestDay} had ${before} featured papers: featured ${toppedUp} more on it as curator "${BENCH_CURATOR}"`);
    }
    const latest = { day: latestDay, papers: await dayCount(database, latestDay) };
    const { rows: busiestRows } = await sql<{ day: string; papers: number }>`SELECT featured_on AS day, count(*) AS papers
         FROM featured WHERE hidden_at IS NULL AND featured_on > ${addDays(latestDay, -RECENT_DAYS)} AND featured_on <= ${latestDay}
         GROUP BY featured_on ORDER BY papers DESC, featured_on DESC LIMIT 1`.execute(database.db);
    const busiestRow = { day: busiestRows[0]?.day ?? latestDay, papers: Number(busiestRows[0]?.papers ?? 0) };
    const { rows: totalRows } = await sql<{ n: number }>`SELECT count(*) AS n FROM featured WHERE hidden_at IS NULL`.execute(database.db);
    const featuredTotal = Number(totalRows[0]?.n ?? 0);

    // Paper ids uniformly over the whole database, so requests spread over the
    // file like real traffic to old and new papers does, not one cached row.
    const { maxId } = await database.db
      .selectFrom('papers')
      .select((eb) => eb.fn.coalesce(eb.fn.max('id'), eb.lit(0)).as('maxId'))
      .executeTakeFirstOrThrow();
    const byId = async (id: number) =>
      (await database.db.selectFrom('papers').select('arxiv_id').where('id', '=', id).executeTakeFirst())?.arxiv_id;
    const rng = new Rng(hash32(opts.seed, 0x9a9e));
    const paperIds: string[] = [];
    const want = Math.min(PAPER_SAMPLE, opts.papers);
    for (let tries = 0; paperIds.length < want && tries < want * 4; tries++) {
      const id = await byId(rng.range(1, maxId));
      if (id !== undefined) paperIds.push(id);
    }
    // What the `papers.digest` job does in the background of a real instance;
    // done here so paper pages read stored digests (a one-time pass, ~3 min at 1M).
    const digestStart = performance.now();
    const digestsWritten = await digestAll(ctx.database);
    if (digestsWritten > 0) opts.log(`wrote ${digestsWritten} paper digests in ${((performance.now() - digestStart) / 1000).toFixed(0)} s`);
    return {
      categories: config.arxivCategories,
      migrations,
      featuredByRule: featured,
      featuredTotal,
      latest,
      busiest: busiestRow,
      toppedUp,
      paperIds,
      setupMs: performance.now() - t0,
    };
  } finally {
    await ctx.database.close();
  }
}

// --- The server -------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Server {
  child: ChildProcess;
  pid: number;
  url: string;
  stderrTail: string[];
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `paperboy serve --roles web` on `env`'s instance and waits until /readyz says it can take traffic. */
export async function startServer(
  opts: ScenarioOptions,
  env: Record<string, string>,
  categories: string[],
  settings: Pick<Settings, 'logLevel'>,
  profileDir: string | null,
): Promise<Server> {
  const port = await freePort();
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, 'bin/paperboy.js', 'serve', '--roles', 'web', '--port', String(port)], {
    cwd: opts.root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      // A throwaway key: production mode requires one, nothing is signed in this run.
      SECRET_KEY: randomBytes(32).toString('hex'),
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
      ARXIV_CATEGORIES: categories.join(','),
      LOG_LEVEL: settings.logLevel,
      HARVEST_ENABLED: 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) {
    await new Promise((_, reject) => child.once('error', reject));
    throw new Error('could not start the server');
  }
  const pid = child.pid;
  const stderrTail: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      stderrTail.push(line);
      if (stderrTail.length > 50) stderrTail.shift();
    }
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const url = `http://127.0.0.1:${port}`;
  // /readyz rather than /healthz: on PostgreSQL a new web process builds its
  // keyword index in the background first, which would take a core from the
  // measurement (on SQLite it is ready as soon as it listens).
  const t0 = Date.now();
  let lastLog = t0;
  for (;;) {
    if (exitedEarly) throw new Error(`the server exited during start-up: ${stderrTail.slice(-10).join(' / ')}`);
    try {
      const res = await fetch(`${url}/readyz`);
      const body = await res.text();
      if (res.ok) break;
      if (Date.now() - lastLog >= 30_000) {
        lastLog = Date.now();
        opts.log(`  web process ${pid} not ready after ${formatDuration(lastLog - t0)}: ${body}`);
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() - t0 > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within ${formatDuration(READY_TIMEOUT_MS)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    pid,
    url,
    stderrTail,
    async stop() {
      if (!exitedEarly) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

// --- Load -------------------------------------------------------------------

interface RouteSpec {
  key: RouteKey;
  label: string;
  /** The path shown in the report (`/papers/<id>` for the rotating one). */
  display: string;
  /** Paths requested in rotation (one for a fixed route). */
  paths: string[];
  target: { rps: number; p99: number };
  kind: 'feed' | 'paper';
}

/** One response fetched before the load, to check the page is what we think it is. */
interface Probe {
  status: number;
  bytes: number;
  cards: number;
  etag: boolean;
}

async function probe(url: string): Promise<Probe> {
  const res = await fetch(url);
  const body = await res.text();
  return {
    status: res.status,
    bytes: Buffer.byteLength(body),
    cards: body.split('<article class="card"').length - 1,
    etag: res.headers.has('etag'),
  };
}

interface LoadResult {
  requests: number;
  durationS: number;
  /** autocannon's mean of the per-second request counts, summed over the processes' load generators. */
  rps: number;
  /** Each load generator's mean req/s and its standard deviation, one per web process. */
  perProcess: { rps: number; rpsStddev: number }[];
  /** Requests over wall time (includes the tail of requests in flight at the end). */
  rpsOverall: number;
  /**
   * With several processes each percentile is the worst of the load
   * generators': autocannon's worker threads hand back percentiles, not their
   * histograms, and a percentile of the merged requests is never above the
   * worst of the parts' (mean: over all requests).
   */
  latency: { p50: number; p90: number; p97_5: number; p99: number; max: number; mean: number };
  non2xx: number;
  status: Record<string, number>;
  errors: number;
  timeouts: number;
  bytesPerS: number;
  /** CPU of all web processes over the measured run, in cores (1.0 = one core busy all the time). */
  serverCores: number | null;
  /** Server CPU time per completed request, ms: unlike req/s, barely moved by other load on the machine. */
  serverCpuMsPerRequest: number | null;
  /** 1-minute load average after the run (the server and load generator account for about 2). */
  loadAverage: number;
  /** Load generator (this process) CPU over the measured run, in cores. */
  loadgenCores: number;
}

/** The CPU seconds of all `pids` together; null when one cannot be read. */
async function totalCpuSeconds(pids: readonly number[]): Promise<number | null> {
  const each = await Promise.all(pids.map(cpuSeconds));
  return each.some((c) => c === null) ? null : each.reduce<number>((a, c) => a + (c ?? 0), 0);
}

/**
 * Load generator `part` of `parts`: its share of the connections and, for a
 * rotating route, every `parts`-th path from `offset + part`, so together the
 * load generators walk the rotation the way one would.
 */
function loadOptions(base: string, paths: readonly string[], offset: number, part: number, parts: number): autocannon.Options {
  const connections = Math.floor(CONNECTIONS / parts) + (part < CONNECTIONS % parts ? 1 : 0);
  if (paths.length === 1) {
    // One load-generator thread tops out near 1,600 gzipped feed pages/s on
    // this machine while the server idles at a third of a core, so the
    // processes' load generators share LOADGEN_THREADS worker threads.
    return { url: `${base}${paths[0] as string}`, connections, workers: Math.max(1, Math.round(LOADGEN_THREADS / parts)) };
  }
  // Rotating paths need a function, which cannot cross into a worker, so the
  // paper route runs on this thread (it is server-bound anyway).
  let i = 0;
  return {
    url: base,
    connections,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => {
          req.path = paths[(offset + part + parts * i++) % paths.length] as string;
          return req;
        },
      },
    ],
  };
}

/** Loads `paths` on all `servers` at once, CONNECTIONS split over them, and merges the results. */
async function load(servers: readonly Server[], paths: readonly string[], seconds: number, offset: number): Promise<LoadResult> {
  const pids = servers.map((s) => s.pid);
  const cpu0 = await totalCpuSeconds(pids);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(
    servers.map((server, part) =>
      autocannon({
        ...loadOptions(server.url, paths, offset, part, servers.length),
        // Every browser sends Accept-Encoding; without it the load generator
        // spends its core parsing 130 kB bodies and sets the pace instead of the server.
        headers: { 'accept-encoding': 'gzip' },
        duration: seconds,
        timeout: 10,
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = await totalCpuSeconds(pids);
  const own = process.cpuUsage(own0);
  const sum = (f: (r: autocannon.Result) => number): number => results.reduce((a, r) => a + f(r), 0);
  const worst = (f: (r: autocannon.Result) => number): number => Math.max(...results.map(f));
  const status: Record<string, number> = {};
  for (const r of results) {
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) status[code] = (status[code] ?? 0) + (s.count ?? 0);
  }
  const requests = sum((r) => r.requests.total);
  const durationS = worst((r) => r.duration);
  const serverCpuS = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  return {
    requests,
    durationS,
    rps: sum((r) => r.requests.average),
    perProcess: results.map((r) => ({ rps: r.requests.average, rpsStddev: r.requests.stddev })),
    rpsOverall: requests / durationS,
    latency: {
      p50: worst((r) => r.latency.p50),
      p90: worst((r) => r.latency.p90),
      p97_5: worst((r) => r.latency.p97_5),
      p99: worst((r) => r.latency.p99),
      max: worst((r) => r.latency.max),
      mean: requests === 0 ? 0 : sum((r) => r.latency.mean * r.requests.total) / requests,
    },
    non2xx: sum((r) => r.non2xx),
    status,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    bytesPerS: sum((r) => r.throughput.average),
    serverCores: serverCpuS === null ? null : serverCpuS / wallS,
    serverCpuMsPerRequest: serverCpuS === null || requests === 0 ? null : (serverCpuS * 1000) / requests,
    loadAverage: os.loadavg()[0] ?? 0,
    loadgenCores: (own.user + own.system) / 1e6 / wallS,
  };
}

interface RouteRun {
  key: RouteKey;
  /** Web processes serving the route (the load split over them). */
  processes: number;
  label: string;
  path: string;
  distinctPaths: number;
  probe: Probe;
  result: LoadResult;
}

// --- Report -----------------------------------------------------------------

const fmtMs = (ms: number): string => `${ms} ms`;
const fmtRps = (n: number): string => `${formatCount(n)} req/s`;
const fmtCores = (c: number | null): string => (c === null ? 'n/a' : `${Math.round(c * 100)}%`);

function checksFor(run: RouteRun, spec: RouteSpec, papers: number): TargetCheck[] {
  const r = run.result;
  const scale = papers >= TARGET_PAPERS ? '' : `at ${formatCount(papers)} papers, target is for 1M: indicative only`;
  const notImplemented = run.probe.status === 404 && r.non2xx === r.requests && spec.kind === 'paper';
  const bad = r.non2xx + r.errors + r.timeouts;
  let problem: string | null = null;
  if (notImplemented) problem = 'every request got 404: the paper page is not implemented yet';
  else if (bad > 0) problem = `${formatCount(r.non2xx)} non-2xx, ${formatCount(r.errors)} errors, ${formatCount(r.timeouts)} timeouts`;
  const note = [problem, scale].filter(Boolean).join('; ');
  const verdict = (ok: boolean): boolean | null => (notImplemented ? null : bad > 0 ? false : ok);
  return [
    {
      metric: `${spec.label} throughput \`${spec.display}\``,
      target: `≥ ${formatCount(spec.target.rps)} req/s at ${CONNECTIONS} connections`,
      actual: fmtRps(r.rps),
      pass: verdict(r.rps >= spec.target.rps),
      ...(note ? { note } : {}),
    },
    {
      metric: `${spec.label} p99 latency \`${spec.display}\``,
      target: `≤ ${spec.target.p99} ms at ${CONNECTIONS} connections`,
      actual: fmtMs(r.latency.p99),
      pass: verdict(r.latency.p99 <= spec.target.p99),
      ...(note ? { note } : {}),
    },
  ];
}

/** req/s as mean ± sd for one process; the sum and each process's share for several. */
function fmtRpsCell(r: LoadResult): string {
  const [only] = r.perProcess;
  if (r.perProcess.length === 1 && only !== undefined) return `${formatCount(only.rps)} ± ${formatCount(only.rpsStddev)}`;
  return `${formatCount(r.rps)} (${r.perProcess.map((p) => formatCount(p.rps)).join(' + ')})`;
}

function routeTable(runs: RouteRun[]): ReportTable {
  // Grouped by route, so each route's process counts sit on adjacent rows.
  const sorted = [...runs].sort((a, b) => ROUTE_KEYS.indexOf(a.key) - ROUTE_KEYS.indexOf(b.key) || a.processes - b.processes);
  return {
    title: `Routes at ${CONNECTIONS} connections`,
    headers: [
      'route', 'web processes', 'page', 'req/s (1 process: mean ± sd; more: sum of each)', 'requests', 'p50', 'p97.5', 'p99', 'max',
      'non-2xx', 'errors', 'server CPU (all processes)', 'server CPU/request', 'one-core ceiling', 'load-gen CPU', 'load avg after', 'body',
    ],
    rows: sorted.map(({ label, path, processes, distinctPaths, probe: p, result: r }) => [
      `${label} \`${path}\`${distinctPaths > 1 ? ` (${formatCount(distinctPaths)} ids in rotation)` : ''}`,
      String(processes),
      p.status === 200 ? (p.cards > 0 ? `${p.cards} cards` : '200') : `HTTP ${p.status}`,
      fmtRpsCell(r),
      formatCount(r.requests),
      fmtMs(r.latency.p50),
      fmtMs(r.latency.p97_5),
      fmtMs(r.latency.p99),
      fmtMs(r.latency.max),
      r.non2xx === 0 ? '0' : `${formatCount(r.non2xx)} (${Object.entries(r.status).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}: ${formatCount(n)}`).join(', ')})`,
      `${r.errors} (${r.timeouts} timeouts)`,
      fmtCores(r.serverCores),
      r.serverCpuMsPerRequest === null ? 'n/a' : `${r.serverCpuMsPerRequest.toFixed(2)} ms`,
      r.serverCpuMsPerRequest === null || r.serverCpuMsPerRequest === 0 ? 'n/a' : `≈ ${formatCount(1000 / r.serverCpuMsPerRequest)} req/s`,
      fmtCores(r.loadgenCores),
      r.loadAverage.toFixed(1),
      formatBytes(p.bytes),
    ]),
  };
}

/** One measurement round: `processes` web processes started, every route loaded, stopped. */
interface Round {
  processes: number;
  runs: RouteRun[];
  peakRssBytes: number[];
  exits: { code: number | null; signal: string | null }[];
  stderrTails: string[][];
}

/**
 * Starts `processes` web processes on the instance and measures every route
 * on them. They share the instance's data directory as a deployment's do; on
 * PostgreSQL each claims a keyword index file of its own there, and takes back
 * one a process of an earlier round left, so only a process new to the run
 * builds one (which startServer waits for).
 */
async function measureRound(
  opts: ScenarioOptions,
  instance: BenchInstance,
  processes: number,
  specs: readonly RouteSpec[],
  categories: string[],
  settings: Settings,
  profileDir: string | null,
): Promise<Round> {
  const servers: Server[] = [];
  const memory: ReturnType<typeof sampleMemory>[] = [];
  const runs: RouteRun[] = [];
  const exits: Round['exits'] = [];
  try {
    for (let i = 0; i < processes; i++) {
      opts.log(`starting web process ${i + 1} of ${processes}: paperboy serve --roles web${profileDir ? ` under --cpu-prof (${profileDir})` : ''}`);
      const server = await startServer(opts, instance.env, categories, settings, profileDir);
      servers.push(server);
      memory.push(sampleMemory(server.pid, 500));
    }
    const on = `${processes} process${processes === 1 ? '' : 'es'}`;
    for (const spec of specs) {
      const p = await probe(`${(servers[0] as Server).url}${spec.paths[0] as string}`);
      opts.log(`${spec.display}: HTTP ${p.status}, ${formatBytes(p.bytes)}, ${p.cards} cards`);
      // The paper route warms up on the end of the rotation and is measured from its start,
      // so the measured requests do not replay the warm-up's rows.
      const warmOffset = Math.floor(spec.paths.length / 2);
      if (settings.warmupS > 0) {
        opts.log(`${spec.display} on ${on}: warm-up ${settings.warmupS} s`);
        await load(servers, spec.paths, settings.warmupS, warmOffset);
      }
      opts.log(`${spec.display} on ${on}: measuring ${settings.durationS} s at ${CONNECTIONS} connections`);
      const result = await load(servers, spec.paths, settings.durationS, 0);
      opts.log(
        `${spec.display} on ${on}: ${fmtRps(result.rps)}, p50 ${result.latency.p50} ms, p97.5 ${result.latency.p97_5} ms, ` +
          `p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, server CPU ${fmtCores(result.serverCores)}` +
          (result.serverCpuMsPerRequest === null ? '' : ` (${result.serverCpuMsPerRequest.toFixed(2)} ms/request)`),
      );
      runs.push({ key: spec.key, processes, label: spec.label, path: spec.display, distinctPaths: new Set(spec.paths).size, probe: p, result });
    }
  } finally {
    for (const server of servers) exits.push(await server.stop());
  }
  const peaks = await Promise.all(memory.map((m) => m.stop()));
  return { processes, runs, peakRssBytes: peaks.map((m) => m.peakBytes), exits, stderrTails: servers.map((s) => s.stderrTail) };
}

/** The `pages` scenario. */
export const pagesScenario: Scenario = {
  name: 'pages',
  description: 'daily feed page and paper page throughput (req/s, p50/p97.5/p99) at 50 connections with autocannon, on 1 and 2 web processes',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const settings = readSettings();
    const title =
      `Page throughput: ${formatCount(opts.papers)} synthetic papers, ${CONNECTIONS} connections` +
      (opts.engine === 'postgres' ? ' (PostgreSQL)' : '');
    const params: Record<string, string | number | boolean> = {
      engine: opts.engine,
      papers: opts.papers,
      seed: opts.seed,
      connections: CONNECTIONS,
      processes: settings.processes.join(','),
      durationS: settings.durationS,
      warmupS: settings.warmupS,
      serverLogLevel: settings.logLevel,
      cpuProf: settings.cpuProf,
    };
    const built = await ensureDatabase(opts, await ensureCorpus(opts.outDir, opts.papers, opts.seed, opts.log), 'pages');
    if ('error' in built) {
      return { scenario: 'pages', title, params, checks: [], tables: [], notes: [built.error], raw: { dbDir: built.dir, error: built.error }, ok: false };
    }
    const rounds: Round[] = [];
    let fixture: Fixture;
    const profileDir = settings.cpuProf ? join(opts.outDir, 'profiles', `pages-${Date.now()}`) : null;
    let specs: RouteSpec[];
    try {
      const categories = process.env.ARXIV_CATEGORIES || 'cs.AI,cs.CL,cs.CV,cs.LG,stat.ML';
      fixture = await prepareFixture(opts, built, categories);
      opts.log(
        `setup in ${formatDuration(fixture.setupMs)}: latest day ${fixture.latest.day} (${fixture.latest.papers} papers), ` +
          `busiest recent day ${fixture.busiest.day} (${fixture.busiest.papers} papers), ${formatCount(fixture.paperIds.length)} paper ids`,
      );
      const all: RouteSpec[] = [
        { key: 'front', label: 'daily feed (front page)', display: '/', paths: ['/'], target: TARGETS.feed, kind: 'feed' },
        {
          key: 'day',
          label: 'daily feed (busiest recent day)',
          display: `/papers/date/${fixture.busiest.day}`,
          paths: [`/papers/date/${fixture.busiest.day}`],
          target: TARGETS.feed,
          kind: 'feed',
        },
        {
          key: 'paper',
          label: 'paper page',
          display: '/papers/<arxiv id>',
          paths: fixture.paperIds.map((id) => `/papers/${id}`),
          target: TARGETS.paper,
          kind: 'paper',
        },
      ];
      specs = all.filter((s) => settings.routes.includes(s.key));
      if (profileDir) await mkdir(profileDir, { recursive: true });
      for (const processes of settings.processes) {
        rounds.push(await measureRound(opts, built, processes, specs, fixture.categories, settings, profileDir));
      }
    } finally {
      await built.release();
    }

    const runs = rounds.flatMap((r) => r.runs);
    // SPEC's targets are for the default configuration, one web process.
    const checks = runs
      .filter((run) => run.processes === 1)
      .flatMap((run) => checksFor(run, specs.find((s) => s.key === run.key) as RouteSpec, opts.papers));
    const database =
      opts.engine === 'sqlite'
        ? `Database: ${built.dir} (the search scenario's cache; ${built.built ? 'built by this run' : `imported ${built.marker.finishedAt}`})`
        : `Database: PostgreSQL schema bench_pages, imported by this run in ${formatDuration(built.marker.importMs)}`;
    const notes = [
      `${database}, migrations ${fixture.migrations.join(', ')}. Setup (category rule, top-up, id sample, digests) took ${formatDuration(fixture.setupMs)}; ` +
        `the category rule featured ${formatCount(fixture.featuredByRule)} papers this run, ${formatCount(fixture.featuredTotal)} are featured in all ` +
        `(ARXIV_CATEGORIES ${fixture.categories.join(',')}).`,
      `\`/\` shows the newest featured day, ${fixture.latest.day} (${fixture.latest.papers} papers); \`/papers/date/${fixture.busiest.day}\` is the ` +
        `busiest featured day of the ${RECENT_DAYS} days up to it (${fixture.busiest.papers} papers). Both use the default sort (trending), page 1 of ${FULL_PAGE} cards.` +
        (fixture.toppedUp > 0
          ? ` The synthetic corpus spreads this size thinly, so ${fixture.toppedUp} more papers (announced on or before ${fixture.latest.day}, ` +
            `not featured) were featured on ${fixture.latest.day} with featurePaper as curator "${BENCH_CURATOR}" to give it more than a full page.`
          : ''),
      `Paper pages: ${formatCount(fixture.paperIds.length)} ids sampled uniformly over all ${formatCount(opts.papers)} papers (seed ${opts.seed}), ` +
        'requested in rotation across all connections (autocannon setupRequest), so each request reads a different row.',
      `Server: \`paperboy serve --roles web\` in child processes (NODE_ENV=production, LOG_LEVEL=${settings.logLevel}), ` +
        `${settings.processes.join(', then ')} of them on the same instance and data directory, each on its own port` +
        (opts.engine === 'postgres' ? ' and with a keyword index file of its own, built before measuring (the run waits for /readyz)' : '') +
        '. autocannon runs in the bench process, so on a 2-core machine one process and the load generator each have a core; ' +
        'with two processes they share the two cores with it. Server CPU = the user+system time of all web processes over the measured ' +
        `run (100% = one core busy; Node serves on one thread); server CPU/request = that time over the requests completed, ` +
        'and the one-core ceiling = 1000 ms / that: the rate one process could reach with a core to itself. Other processes on the ' +
        'machine lower req/s and raise latency, but hardly change CPU per request, so compare the ceiling with the target when the ' +
        `load average is high.${opts.engine === 'postgres' ? " PostgreSQL's own backends, on the same machine, are not in the server CPU but take from the same cores." : ''} Peak server RSS per process: ${rounds.map((r) => `${r.processes} process${r.processes === 1 ? '' : 'es'} ${r.peakRssBytes.map(formatBytes).join(' / ')}`).join('; ')}.`,
      `With more than one web process the ${CONNECTIONS} connections are split evenly, one autocannon per process run at the same time ` +
        `(feed routes: ${LOADGEN_THREADS} worker threads shared among them; paper route: all on the bench's main thread). req/s is the sum of their means; ` +
        'p50, p97.5, p99 and max are the worst of their values, not percentiles of the merged requests (autocannon\'s worker threads report ' +
        'percentiles, not histograms); a percentile of the merged requests is never above the worst part\'s, so these are upper bounds.',
      `Each route: ${settings.warmupS} s warm-up (not measured), then ${settings.durationS} s measured, ${CONNECTIONS} connections, no pipelining, ` +
        'one route at a time. req/s is autocannon\'s mean of per-second counts; latencies are autocannon\'s (ms, integer resolution). ' +
        'Clients send `Accept-Encoding: gzip` as browsers do (cached feed pages are sent gzipped; paper pages are not compressed) and no If-None-Match: every response is a full 200 body. ' +
        'Target checks are on the one-process rows: SPEC section 9 sets them for the default single-process configuration.',
      `Server exits: ${rounds.flatMap((r) => r.exits.map((e) => e.code ?? e.signal)).join(', ')}${profileDir ? `; CPU profiles in ${profileDir}` : ''}.`,
    ];
    for (const run of runs) {
      if (run.result.loadgenCores >= LOADGEN_SATURATED) {
        notes.push(
          `The load generator used ${fmtCores(run.result.loadgenCores)} of a core on \`${run.path}\` with ${run.processes} web process${run.processes === 1 ? '' : 'es'}: ` +
            'it, not the server, may have set the pace, so that req/s is a lower bound (autocannon parses every body; on 2 cores it cannot get a core more).',
        );
      }
    }
    let crashed = false;
    for (const round of rounds) {
      round.exits.forEach((exit, i) => {
        if (exit.code === 0 || exit.signal === 'SIGTERM') return;
        crashed = true;
        notes.push(`Web process ${i + 1} of ${round.processes} stderr tail: ${(round.stderrTails[i] ?? []).slice(-10).map((l) => `\`${l}\``).join(' ')}`);
      });
    }
    return {
      scenario: 'pages',
      title,
      params,
      checks,
      tables: [routeTable(runs)],
      notes,
      raw: {
        engine: opts.engine,
        dbDir: built.dir,
        build: built.marker,
        fixture: { ...fixture, paperIds: fixture.paperIds.slice(0, 20), paperIdCount: fixture.paperIds.length },
        settings,
        rounds: rounds.map(({ stderrTails: _, ...round }) => round),
        profileDir,
      },
      ok: !crashed && rounds.length === settings.processes.length && runs.length === specs.length * settings.processes.length,
    };
  },
};
