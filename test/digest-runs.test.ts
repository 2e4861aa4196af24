/**
 * Digest runs on both engines: the content of a period, the audience a run
 * freezes (confirmed, unsuppressed, on the cadence, with something to read),
 * idempotent re-runs, resuming a build a crash cut short, and
 * `paperboy digest run` (dry runs write nothing; bad input exits 2).
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { newSecret } from '../src/accounts/secrets.js';
import type { Database } from '../src/db/connection.js';
import type { SubscriberStatus } from '../src/db/schema.js';
import { buildContent, type DigestSelection } from '../src/digests/content.js';
import { planDigestsHandler, sendDigestHandler } from '../src/digests/jobs.js';
import { createRun } from '../src/digests/runs.js';
import { featurePaper, unfeaturePaper } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { preferenceColumns, type Preferences } from '../src/subscriptions/preferences.js';
import { emptyApp, type TestApp } from './support/app.js';
import { runCli, tempDataDir } from './support/cli.js';
import { envFor, value } from './support/database.js';

/** Thursday: the daily period, and the last day of the weekly one (13 to 19 November). */
const DAY = '2026-11-19';
const NOW = new Date('2026-11-20T08:00:00Z');

const PAPERS = [
  { id: '2611.00001', title: 'Diffusion models for $\\alpha$-stable images', categories: 'cs.LG', on: DAY, upvotes: 9 },
  { id: '2611.00002', title: 'Quantum error correction with surface codes', categories: 'quant-ph', on: DAY, upvotes: 4 },
  { id: '2611.00003', title: 'A GAN that draws', categories: 'cs.LG cs.CV', on: DAY, upvotes: 1 },
  { id: '2611.00004', title: 'Lattice QCD at finite density', categories: 'hep-lat', on: '2026-11-16', upvotes: 0 },
  { id: '2611.00005', title: 'A hidden paper', categories: 'cs.LG', on: DAY, upvotes: 50 },
  { id: '2611.00006', title: 'Too old for the week', categories: 'cs.LG', on: '2026-11-12', upvotes: 50 },
];

async function withPapers(): Promise<TestApp> {
  const t = await emptyApp();
  const file = join(tempDataDir('paperboy-digest-runs-'), 'papers.jsonl');
  writeFileSync(
    file,
    PAPERS.map((p) =>
      JSON.stringify({
        id: p.id,
        authors: 'Ada Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra, Barbara Liskov, Donald Knuth and John McCarthy',
        title: p.title,
        categories: p.categories,
        abstract: `We study ${p.title.toLowerCase()}. Our method beats the baselines by a wide margin on every benchmark we tried. Code is available.`,
        versions: [{ version: 'v1', created: 'Mon, 9 Nov 2026 10:00:00 GMT' }],
      }),
    ).join('\n') + '\n',
  );
  await importPaths(t.ctx.database, [file]);
  for (const p of PAPERS) {
    await featurePaper(t.ctx.database, { arxivId: p.id, on: p.on, source: 'curator', by: 'ada' }, new Date(`${p.on}T06:00:00Z`));
    await t.ctx.database.db.updateTable('papers').set({ upvotes: p.upvotes }).where('arxiv_id', '=', p.id).execute();
  }
  await unfeaturePaper(t.ctx.database, '2611.00005', 'ada');
  return t;
}

/** One pass of the digest planner job on `t`'s instance. */
async function planOnce(t: TestApp): Promise<{ built: number[]; queued: number }> {
  return (await planDigestsHandler({
    job: { id: 1, type: 'digest.plan', payload: {}, uniqueKey: null, attempt: 1, maxAttempts: 3, runAt: 0, createdAt: 0 },
    signal: new AbortController().signal,
    log: t.ctx.log,
    ctx: t.ctx,
  })) as { built: number[]; queued: number };
}

/** The planner due all day today in UTC: the daily run (on weekdays) and the weekly one. */
function dueAllDay(t: TestApp): void {
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', weekday: 'short' }).format(new Date()).toLowerCase();
  t.ctx.config.digest = { ...t.ctx.config.digest, timeZone: 'UTC', hour: 0, weeklyDay: weekday as typeof t.ctx.config.digest.weeklyDay };
}

