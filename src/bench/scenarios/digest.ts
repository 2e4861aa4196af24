/**
 * Digest delivery: one daily digest run for BENCH_DIGEST_SUBSCRIBERS
 * confirmed subscribers (default 100,000) with mixed preferences, built and
 * sent by the real `paperboy digest run` to an SMTP server in this process.
 *
 * Setup, not measured: a fresh instance (SQLite data dir, or the schema
 * bench_digest on PostgreSQL) gets a corpus of BENCH_DIGEST_PAPERS synthetic
 * papers (default 20,000; the digest reads one day of them, so the 1M corpus
 * adds nothing) through `paperboy import`, the category rule features the
 * announcements, the benchmarked day (the newest featured one) is topped up
 * to a realistic day's worth of papers as a curator would, and the
 * subscribers are inserted directly in batches. Besides the recipients, 10%
 * noise rows (pending, unsubscribed, weekly, suppressed) are interleaved by id:
 * none of them may get the daily digest.
 *
 * Measured: the child's time to build the run (freeze its papers, select for
 * every subscriber, queue the ledger) until its status leaves `building`, and
 * the rate at which messages reach the SMTP server, which only counts them
 * (recipients, bytes, arrival time) and never parses them. Afterwards the
 * ledger and what the server received are checked against each other and
 * against the expected audience: every recipient mailed once, no noise
 * address mailed.
 *
 * Knobs (environment): BENCH_DIGEST_PAPERS, BENCH_DIGEST_SUBSCRIBERS,
 * BENCH_DIGEST_SEND_LIMIT (stop the sender with SIGTERM after this many
 * messages, for quick runs; default all), BENCH_DIGEST_CPU_PROF=1 (run the
 * sender under `node --cpu-prof`; profiles go to bench-out/profiles/).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { hashSecret, newSecret } from '../../accounts/secrets.js';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { openDatabase, type Database } from '../../db/connection.js';
import type { DigestCadence, SubscriberStatus, SuppressionReason } from '../../db/schema.js';
import { DigestSelector, type DigestContent } from '../../digests/content.js';
import { applyCategoryRule, featurePaper } from '../../feeds/featuring.js';
import { latestFeaturedDay } from '../../feeds/feed.js';
import type { Preferences } from '../../subscriptions/preferences.js';
import { ensureCorpus, type Corpus } from '../corpus.js';
import { cpuSeconds, formatBytes, formatCount, formatDuration, runMeasured, sampleMemory, type MemoryPeak } from '../measure.js';
import { Rng, hash32 } from '../prng.js';
import { benchDatabase, type BenchDatabase, type ReportTable, type Scenario, type ScenarioOptions, type ScenarioResult, type TargetCheck } from '../scenario.js';
import { STOP_WORDS, TITLE_CONNECTORS } from '../vocabulary.js';
import { parseSummary } from './import.js';

/** SPEC section 9: a digest for 100k confirmed subscribers. */
const TARGET_SUBSCRIBERS = 100_000;
const TARGET_BUILD_MS = 5 * 60_000;
const TARGET_RATE = 200;

const DEFAULT_PAPERS = 20_000;
/** The benchmarked day must have at least this many featured papers... */
const MIN_FEATURED = 60;
/** ...and one with fewer is topped up to this many (a busy arXiv day in the featured categories). */
const TOP_UP_TO = 120;
const BENCH_CURATOR = 'bench';
/** Noise rows per recipient row. */
const NOISE_SHARE = 0.1;
/** Subscriber rows per INSERT: 1,000 × 17 parameters is far below both engines' limits. */
const INSERT_BATCH = 1000;
/** How often the run's status is read while it builds. */
const POLL_MS = 100;
/** How often the sender's CPU time is read. */
const CPU_POLL_MS = 250;
/** Send-rate windows. */
const WINDOW_MS = 10_000;
/** The sender is stopped after this long whatever it is doing (a hang must not block the bench forever). */
const SENDER_TIMEOUT_MS = 2 * 60 * 60_000;
const DOMAIN = 'bench.example';
/** The categories the instance features (the pages scenario's default). */
const FEATURED_CATEGORIES = process.env.ARXIV_CATEGORIES || 'cs.AI,cs.CL,cs.CV,cs.LG,stat.ML';

interface Settings {
  papers: number;
  subscribers: number;
  sendLimit: number | null;
  cpuProf: boolean;
}