let emails = 0;

async function addSubscriber(
  database: Database,
  email: string,
  status: SubscriberStatus,
  prefs: Partial<Preferences> = {},
): Promise<number> {
  const at = new Date(Date.UTC(2026, 10, 1, 0, 0, ++emails)).toISOString();
  const row = await database.db
    .insertInto('subscribers')
    .values({
      email,
      email_key: email.toLowerCase(),
      status,
      ...preferenceColumns({ cadence: 'daily', paperCount: 10, categories: [], keywords: [], mutedKeywords: [], ...prefs }),
      link_token: newSecret(),
      created_at: at,
      confirmed_at: status === 'confirmed' ? at : null,
      updated_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The audience of the tests: who may get the daily digest and who may not. */
async function addAudience(database: Database): Promise<void> {
  await addSubscriber(database, 'Ann@example.org', 'confirmed');
  await addSubscriber(database, 'pending@example.org', 'pending');
  await addSubscriber(database, 'gone@example.org', 'unsubscribed');
  await addSubscriber(database, 'bounced@example.org', 'confirmed');
  await database.db.insertInto('suppressions').values({ email_key: 'bounced@example.org', reason: 'hard-bounce', detail: null, created_at: NOW.toISOString() }).execute();
  await addSubscriber(database, 'weekly@example.org', 'confirmed', { cadence: 'weekly' });
  await addSubscriber(database, 'physics@example.org', 'confirmed', { categories: ['quant-ph'] });
  await addSubscriber(database, 'picky@example.org', 'confirmed', { paperCount: 1, keywords: ['GAN'], mutedKeywords: ['diffusion'] });
  await addSubscriber(database, 'algebra@example.org', 'confirmed', { categories: ['math.AG'] });
}

async function deliveries(database: Database, runId: number) {
  const rows = await database.db
    .selectFrom('digest_deliveries')
    .select(['subscriber_id', 'email', 'selection', 'status'])
    .where('run_id', '=', runId)
    .orderBy('subscriber_id')
    .execute();
  return rows.map((r) => ({ ...r, selection: JSON.parse(r.selection) as DigestSelection }));
}

async function count(database: Database, table: 'digest_runs' | 'digest_deliveries'): Promise<number> {
  return Number(await value(database, sql`SELECT count(*) FROM ${sql.table(table)}`));
}

test('a period’s content: its featured papers, best first, in plain text', async () => {
  const t = await withPapers();
  try {
    const daily = await buildContent(t.ctx.database, 'daily', DAY, NOW.getTime());
    assert.deepEqual({ ...daily, papers: daily.papers.map((p) => p.arxivId) }, {
      cadence: 'daily',
      from: DAY,
      to: DAY,
      papers: ['2611.00001', '2611.00002', '2611.00003'],
    });
    const first = daily.papers[0]!;
    assert.equal(first.title, 'Diffusion models for α-stable images');
    assert.deepEqual(first.authors, ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov']);
    assert.equal(first.authorCount, 7);
    assert.equal(first.upvotes, 9);
    assert.deepEqual(first.categories, ['cs.LG']);
    assert.ok(first.summary.length > 0 && first.summary.length <= 200, first.summary);
    assert.doesNotMatch(first.summary, /\n/);

    const weekly = await buildContent(t.ctx.database, 'weekly', DAY, NOW.getTime());
    assert.deepEqual([weekly.from, weekly.to], ['2026-11-13', DAY]);
    assert.deepEqual(weekly.papers.map((p) => p.arxivId).sort(), ['2611.00001', '2611.00002', '2611.00003', '2611.00004']);
    assert.equal((await buildContent(t.ctx.database, 'daily', '2026-11-21', NOW.getTime())).papers.length, 0);
  } finally {
    await t.close();
  }
});

test('a run freezes its audience: confirmed, not suppressed, on the cadence, each with their selection', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    await addAudience(database);
    const run = await createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: NOW });
    assert.equal(run.created, true);
    assert.equal(run.status, 'sending');
    assert.equal(run.recipients, 3);
    const rows = await deliveries(database, run.runId);
    assert.deepEqual(
      rows.map((r) => [r.email, r.status, r.selection]),
      [
        ['Ann@example.org', 'pending', { trending: [0, 1, 2], keywords: [] }],
        ['physics@example.org', 'pending', { trending: [1], keywords: [] }],
        ['picky@example.org', 'pending', { trending: [1], keywords: [2] }],
      ],
    );
    const stored = await database.db.selectFrom('digest_runs').selectAll().where('id', '=', run.runId).executeTakeFirstOrThrow();
    assert.equal(stored.recipients, 3);
    assert.ok(stored.built_at !== null);
    assert.equal(stored.finished_at, null);
    assert.deepEqual(JSON.parse(stored.content), run.content);

    // Asking again changes nothing, even for an address confirmed since.
    await addSubscriber(database, 'late@example.org', 'confirmed');
    const again = await createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: new Date(NOW.getTime() + 3_600_000) });
    assert.deepEqual([again.runId, again.created, again.recipients, again.status], [run.runId, false, 3, 'sending']);
    assert.equal(await count(database, 'digest_deliveries'), 3);
    assert.equal(await count(database, 'digest_runs'), 1);

    const weekly = await createRun(t.ctx, { cadence: 'weekly', periodEnd: DAY }, { now: NOW });
    assert.equal(weekly.created, true);
    assert.deepEqual((await deliveries(database, weekly.runId)).map((r) => [r.email, r.selection]), [
      ['weekly@example.org', { trending: [0, 1, 2, 3], keywords: [] }],
    ]);
  } finally {
    await t.close();
  }
});

test('a run with nobody to send to is done at once', async () => {
  const t = await withPapers();
  try {
    await addAudience(t.ctx.database);
    const empty = await createRun(t.ctx, { cadence: 'daily', periodEnd: '2026-11-21' }, { now: NOW });
    assert.deepEqual([empty.created, empty.recipients, empty.status, empty.content.papers.length], [true, 0, 'done', 0]);
    const row = await t.ctx.database.db.selectFrom('digest_runs').selectAll().where('id', '=', empty.runId).executeTakeFirstOrThrow();
    assert.equal(row.status, 'done');
    assert.ok(row.finished_at !== null);
    assert.equal(await count(t.ctx.database, 'digest_deliveries'), 0);
  } finally {
    await t.close();
  }
});

test('a build cut short by a crash resumes after the last recipient it inserted', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    await addAudience(database);
    const content = await buildContent(database, 'daily', DAY, NOW.getTime());
    // What a builder that died after its first page leaves behind: the run, and Ann's row (sent since).
    const { id: runId } = await database.db
      .insertInto('digest_runs')
      .values({ cadence: 'daily', period_end: DAY, status: 'building', content: JSON.stringify(content), created_at: NOW.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const ann = await database.db.selectFrom('subscribers').select('id').where('email_key', '=', 'ann@example.org').executeTakeFirstOrThrow();
    await database.db
      .insertInto('digest_deliveries')
      .values({ run_id: runId, subscriber_id: ann.id, email: 'Ann@example.org', selection: '{"trending":[0],"keywords":[]}', status: 'sent' })
      .execute();

    // A recent build may still be running elsewhere: left alone.
    const young = await createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: new Date(NOW.getTime() + 60_000) });
    assert.deepEqual([young.runId, young.created, young.status], [runId, false, 'building']);
    assert.equal(await count(database, 'digest_deliveries'), 1);

    // Stale (or resumed explicitly): finished with the content it froze.
    const resumed = await createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: new Date(NOW.getTime() + 10 * 60_000) });
    assert.deepEqual([resumed.runId, resumed.created, resumed.status, resumed.recipients], [runId, false, 'sending', 3]);
    const rows = await deliveries(database, runId);
    assert.deepEqual(
      rows.map((r) => [r.email, r.status, r.selection]),
      [
        ['Ann@example.org', 'sent', { trending: [0], keywords: [] }],
        ['physics@example.org', 'pending', { trending: [1], keywords: [] }],
        ['picky@example.org', 'pending', { trending: [1], keywords: [2] }],
      ],
    );
    // Two builders resuming at once insert every row once.
    await database.db.updateTable('digest_runs').set({ status: 'building' }).where('id', '=', runId).execute();
    await database.db.deleteFrom('digest_deliveries').where('run_id', '=', runId).where('status', '=', 'pending').execute();
    const both = await Promise.all([
      createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: NOW, resume: true }),
      createRun(t.ctx, { cadence: 'daily', periodEnd: DAY }, { now: NOW, resume: true }),
    ]);
    assert.deepEqual(both.map((b) => [b.runId, b.recipients, b.status]), [[runId, 3, 'sending'], [runId, 3, 'sending']]);
    assert.deepEqual((await deliveries(database, runId)).map((r) => [r.email, r.status]), [
      ['Ann@example.org', 'sent'],
      ['physics@example.org', 'pending'],
      ['picky@example.org', 'pending'],
    ]);
  } finally {
    await t.close();
  }
});