function envCount(name: string, fallback: number | null, min: number, max: number): number | null {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const cleaned = raw.replace(/[_,]/g, '');
  const n = Number(cleaned);
  if (!/^\d+$/.test(cleaned) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

function readSettings(): Settings {
  return {
    papers: envCount('BENCH_DIGEST_PAPERS', DEFAULT_PAPERS, 1_000, 10_000_000) as number,
    subscribers: envCount('BENCH_DIGEST_SUBSCRIBERS', TARGET_SUBSCRIBERS, 1, 10_000_000) as number,
    sendLimit: envCount('BENCH_DIGEST_SEND_LIMIT', null, 1, 10_000_000),
    cpuProf: process.env.BENCH_DIGEST_CPU_PROF === '1',
  };
}

// --- The instance -----------------------------------------------------------

/** `paperboy import` of the corpus into the instance `env` points at. */
async function importCorpus(opts: ScenarioOptions, corpus: Corpus, env: Record<string, string>): Promise<{ imported: number; ms: number }> {
  opts.log(`importing ${corpus.path}`);
  const child = await runMeasured(process.execPath, ['bin/paperboy.js', 'import', corpus.path], {
    cwd: opts.root,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn', PAPERBOY_PROGRESS: 'plain' },
  });
  const counts = parseSummary(child.stdout);
  if (child.exitCode !== 0 || counts === null) {
    const tail = child.stderrLines.filter((l) => !l.line.startsWith('progress')).slice(-10).map((l) => l.line);
    throw new Error(`import failed (exit ${child.exitCode ?? child.signal}): ${tail.join(' / ')}`);
  }
  opts.log(`imported ${formatCount(counts.imported)} papers in ${formatDuration(child.wallMs)}`);
  return { imported: counts.imported, ms: child.wallMs };
}

/** What setup found and did, for the report. */
interface Fixture {
  importMs: number;
  imported: number;
  day: string;
  /** Featured by this run's call of the category rule (the import may have applied it already), and in all. */
  featuredByRule: number;
  featuredTotal: number;
  /** Featured on the day before and after the top-up. */
  dayBefore: number;
  dayPapers: number;
  categoryPool: { featured: string[]; corpus: number };
  keywordPool: number;
  subscribers: SubscriberPlan;
  insertMs: number;
  setupMs: number;
}

async function dayCount(database: Database, day: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM featured f JOIN papers p ON p.id = f.paper_id
      WHERE f.hidden_at IS NULL AND p.withdrawn = 0 AND f.featured_on = ${day}`.execute(database.db);
  return Number(rows[0]?.n ?? 0);
}

/** Lower-case title words a reader might boost or mute: no stop words, no short ones. */
function titleWords(titles: readonly string[]): string[] {
  const skip = new Set([...STOP_WORDS, ...TITLE_CONNECTORS].map((w) => w.toLowerCase()));
  const words = new Set<string>();
  for (const title of titles) {
    for (const w of title.toLowerCase().match(/\p{L}[\p{L}\p{N}-]{3,}/gu) ?? []) if (!skip.has(w)) words.add(w);
  }
  return [...words].sort();
}

// --- Subscribers ------------------------------------------------------------

type Kind = 'recipient' | 'pending' | 'unsubscribed' | 'weekly' | 'suppressed';

/** The subscribers inserted, and who must and must not be mailed. */
interface SubscriberPlan {
  byKind: Record<Kind, number>;
  /** Lower-cased addresses of rows that must never get the daily digest. */
  noise: Set<string>;
  /** Lower-cased address → preferences of every confirmed daily unsuppressed row. */
  eligible: Map<string, Preferences>;
  /** Rows with an upper-case letter in the address (the suppression and ledger match on the key). */
  mixedCase: number;
}

function drawDistinct(rng: Rng, pool: readonly string[], n: number, exclude: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let tries = 0; out.length < n && tries < n * 10 && pool.length > 0; tries++) {
    const w = rng.pick(pool);
    if (!out.includes(w) && !exclude.includes(w)) out.push(w);
  }
  return out;
}

/**
 * Inserts `count` recipients and NOISE_SHARE × count noise rows, shuffled so
 * the noise is spread over the id range the audience query walks.
 */
async function insertSubscribers(
  database: Database,
  count: number,
  seed: number,
  pools: { featuredCategories: string[]; corpusCategories: string[]; words: string[] },
): Promise<SubscriberPlan> {
  const rng = new Rng(hash32(seed, 0xd1_6e57));
  const noiseCount = Math.round(count * NOISE_SHARE);
  const kinds: Kind[] = new Array<Kind>(count).fill('recipient');
  const noiseKinds: Kind[] = ['pending', 'unsubscribed', 'weekly', 'suppressed'];
  for (let i = 0; i < noiseCount; i++) kinds.push(noiseKinds[i % noiseKinds.length] as Kind);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j] as Kind, kinds[i] as Kind];
  }
  const plan: SubscriberPlan = {
    byKind: { recipient: 0, pending: 0, unsubscribed: 0, weekly: 0, suppressed: 0 },
    noise: new Set(),
    eligible: new Map(),
    mixedCase: 0,
  };
  const now = Date.now();
  const iso = new Date(now).toISOString();
  const preferences = (): Preferences => {
    const categories: string[] = [];
    for (let n = rng.int(4); categories.length < n; ) {
      // Mostly what the day's papers are filed under (what readers of a featured feed pick), sometimes any corpus category.
      const pool = rng.chance(0.9) || pools.corpusCategories.length === 0 ? pools.featuredCategories : pools.corpusCategories;
      const c = rng.pick(pool);
      if (!categories.includes(c)) categories.push(c);
      else n--;
    }
    const keywords = drawDistinct(rng, pools.words, rng.int(4));
    const mutedKeywords = drawDistinct(rng, pools.words, rng.int(3), keywords);
    return { cadence: 'daily', paperCount: rng.range(5, 25), categories, keywords, mutedKeywords };
  };
  await database.db.transaction().execute(async (trx) => {
    for (let start = 0; start < kinds.length; start += INSERT_BATCH) {
      const rows = [];
      const suppressions: { email_key: string; reason: SuppressionReason; detail: string | null; created_at: string }[] = [];
      for (let i = start; i < Math.min(kinds.length, start + INSERT_BATCH); i++) {
        const kind = kinds[i] as Kind;
        plan.byKind[kind]++;
        const mixed = rng.chance(0.05);
        if (mixed) plan.mixedCase++;
        const email = mixed ? `Reader.${i}@Bench.Example` : `reader.${i}@${DOMAIN}`;
        const key = email.toLowerCase();
        const prefs = preferences();
        const status: SubscriberStatus = kind === 'pending' ? 'pending' : kind === 'unsubscribed' ? 'unsubscribed' : 'confirmed';
        const cadence: DigestCadence = kind === 'weekly' ? 'weekly' : 'daily';
        if (kind === 'recipient') plan.eligible.set(key, prefs);
        else plan.noise.add(key);
        if (kind === 'suppressed') {
          suppressions.push({ email_key: key, reason: rng.chance(0.5) ? 'hard-bounce' : 'complaint', detail: 'bench', created_at: iso });
        }
        rows.push({
          email,
          email_key: key,
          user_id: null,
          status,
          cadence,
          paper_count: prefs.paperCount,
          categories: JSON.stringify(prefs.categories),
          keywords: JSON.stringify(prefs.keywords),
          muted_keywords: JSON.stringify(prefs.mutedKeywords),
          link_token: newSecret(),
          confirm_token_hash: status === 'pending' ? hashSecret(newSecret()) : null,
          confirm_expires_at: status === 'pending' ? now + 48 * 3_600_000 : null,
          confirm_sent_at: status === 'pending' ? now : null,
          created_at: iso,
          confirmed_at: status === 'pending' ? null : iso,
          unsubscribed_at: status === 'unsubscribed' ? iso : null,
          updated_at: iso,
        });
      }
      await trx.insertInto('subscribers').values(rows).execute();
      if (suppressions.length > 0) await trx.insertInto('suppressions').values(suppressions).execute();
    }
  });
  return plan;
}

/**
 * A fresh instance with the corpus, the benchmarked day's featured papers,
 * and the subscribers. Returns the instance's database location and env.
 */
async function prepare(opts: ScenarioOptions, settings: Settings, bench: BenchDatabase, dir: string): Promise<Fixture> {
  const t0 = performance.now();
  const corpus = await ensureCorpus(opts.outDir, settings.papers, opts.seed, opts.log);
  const imported = await importCorpus(opts, corpus, { ...bench.env, ARXIV_CATEGORIES: FEATURED_CATEGORIES });
  const config = loadConfig({ ...bench.env, PAPERBOY_DATA_DIR: dir, LOG_LEVEL: 'warn', ARXIV_CATEGORIES: FEATURED_CATEGORIES });
  const ctx = await createContext(config);
  try {
    const database = ctx.database;
    const { featured } = await applyCategoryRule(database, config.arxivCategories);
    const day = await latestFeaturedDay(database);
    if (day === null) throw new Error('no featured papers after the category rule: does the corpus have announced_on?');
    const dayBefore = await dayCount(database, day);
    if (dayBefore < MIN_FEATURED) {
      // Featured as a curator would, at noon of the day, so trending ranks them as the day's own.
      const { rows: candidates } = await sql<{ arxiv_id: string }>`SELECT p.arxiv_id FROM papers p
           LEFT JOIN featured f ON f.paper_id = p.id
           WHERE f.paper_id IS NULL AND p.withdrawn = 0 AND p.announced_on <= ${day}
           ORDER BY p.announced_on DESC, p.id DESC LIMIT ${TOP_UP_TO - dayBefore}`.execute(database.db);
      for (const { arxiv_id: arxivId } of candidates) {
        await featurePaper(database, { arxivId, on: day, source: 'curator', by: BENCH_CURATOR }, new Date(`${day}T12:00:00.000Z`));
      }
      opts.log(`${day} had ${dayBefore} featured papers: featured ${candidates.length} more as curator "${BENCH_CURATOR}"`);
    }
    const dayPapers = await dayCount(database, day);
    const { rows: totalRows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM featured WHERE hidden_at IS NULL`.execute(database.db);
    if (dayPapers < MIN_FEATURED) throw new Error(`${day} has only ${dayPapers} featured papers, fewer than ${MIN_FEATURED}`);

    const { rows: dayRows } = await sql<{ title: string; categories: string }>`SELECT p.title_text AS title, p.categories
        FROM featured f JOIN papers p ON p.id = f.paper_id
        WHERE f.hidden_at IS NULL AND p.withdrawn = 0 AND f.featured_on = ${day}`.execute(database.db);
    const featuredCategories = [...new Set(dayRows.flatMap((r) => r.categories.split(' ').filter(Boolean)))].sort();
    const { rows: corpusRows } = await sql<{ category: string }>`SELECT DISTINCT category FROM paper_categories ORDER BY category`.execute(
      database.db,
    );
    const corpusCategories = corpusRows.map((r) => r.category);
    const words = titleWords(dayRows.map((r) => r.title));

    opts.log(`inserting ${formatCount(settings.subscribers)} subscribers and ${formatCount(Math.round(settings.subscribers * NOISE_SHARE))} noise rows`);
    const insertStart = performance.now();
    const subscribers = await insertSubscribers(database, settings.subscribers, opts.seed, { featuredCategories, corpusCategories, words });
    const insertMs = performance.now() - insertStart;
    opts.log(`inserted in ${formatDuration(insertMs)}`);
    if (database.engine === 'postgres') {
      // What autovacuum would do soon after a bulk insert; the sender's queries are planned on it.
      await sql`ANALYZE`.execute(database.db);
    }
    return {
      importMs: imported.ms,
      imported: imported.imported,
      day,
      featuredByRule: featured,
      featuredTotal: Number(totalRows[0]?.n ?? 0),
      dayBefore,
      dayPapers,
      categoryPool: { featured: featuredCategories, corpus: corpusCategories.length },
      keywordPool: words.length,
      subscribers,
      insertMs,
      setupMs: performance.now() - t0,
    };
  } finally {
    await ctx.database.close();
  }
}

// --- The SMTP server --------------------------------------------------------

/** What the counting SMTP server saw. */
interface Received {
  messages: number;
  recipients: number;
  bytes: number;
  /** performance.now() of each accepted message. */
  times: number[];
  /** Lower-cased recipient → messages it got. */
  perAddress: Map<string, number>;
  /** This process's CPU (µs, user + system) at the first and at the latest message. */
  cpuFirst: NodeJS.CpuUsage | null;
  cpuLast: NodeJS.CpuUsage | null;
}

interface CountingServer {
  url: string;
  received: Received;
  close(): Promise<void>;
}

/** An SMTP server that accepts everything and only counts: no parsing, nothing kept but the recipients. */
async function startCountingServer(onMessage: (received: Received) => void): Promise<CountingServer> {
  const received: Received = { messages: 0, recipients: 0, bytes: 0, times: [], perAddress: new Map(), cpuFirst: null, cpuLast: null };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    closeTimeout: 100,
    logger: false,
    onData(stream, session, callback) {
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.on('error', () => {});
      stream.on('end', () => {
        received.times.push(performance.now());
        received.cpuLast = process.cpuUsage();
        received.cpuFirst ??= received.cpuLast;
        received.messages++;
        received.bytes += bytes;
        for (const r of session.envelope.rcptTo) {
          const key = r.address.toLowerCase();
          received.recipients++;
          received.perAddress.set(key, (received.perAddress.get(key) ?? 0) + 1);
        }
        callback();
        onMessage(received);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// --- The sender -------------------------------------------------------------

/** The compiled modules the sender runs, as the fingerprint below covers them. */
const SENDER_CODE = ['dist/src/digests', 'dist/src/mail', 'dist/src/db/delivery-claim.js', 'dist/src/cli/commands/digest.js'];

/**
 * Which code was measured: the commit, whether the digest sources differ
 * from it, and a hash of the compiled sender modules, so runs made while the
 * tree changed can be told apart.
 */
async function codeVersion(root: string): Promise<{ commit: string; dirty: boolean; senderHash: string }> {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src/digests', 'src/mail', 'src/db', 'src/cli/commands/digest.ts']) !== '';
  const hash = createHash('sha256');
  for (const entry of SENDER_CODE) {
    const path = join(root, entry);
    const files = entry.endsWith('.js') ? [path] : (await readdir(path).catch(() => [])).filter((f) => f.endsWith('.js')).sort().map((f) => join(path, f));
    for (const file of files) hash.update(file).update(await readFile(file).catch(() => Buffer.alloc(0)));
  }
  return { commit, dirty, senderHash: hash.digest('hex').slice(0, 12) };
}

interface SenderRun {
  exitCode: number | null;
  signal: string | null;
  /** performance.now() when it was spawned and when it exited. */
  startedAt: number;
  exitedAt: number;
  stdout: string;
  stderrTail: string[];
  memory: MemoryPeak;
  /** (performance.now(), CPU seconds) samples of the child. */
  cpu: { t: number; s: number }[];
  /** Set when the bench stopped it (send limit or timeout). */
  stoppedAt: number | null;
  /** When the run's row first appeared (its content frozen) and when it left `building`. */
  runSeenAt: number | null;
  builtAt: number | null;
}

/**
 * Runs `paperboy digest run` to completion. Not runMeasured: the bench must
 * be able to stop it after BENCH_DIGEST_SEND_LIMIT messages, and watches its
 * CPU time and the run's status while it works.
 */
function runSender(
  opts: ScenarioOptions,
  args: string[],
  env: NodeJS.ProcessEnv,
  database: Database,
  day: string,
  control: { stop?: () => void },
): Promise<SenderRun> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, args, { cwd: opts.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const pid = child.pid;
    const memory = sampleMemory(pid, 500);
    const stdout: string[] = [];
    const stderrTail: string[] = [];
    const cpu: { t: number; s: number }[] = [];
    const state = { exited: false, stoppedAt: null as number | null, runSeenAt: null as number | null, builtAt: null as number | null };
    child.stdout.setEncoding('utf8').on('data', (s: string) => stdout.push(s));
    let partial = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        stderrTail.push(line);
        if (stderrTail.length > 50) stderrTail.shift();
      }
    });
    const stop = (): void => {
      if (state.exited || state.stoppedAt !== null) return;
      state.stoppedAt = performance.now();
      child.kill('SIGTERM');
    };
    control.stop = stop;
    const timeout = setTimeout(stop, SENDER_TIMEOUT_MS);
    const cpuTimer = setInterval(() => {
      const t = performance.now();
      void cpuSeconds(pid).then((s) => {
        if (s !== null) cpu.push({ t, s });
      });
    }, CPU_POLL_MS);
    const watchRun = async (): Promise<void> => {
      while (!state.exited && state.builtAt === null) {
        const t = performance.now();
        const row = await database.db
          .selectFrom('digest_runs')
          .select('status')
          .where('cadence', '=', 'daily')
          .where('period_end', '=', day)
          .executeTakeFirst();
        if (row !== undefined) {
          state.runSeenAt ??= t;
          if (row.status !== 'building') state.builtAt = t;
        }
        if (state.builtAt === null) await sleep(POLL_MS);
      }
    };
    const watching = watchRun().catch((err: unknown) => opts.log(`watching the run failed: ${err instanceof Error ? err.message : String(err)}`));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const exitedAt = performance.now();
      state.exited = true;
      clearTimeout(timeout);
      clearInterval(cpuTimer);
      if (partial) stderrTail.push(partial);
      void Promise.all([memory.stop(), watching]).then(([mem]) =>
        resolve({
          exitCode: code,
          signal,
          startedAt,
          exitedAt,
          stdout: stdout.join(''),
          stderrTail,
          memory: mem,
          cpu,
          stoppedAt: state.stoppedAt,
          runSeenAt: state.runSeenAt,
          builtAt: state.builtAt,
        }),
      );
    });
  });
}

/** CPU seconds of the child at time `t`, from the nearest samples (linear between them). */
function cpuAt(samples: readonly { t: number; s: number }[], t: number): number | null {
  if (samples.length === 0) return null;
  let before = samples[0] as { t: number; s: number };
  for (const sample of samples) {
    if (sample.t > t) {
      if (sample.t === before.t) return sample.s;
      return before.s + ((sample.s - before.s) * (t - before.t)) / (sample.t - before.t);
    }
    before = sample;
  }
  return before.s;
}

// --- Checks -----------------------------------------------------------------

interface LedgerCheck {
  runId: number | null;
  runStatus: string | null;
  recipients: number;
  papers: number;
  createdAt: string | null;
  builtAt: string | null;
  finishedAt: string | null;
  byStatus: Record<string, number>;
  /** Recipients the bench expects: eligible subscribers whose preferences leave something to send. */
  expected: number;
  /** Eligible subscribers left out because their preferences select nothing. */
  emptySelections: number;
  missingFromLedger: number;
  unexpectedInLedger: number;
  noiseInLedger: number;
  noiseMailed: number;
  duplicates: number;
  /** Received addresses the ledger does not have as sent. */
  receivedNotSent: number;
  /** Ledger rows marked sent the server never received. */
  sentNotReceived: number;
  examples: string[];
}