test('paperboy digest run --dry-run prints the papers and recipients and writes nothing', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    await addAudience(database);
    const env = envFor(t.ctx.config.dataDir, t.ctx.config.database);
    const before = [await count(database, 'digest_runs'), await count(database, 'digest_deliveries')];
    const r = await runCli(['digest', 'run', '--date', DAY, '--dry-run'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^digest daily 2026-11-19 \(dry run, nothing written\): papers featured on 2026-11-19$/m);
    assert.match(r.stdout, /^3 papers:$/m);
    assert.match(r.stdout, /^ {2}2611\.00001 {2}Diffusion models for α-stable images$/m);
    assert.match(r.stdout, /^3 recipients; the first 3:\n {2}Ann@example\.org\n {2}physics@example\.org\n {2}picky@example\.org$/m);
    assert.doesNotMatch(r.stdout, /pending@|gone@|bounced@|weekly@|algebra@/);
    assert.deepEqual([await count(database, 'digest_runs'), await count(database, 'digest_deliveries')], before);

    const weekly = await runCli(['digest', 'run', '--cadence', 'weekly', '--date', DAY, '--dry-run'], env);
    assert.equal(weekly.code, 0, weekly.stderr);
    assert.match(weekly.stdout, /papers featured 2026-11-13 to 2026-11-19/);
    assert.match(weekly.stdout, /^4 papers:$/m);
    assert.match(weekly.stdout, /^1 recipients; the first 1:\n {2}weekly@example\.org$/m);
  } finally {
    await t.close();
  }
});

test('paperboy digest run builds and sends in the foreground; running it again sends nothing new', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    await addAudience(database);
    const env = envFor(t.ctx.config.dataDir, t.ctx.config.database);
    const first = await runCli(['digest', 'run', '--date', DAY], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'digest daily 2026-11-19: 3 recipients, 3 papers; sent 3, failed 0, uncertain 0, cancelled 0\n');
    const outbox = await database.db.selectFrom('outbox').select(['recipient', 'subject']).where('kind', '=', 'digest').orderBy('recipient').execute();
    assert.deepEqual(outbox, [
      { recipient: 'Ann@example.org', subject: 'Trending papers, Thu 19 Nov 2026' },
      { recipient: 'physics@example.org', subject: 'Trending papers, Thu 19 Nov 2026' },
      { recipient: 'picky@example.org', subject: 'Trending papers, Thu 19 Nov 2026' },
    ]);
    const again = await runCli(['digest', 'run', '--date', DAY, '--cadence', 'daily'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      again.stdout,
      'digest daily 2026-11-19: 3 recipients, 3 papers; already built; nothing new to send (sent 3, failed 0, uncertain 0, cancelled 0)\n',
    );
    assert.equal(Number(await value(database, sql`SELECT count(*) FROM outbox WHERE kind = 'digest'`)), 3);
    const empty = await runCli(['digest', 'run', '--date', '2026-11-21'], env);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, 'digest daily 2026-11-21: 0 recipients, 0 papers; nobody to send to\n');
  } finally {
    await t.close();
  }
});