async function checkLedger(database: Database, day: string, plan: SubscriberPlan, received: Received): Promise<LedgerCheck> {
  const run = await database.db
    .selectFrom('digest_runs')
    .select(['id', 'status', 'recipients', 'content', 'created_at', 'built_at', 'finished_at'])
    .where('cadence', '=', 'daily')
    .where('period_end', '=', day)
    .executeTakeFirst();
  const examples: string[] = [];
  const note = (what: string): void => {
    if (examples.length < 10) examples.push(what);
  };
  let expected = 0;
  let emptySelections = 0;
  const expectedSet = new Set<string>();
  let papers = 0;
  if (run !== undefined) {
    const content = JSON.parse(run.content) as DigestContent;
    papers = content.papers.length;
    const selector = new DigestSelector(content);
    for (const [key, prefs] of plan.eligible) {
      if (selector.select(prefs) === null) emptySelections++;
      else expectedSet.add(key);
    }
    expected = expectedSet.size;
  }
  const rows =
    run === undefined
      ? []
      : await database.db.selectFrom('digest_deliveries').select(['email', 'status']).where('run_id', '=', run.id).execute();
  const byStatus: Record<string, number> = {};
  const inLedger = new Set<string>();
  const sent = new Set<string>();
  let unexpectedInLedger = 0;
  let noiseInLedger = 0;
  for (const row of rows) {
    const key = row.email.toLowerCase();
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    inLedger.add(key);
    if (row.status === 'sent') sent.add(key);
    if (plan.noise.has(key)) {
      noiseInLedger++;
      note(`noise address in the ledger: ${key}`);
    } else if (!expectedSet.has(key)) {
      unexpectedInLedger++;
      note(`unexpected ledger row: ${key}`);
    }
  }
  let missingFromLedger = 0;
  for (const key of expectedSet) {
    if (!inLedger.has(key)) {
      missingFromLedger++;
      note(`expected recipient missing from the ledger: ${key}`);
    }
  }
  let noiseMailed = 0;
  let duplicates = 0;
  let receivedNotSent = 0;
  for (const [key, n] of received.perAddress) {
    if (plan.noise.has(key)) {
      noiseMailed++;
      note(`noise address mailed: ${key}`);
    }
    if (n > 1) {
      duplicates += n - 1;
      note(`mailed ${n} times: ${key}`);
    }
    if (!sent.has(key)) {
      receivedNotSent++;
      note(`received but not sent in the ledger: ${key}`);
    }
  }
  let sentNotReceived = 0;
  for (const key of sent) if (!received.perAddress.has(key)) sentNotReceived++;
  return {
    runId: run?.id ?? null,
    runStatus: run?.status ?? null,
    recipients: run?.recipients ?? 0,
    papers,
    createdAt: run?.created_at ?? null,
    builtAt: run?.built_at ?? null,
    finishedAt: run?.finished_at ?? null,
    byStatus,
    expected,
    emptySelections,
    missingFromLedger,
    unexpectedInLedger,
    noiseInLedger,
    noiseMailed,
    duplicates,
    receivedNotSent,
    sentNotReceived,
    examples,
  };
}

// --- Rates ------------------------------------------------------------------

interface SendRate {
  messages: number;
  spanMs: number;
  /** Messages after the first over the time from the first to the last. */
  perSecond: number | null;
  /** Per full 10 s window from the first message. */
  windows: number[];
  windowMedian: number | null;
  windowMin: number | null;
  windowMax: number | null;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function sendRate(times: readonly number[]): SendRate {
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined || times.length < 2) {
    return { messages: times.length, spanMs: 0, perSecond: null, windows: [], windowMedian: null, windowMin: null, windowMax: null };
  }
  const spanMs = last - first;
  const full = Math.floor(spanMs / WINDOW_MS);
  const counts = new Array<number>(full).fill(0);
  for (const t of times) {
    const w = Math.floor((t - first) / WINDOW_MS);
    if (w < full) counts[w] = (counts[w] ?? 0) + 1;
  }
  const windows = counts.map((c) => c / (WINDOW_MS / 1000));
  return {
    messages: times.length,
    spanMs,
    perSecond: spanMs > 0 ? ((times.length - 1) * 1000) / spanMs : null,
    windows,
    windowMedian: median(windows),
    windowMin: windows.length === 0 ? null : Math.min(...windows),
    windowMax: windows.length === 0 ? null : Math.max(...windows),
  };
}

const fmtRate = (r: number | null): string => (r === null ? 'n/a' : `${r.toFixed(r < 100 ? 1 : 0)} messages/s`);
const fmtMsOrNa = (ms: number | null): string => (ms === null ? 'n/a' : formatDuration(ms));
const fmtLoad = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

// --- The scenario -----------------------------------------------------------