test('the planner builds the runs that are due and queues one send job per run, which sends it', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    dueAllDay(t);
    const today = new Date().toISOString().slice(0, 10);
    await unfeaturePaper(database, '2611.00004', 'bob');
    await featurePaper(database, { arxivId: '2611.00004', on: today, source: 'curator', by: 'bob' });
    await addSubscriber(database, 'weekly@example.org', 'confirmed', { cadence: 'weekly' });
    const first = await planOnce(t);
    const run = await database.db.selectFrom('digest_runs').selectAll().where('cadence', '=', 'weekly').executeTakeFirstOrThrow();
    assert.equal(run.period_end, today);
    assert.equal(run.status, 'sending');
    // On a weekday the daily run is due too (and done at once: nobody takes the daily digest).
    assert.ok(first.built.includes(run.id));
    assert.equal(first.queued, 1);
    const jobs = await database.db.selectFrom('jobs').select(['type', 'payload', 'unique_key']).where('type', '=', 'digest.send').execute();
    assert.deepEqual(jobs, [{ type: 'digest.send', payload: JSON.stringify({ runId: run.id }), unique_key: `digest.send:${run.id}` }]);
    const runs = await count(database, 'digest_runs');
    const second = await planOnce(t);
    assert.deepEqual([second.built, second.queued], [[], 0]);
    assert.equal(await count(database, 'digest_runs'), runs);
    assert.equal(Number(await value(database, sql`SELECT count(*) FROM jobs WHERE type = 'digest.send'`)), 1);

    // The send job: stopped before it finished, it throws (so the worker releases it) instead of completing.
    const send = (signal: AbortSignal) =>
      sendDigestHandler({
        job: { id: 2, type: 'digest.send', payload: { runId: run.id }, uniqueKey: null, attempt: 1, maxAttempts: 10, runAt: 0, createdAt: 0 },
        signal,
        log: t.ctx.log,
        ctx: t.ctx,
      });
    const stopped = new AbortController();
    stopped.abort(new Error('shutting down'));
    await assert.rejects(send(stopped.signal), /shutting down/);
    assert.deepEqual(await send(new AbortController().signal), { sent: 1, failed: 0, uncertain: 0, cancelled: 0, pending: 0 });
    const finished = await database.db.selectFrom('digest_runs').select('status').where('id', '=', run.id).executeTakeFirstOrThrow();
    assert.equal(finished.status, 'done');
  } finally {
    await t.close();
  }
});

test('the planner waits for the papers of the period instead of freezing an empty run', async () => {
  const t = await withPapers();
  try {
    const database = t.ctx.database;
    dueAllDay(t);
    await addSubscriber(database, 'weekly@example.org', 'confirmed', { cadence: 'weekly' });
    // Due, but nothing featured in the period yet (the harvest has not run): nothing is built.
    const early = await planOnce(t);
    assert.deepEqual(early.built, []);
    assert.equal(await count(database, 'digest_runs'), 0);
    const today = new Date().toISOString().slice(0, 10);
    await unfeaturePaper(database, '2611.00004', 'bob');
    await featurePaper(database, { arxivId: '2611.00004', on: today, source: 'curator', by: 'bob' });
    const later = await planOnce(t);
    const run = await database.db.selectFrom('digest_runs').selectAll().where('cadence', '=', 'weekly').executeTakeFirstOrThrow();
    assert.ok(later.built.includes(run.id));
    assert.equal(run.recipients, 1);
  } finally {
    await t.close();
  }
});

test('paperboy digest run explains bad input and exits 2', async () => {
  const env = envFor(tempDataDir(), { engine: 'sqlite', file: join(tempDataDir(), 'unused.db') });
  const cases: [string[], RegExp][] = [
    [['--date', '2026-02-30'], /--date: must be a real date written YYYY-MM-DD, got "2026-02-30"/],
    [['--cadence', 'monthly'], /--cadence: must be daily or weekly, got "monthly"/],
    [['--date', '2999-01-01'], /--date: 2999-01-01 is after today/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['digest', 'run', ...args], env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