/** The `digest` scenario. */
export const digestScenario: Scenario = {
  name: 'digest',
  description: 'daily digest for 100k subscribers: build-and-queue time and send rate to a local SMTP server',
  async run(opts: ScenarioOptions): Promise<ScenarioResult> {
    const settings = readSettings();
    const title =
      `Digest: ${formatCount(settings.subscribers)} subscribers, ${formatCount(settings.papers)} synthetic papers` +
      (opts.engine === 'postgres' ? ' (PostgreSQL)' : '');
    const params: Record<string, string | number | boolean> = {
      engine: opts.engine,
      subscribers: settings.subscribers,
      noiseRows: Math.round(settings.subscribers * NOISE_SHARE),
      papers: settings.papers,
      seed: opts.seed,
      sendLimit: settings.sendLimit ?? 'all',
      cpuProf: settings.cpuProf,
    };
    const loadStart = os.loadavg();
    const dir = join(opts.outDir, 'tmp', `digest-${opts.engine}-n${settings.papers}-s${opts.seed}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const bench = await benchDatabase(opts, 'digest', dir);
    const release = async (): Promise<void> => {
      if (opts.keepData) return;
      await bench.drop();
      await rm(dir, { recursive: true, force: true });
    };
    let fixture: Fixture;
    try {
      fixture = await prepare(opts, settings, bench, dir);
    } catch (err) {
      await release();
      const error = err instanceof Error ? err.message : String(err);
      return { scenario: 'digest', title, params, checks: [], tables: [], notes: [error], raw: { dir, error }, ok: false };
    }
    opts.log(
      `setup in ${formatDuration(fixture.setupMs)}: ${fixture.day} has ${fixture.dayPapers} featured papers; ` +
        `${formatCount(fixture.subscribers.eligible.size)} eligible subscribers, ${formatCount(fixture.subscribers.noise.size)} noise rows`,
    );

    const control: { stop?: () => void } = {};
    const smtp = await startCountingServer((received) => {
      if (settings.sendLimit !== null && received.messages >= settings.sendLimit) control.stop?.();
      if (received.messages % 10_000 === 0) opts.log(`  ${formatCount(received.messages)} messages received`);
    });
    const database = openDatabase(bench.location, { dataDir: dir });
    const profileDir = settings.cpuProf ? join(opts.outDir, 'profiles', `digest-${opts.engine}-${Date.now()}`) : null;
    if (profileDir !== null) await mkdir(profileDir, { recursive: true });
    let sender: SenderRun;
    let ledger: LedgerCheck;
    const loadBeforeSend = os.loadavg();
    const code = await codeVersion(opts.root);
    params.code = `${code.commit}${code.dirty ? '+uncommitted' : ''}, sender ${code.senderHash}`;
    try {
      const args = [
        ...(profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
        'bin/paperboy.js',
        'digest',
        'run',
        '--cadence',
        'daily',
        '--date',
        fixture.day,
      ];
      opts.log(`paperboy digest run --cadence daily --date ${fixture.day} → ${smtp.url}${profileDir === null ? '' : ` (--cpu-prof ${profileDir})`}`);
      sender = await runSender(
        opts,
        args,
        {
          ...process.env,
          ...bench.env,
          PAPERBOY_DATA_DIR: dir,
          SMTP_URL: smtp.url,
          // Far above what one connection can do: the pacer must not be what is measured.
          DIGEST_SEND_RATE: '100000',
          DIGEST_TIMEZONE: 'UTC',
          BASE_URL: `https://paperboy.${DOMAIN}`,
          MAIL_FROM: `Paperboy <paperboy@${DOMAIN}>`,
          LOG_LEVEL: 'warn',
        },
        database,
        fixture.day,
        control,
      );
      // A message accepted just as the child exits is counted before the ledger is compared with it.
      await sleep(200);
      opts.log(`sender exited (${sender.exitCode ?? sender.signal}) after ${formatDuration(sender.exitedAt - sender.startedAt)}; checking the ledger`);
      ledger = await checkLedger(database, fixture.day, fixture.subscribers, smtp.received);
    } finally {
      await smtp.close();
      await database.close();
      await release();
    }
    const loadEnd = os.loadavg();

    const received = smtp.received;
    const rate = sendRate(received.times);
    const since = (t: number | null | undefined): number | null => (t === null || t === undefined ? null : t - sender.startedAt);
    const firstAt = received.times[0] ?? null;
    const lastAt = received.times[received.times.length - 1] ?? null;
    const buildMs = since(sender.builtAt);
    const cpuTotal = sender.cpu[sender.cpu.length - 1]?.s ?? null;
    const cpuBuild = sender.builtAt === null ? null : cpuAt(sender.cpu, sender.builtAt);
    const cpuSend =
      firstAt !== null && lastAt !== null && lastAt > firstAt
        ? (() => {
            const a = cpuAt(sender.cpu, firstAt);
            const b = cpuAt(sender.cpu, lastAt);
            return a === null || b === null ? null : b - a;
          })()
        : null;
    const sendCores = cpuSend === null || rate.spanMs === 0 ? null : (cpuSend * 1000) / rate.spanMs;
    const sendCpuPerMessage = cpuSend === null || rate.messages < 2 ? null : (cpuSend * 1000) / (rate.messages - 1);
    const smtpCpuMs =
      received.cpuFirst !== null && received.cpuLast !== null
        ? (received.cpuLast.user + received.cpuLast.system - received.cpuFirst.user - received.cpuFirst.system) / 1000
        : null;
    const smtpCores = smtpCpuMs === null || rate.spanMs === 0 ? null : smtpCpuMs / rate.spanMs;

    const stoppedByLimit = settings.sendLimit !== null && sender.stoppedAt !== null;
    // Stopped on purpose, the CLI reports the interruption in its exit code; the ledger check below says whether it stopped cleanly.
    const exitedWell = sender.exitCode === 0 || stoppedByLimit;
    const complete = !stoppedByLimit;
    const sentCount = ledger.byStatus.sent ?? 0;
    const verified =
      ledger.runId !== null &&
      ledger.noiseMailed === 0 &&
      ledger.noiseInLedger === 0 &&
      ledger.duplicates === 0 &&
      ledger.missingFromLedger === 0 &&
      ledger.unexpectedInLedger === 0 &&
      ledger.receivedNotSent === 0 &&
      ledger.sentNotReceived === 0 &&
      ledger.recipients === ledger.expected &&
      (!complete || (sentCount === ledger.recipients && received.messages === ledger.recipients));

    const scale =
      settings.subscribers >= TARGET_SUBSCRIBERS ? undefined : `at ${formatCount(settings.subscribers)} subscribers, target is for 100k: indicative only`;
    const checks: TargetCheck[] = [
      {
        metric: 'digest build and queue (100k subscribers)',
        target: '≤ 5 min',
        actual: fmtMsOrNa(buildMs),
        pass: buildMs === null ? null : buildMs <= TARGET_BUILD_MS,
        note: [
          `\`paperboy digest run\` spawned → run status \`sending\` (${formatCount(ledger.recipients)} deliveries queued)`,
          scale,
        ]
          .filter(Boolean)
          .join('; '),
      },
      {
        metric: 'digest send rate to a local SMTP server',
        target: `≥ ${TARGET_RATE} messages/s`,
        actual: fmtRate(rate.perSecond),
        pass: rate.perSecond === null ? null : rate.perSecond >= TARGET_RATE,
        note:
          `first to last of ${formatCount(rate.messages)} messages; median of 10 s windows ${fmtRate(rate.windowMedian)}` +
          (stoppedByLimit ? `; stopped after ${formatCount(settings.sendLimit ?? 0)} messages (BENCH_DIGEST_SEND_LIMIT)` : ''),
      },
    ];

    const plan = fixture.subscribers;
    const tables: ReportTable[] = [
      {
        title: 'Build and queue',
        headers: ['what', 'measured'],
        rows: [
          [
            'subscribers',
            `${formatCount(plan.byKind.recipient)} confirmed daily + ${formatCount(plan.noise.size)} noise ` +
              `(${plan.byKind.pending} pending, ${plan.byKind.unsubscribed} unsubscribed, ${plan.byKind.weekly} weekly, ${plan.byKind.suppressed} suppressed)`,
          ],
          ['run', `${ledger.runId ?? 'none'}: ${ledger.papers} papers featured on ${fixture.day}, ${formatCount(ledger.recipients)} recipients`],
          ['spawn → run row written (start-up, content frozen)', fmtMsOrNa(since(sender.runSeenAt))],
          [
            'run row → status `sending` (audience selected, ledger queued)',
            sender.runSeenAt === null || sender.builtAt === null ? 'n/a' : formatDuration(sender.builtAt - sender.runSeenAt),
          ],
          ['**spawn → status `sending` (build and queue)**', fmtMsOrNa(buildMs)],
          ['spawn → first message at the SMTP server', fmtMsOrNa(since(firstAt))],
          ['sender CPU until built', cpuBuild === null ? 'n/a' : `${cpuBuild.toFixed(1)} s`],
          ['digest_runs created_at / built_at', `${ledger.createdAt ?? 'n/a'} / ${ledger.builtAt ?? 'n/a'}`],
        ],
      },
      {
        title: 'Sending',
        headers: ['what', 'measured'],
        rows: [
          ['messages received', `${formatCount(received.messages)} (${formatCount(received.recipients)} recipients, ${formatBytes(received.bytes)}, ${formatBytes(received.messages === 0 ? 0 : received.bytes / received.messages)} each)`],
          ['first → last message', formatDuration(rate.spanMs)],
          ['**send rate (first → last)**', fmtRate(rate.perSecond)],
          [
            `per ${WINDOW_MS / 1000} s window (${rate.windows.length} full windows)`,
            `median ${fmtRate(rate.windowMedian)}, min ${fmtRate(rate.windowMin)}, max ${fmtRate(rate.windowMax)}`,
          ],
          [
            'sender CPU while sending',
            cpuSend === null
              ? 'n/a'
              : `${cpuSend.toFixed(1)} s = ${((sendCores ?? 0) * 100).toFixed(0)}% of a core, ${sendCpuPerMessage?.toFixed(2) ?? 'n/a'} ms/message ` +
                `(one-core ceiling ≈ ${sendCpuPerMessage ? formatCount(1000 / sendCpuPerMessage) : 'n/a'} messages/s)`,
          ],
          ['SMTP server (bench process) CPU while sending', smtpCpuMs === null ? 'n/a' : `${(smtpCpuMs / 1000).toFixed(1)} s = ${((smtpCores ?? 0) * 100).toFixed(0)}% of a core`],
          ['sender CPU in all', cpuTotal === null ? 'n/a' : `${cpuTotal.toFixed(1)} s`],
          ['sender peak RSS', formatBytes(sender.memory.peakBytes)],
          ['sender wall time', `${formatDuration(sender.exitedAt - sender.startedAt)}, exit ${sender.exitCode ?? sender.signal}${sender.stoppedAt === null ? '' : ' (stopped by the bench)'}`],
          ['load average (1/5/15 min) at start, before sending, at end', `${fmtLoad(loadStart)}; ${fmtLoad(loadBeforeSend)}; ${fmtLoad(loadEnd)}`],
        ],
      },
      {
        title: 'Ledger and mailbox check',
        headers: ['check', 'result'],
        rows: [
          ['ledger rows by status', Object.entries(ledger.byStatus).map(([s, n]) => `${s} ${formatCount(n)}`).join(', ') || 'none'],
          [
            'recipients = expected audience',
            `${formatCount(ledger.recipients)} = ${formatCount(ledger.expected)} (of ${formatCount(plan.eligible.size)} eligible, ${formatCount(ledger.emptySelections)} whose preferences select nothing)` +
              `${ledger.missingFromLedger + ledger.unexpectedInLedger > 0 ? `; ${ledger.missingFromLedger} missing, ${ledger.unexpectedInLedger} unexpected` : ''}`,
          ],
          ['sent = recipients', complete ? `${formatCount(sentCount)} = ${formatCount(ledger.recipients)}` : `${formatCount(sentCount)} of ${formatCount(ledger.recipients)} (stopped early)`],
          ['received = sent in the ledger', `${formatCount(received.messages)} received; ${ledger.receivedNotSent} received but not marked sent, ${ledger.sentNotReceived} marked sent but not received`],
          ['noise addresses in the ledger / mailed', `${ledger.noiseInLedger} / ${ledger.noiseMailed}`],
          ['duplicate messages', String(ledger.duplicates)],
          ['verdict', verified ? 'pass' : `**FAIL**${ledger.examples.length > 0 ? `: ${ledger.examples.join('; ')}` : ''}`],
        ],
      },
    ];

    const notes = [
      `Instance: ${opts.engine === 'sqlite' ? `SQLite in ${dir}` : 'PostgreSQL schema bench_digest'}, fresh; ${formatCount(fixture.imported)} papers imported with ` +
        `\`paperboy import\` in ${formatDuration(fixture.importMs)}; ${formatCount(fixture.featuredTotal)} featured in all ` +
        `(the category rule, ARXIV_CATEGORIES ${FEATURED_CATEGORIES}, applied by the import; ${formatCount(fixture.featuredByRule)} more by the bench's own call of it). ` +
        `The benchmarked day is the newest featured one, ${fixture.day}: ${fixture.dayBefore} featured by the rule` +
        (fixture.dayPapers > fixture.dayBefore ? `, topped up to ${fixture.dayPapers} with featurePaper as curator "${BENCH_CURATOR}" (a busy day in the featured categories).` : '.'),
      `Subscribers (seed ${opts.seed}): inserted in ${formatDuration(fixture.insertMs)}, ${INSERT_BATCH} per INSERT in one transaction, noise rows shuffled among them by id; ` +
        `${plan.mixedCase} addresses have upper-case letters. Preferences: 5–25 papers, 0–3 categories (90% from the ${fixture.categoryPool.featured.length} ` +
        `categories of the day's papers, 10% from all ${fixture.categoryPool.corpus} of the corpus), 0–3 boosted and 0–2 muted keywords from the ` +
        `${fixture.keywordPool} distinct words of the day's titles.`,
      'Sender: `node bin/paperboy.js digest run --cadence daily --date <day>` in a child process with SMTP_URL to a counting smtp-server ' +
        '(no TLS, no auth, nothing parsed) in the bench process, DIGEST_SEND_RATE=100000 (the pacer never waits), LOG_LEVEL=warn. ' +
        'Build-and-queue is timed from the spawn (Node start-up and migrations check included) to the first read of the run with status `sending` ' +
        `(polled every ${POLL_MS} ms, so up to ${POLL_MS} ms late); messages are rendered one by one while sending, so rendering is in the send rate. ` +
        `The send rate is (messages − 1) over the time from the first to the last message; windows are full ${WINDOW_MS / 1000} s spans from the first message. ` +
        `Sender CPU is read from /proc every ${CPU_POLL_MS} ms.` +
        (opts.engine === 'postgres' ? " PostgreSQL's backends run on the same machine; their CPU is not in the sender's." : ''),
      `Setup (import, featuring, subscribers) took ${formatDuration(fixture.setupMs)}, not measured.${profileDir === null ? '' : ` CPU profile of the sender in ${profileDir}.`}`,
    ];
    if (ledger.createdAt !== null && ledger.createdAt === ledger.builtAt) {
      notes.push('digest_runs.built_at equals created_at: createRun passes its start time to finishBuild, so the row cannot time the build; the poll above does.');
    }
    if (sender.exitCode !== 0 && !stoppedByLimit) {
      notes.push(`Sender stderr tail: ${sender.stderrTail.slice(-10).map((l) => `\`${l}\``).join(' ')}`);
    }
    if (sender.stdout.trim() !== '') notes.push(`Sender output: \`${sender.stdout.trim().split('\n').slice(-3).join(' / ')}\``);

    return {
      scenario: 'digest',
      title,
      params,
      checks,
      tables,
      notes,
      raw: {
        engine: opts.engine,
        settings,
        fixture: {
          ...fixture,
          subscribers: { byKind: plan.byKind, eligible: plan.eligible.size, noise: plan.noise.size, mixedCase: plan.mixedCase },
        },
        sender: {
          exitCode: sender.exitCode,
          signal: sender.signal,
          wallMs: sender.exitedAt - sender.startedAt,
          stoppedMs: since(sender.stoppedAt),
          runSeenMs: since(sender.runSeenAt),
          buildMs,
          firstMessageMs: since(firstAt),
          lastMessageMs: since(lastAt),
          cpuTotalS: cpuTotal,
          cpuBuildS: cpuBuild,
          cpuSendS: cpuSend,
          sendCpuMsPerMessage: sendCpuPerMessage,
          peakRssBytes: sender.memory.peakBytes,
          stdout: sender.stdout,
          stderrTail: sender.stderrTail,
        },
        smtp: { messages: received.messages, recipients: received.recipients, bytes: received.bytes, cpuMs: smtpCpuMs },
        rate,
        ledger,
        load: { start: loadStart, beforeSend: loadBeforeSend, end: loadEnd },
        code,
        profileDir,
      },
      ok: exitedWell && verified,
    };
  },
};
