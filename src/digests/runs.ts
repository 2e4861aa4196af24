/**
 * Digest runs: one per (cadence, period). Building a run freezes what it
 * says (the period's papers) and who gets it (each confirmed, unsuppressed
 * subscriber of the cadence, with their selection), as rows of the delivery
 * ledger that the sender then works through. A run is built once: asking
 * for it again returns it unchanged, so re-running a digest sends nothing new.
 */
import type { Config, Weekday } from '../config.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import type { DigestCadence, DigestRunStatus } from '../db/schema.js';
import { recipientSelection } from '../personal/digest-section.js';
import { preferencesOf } from '../subscriptions/preferences.js';
import { buildContent, DigestSelector, type DigestContent, type DigestSelection } from './content.js';

/** Subscribers read per page of the audience (keyset on id). */
const AUDIENCE_PAGE = 1000;
/** Delivery rows per INSERT: 500 × 4 parameters stays far below both engines' limits. */
const INSERT_BATCH = 500;
/** A run still `building` this long after it was created was abandoned by a crashed builder. */
export const BUILD_STALE_MS = 3 * 60_000;

export interface RunRequest {
  cadence: DigestCadence;
  /** The period's last day, YYYY-MM-DD. */
  periodEnd: string;
}

export interface CreateRunOptions {
  /** Resume a run left `building` however recently it started (it is safe: rows are keyed per recipient). */
  resume?: boolean;
  now?: Date;
}

export interface CreatedRun {
  runId: number;
  /** False when the run existed already (it is returned as it is, or its build resumed). */
  created: boolean;
  /** Deliveries the run has: its frozen audience. */
  recipients: number;
  status: DigestRunStatus;
  content: DigestContent;
}

/** One recipient as a run freezes them. */
export interface AudienceMember {
  subscriberId: number;
  email: string;
  selection: DigestSelection;
}

/**
 * The run's recipients after `afterId`, in id order, a page at a time: every
 * subscriber who is confirmed, on the cadence and not suppressed, and whose
 * preferences leave something to send. Read-only (dry runs use it too).
 */
export async function* audience(
  database: Database,
  content: DigestContent,
  afterId = 0,
): AsyncGenerator<AudienceMember[]> {
  const selector = new DigestSelector(content);
  for (let after = afterId; ; ) {
    const rows = await database.db
      .selectFrom('subscribers as s')
      .select(['s.id', 's.email', 's.cadence', 's.paper_count', 's.categories', 's.keywords', 's.muted_keywords', 's.user_id', 's.for_you'])
      .where('s.status', '=', 'confirmed')
      .where('s.cadence', '=', content.cadence)
      .where('s.id', '>', after)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('suppressions as x').select('x.email_key').whereRef('x.email_key', '=', 's.email_key'))),
      )
      .orderBy('s.id')
      .limit(AUDIENCE_PAGE)
      .execute();
    if (rows.length === 0) return;
    after = rows[rows.length - 1]?.id ?? after;
    const members: AudienceMember[] = [];
    for (const row of rows) {
      // Linked to an account: its mutes and dismissals apply too, and it may get a For you section.
      const selection = await recipientSelection(database, selector, preferencesOf(row), { userId: row.user_id, forYou: row.for_you === 1 });
      if (selection !== null) members.push({ subscriberId: row.id, email: row.email, selection });
    }
    yield members;
    if (rows.length < AUDIENCE_PAGE) return;
  }
}

async function findRun(database: Database, request: RunRequest) {
  return database.db
    .selectFrom('digest_runs')
    .selectAll()
    .where('cadence', '=', request.cadence)
    .where('period_end', '=', request.periodEnd)
    .executeTakeFirst();
}

async function deliveryCount(database: Database, runId: number): Promise<number> {
  const row = await database.db
    .selectFrom('digest_deliveries')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('run_id', '=', runId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Inserts the deliveries of every recipient after `afterId`, one transaction
 * per page. Rows are keyed (run, subscriber) and inserted with ON CONFLICT DO
 * NOTHING, so a resumed or concurrent build never duplicates a recipient.
 */
async function insertDeliveries(database: Database, runId: number, content: DigestContent, afterId: number): Promise<void> {
  for await (const page of audience(database, content, afterId)) {
    if (page.length === 0) continue;
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < page.length; i += INSERT_BATCH) {
        const values = page.slice(i, i + INSERT_BATCH).map((m) => ({
          run_id: runId,
          subscriber_id: m.subscriberId,
          email: m.email,
          selection: JSON.stringify(m.selection),
        }));
        await trx
          .insertInto('digest_deliveries')
          .values(values)
          .onConflict((oc) => oc.columns(['run_id', 'subscriber_id']).doNothing())
          .execute();
      }
    });
  }
}

/** Finishes a build: the audience is frozen; a run with nobody to send to is done at once. */
async function finishBuild(database: Database, runId: number): Promise<{ recipients: number; status: DigestRunStatus }> {
  const recipients = await deliveryCount(database, runId);
  // The time the build ended, not the `now` it started with: built_at - created_at is the build time.
  const at = new Date().toISOString();
  const status: DigestRunStatus = recipients > 0 ? 'sending' : 'done';
  // Only from `building`: a concurrent builder that finished first (and a sender since) keeps its status.
  await database.db
    .updateTable('digest_runs')
    .set({ status, recipients, built_at: at, finished_at: status === 'done' ? at : null })
    .where('id', '=', runId)
    .where('status', '=', 'building')
    .execute();
  const run = await database.db.selectFrom('digest_runs').select(['status', 'recipients']).where('id', '=', runId).executeTakeFirstOrThrow();
  return { recipients: run.recipients, status: run.status };
}

function parseContent(json: string): DigestContent {
  return JSON.parse(json) as DigestContent;
}

/**
 * Creates the run of a period and freezes its audience, or returns the
 * existing run untouched. A run found still `building` (its builder
 * crashed) is finished from the last recipient it inserted, with the content
 * it froze, when it is older than BUILD_STALE_MS or `resume` is set.
 */
export async function createRun(ctx: AppContext, request: RunRequest, options: CreateRunOptions = {}): Promise<CreatedRun> {
  const { database } = ctx;
  const now = options.now ?? new Date();
  const existing = await findRun(database, request);
  if (existing !== undefined) {
    const content = parseContent(existing.content);
    const stale = now.getTime() - Date.parse(existing.created_at) >= BUILD_STALE_MS;
    if (existing.status !== 'building' || !(stale || options.resume === true)) {
      return { runId: existing.id, created: false, recipients: existing.recipients, status: existing.status, content };
    }
    const last = await database.db
      .selectFrom('digest_deliveries')
      .select((eb) => eb.fn.max('subscriber_id').as('last'))
      .where('run_id', '=', existing.id)
      .executeTakeFirst();
    ctx.log.info({ run: existing.id, after: last?.last ?? 0 }, 'resuming the build of a digest run');
    await insertDeliveries(database, existing.id, content, Number(last?.last ?? 0));
    const built = await finishBuild(database, existing.id);
    return { runId: existing.id, created: false, ...built, content };
  }

  const content = await buildContent(database, request.cadence, request.periodEnd, now.getTime());
  const inserted = await database.db
    .insertInto('digest_runs')
    .values({
      cadence: request.cadence,
      period_end: request.periodEnd,
      status: 'building',
      content: JSON.stringify(content),
      created_at: now.toISOString(),
    })
    .onConflict((oc) => oc.columns(['cadence', 'period_end']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted === undefined) {
    // Another builder created it between our look-up and insert: theirs stands.
    const raced = await findRun(database, request);
    if (raced === undefined) throw new Error(`digest run ${request.cadence} ${request.periodEnd} vanished while being created`);
    return { runId: raced.id, created: false, recipients: raced.recipients, status: raced.status, content: parseContent(raced.content) };
  }
  await insertDeliveries(database, inserted.id, content, 0);
  const built = await finishBuild(database, inserted.id);
  ctx.log.info({ run: inserted.id, ...request, papers: content.papers.length, ...built }, 'digest run built');
  return { runId: inserted.id, created: true, ...built, content };
}

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar day, weekday and hour of `now` in a time zone. */
export function localTime(now: Date, timeZone: string): { day: string; weekday: Weekday; hour: number } {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(now).map((p) => [p.type, p.value]));
  const weekday = WEEKDAYS.find((w) => w === parts.weekday?.toLowerCase());
  if (weekday === undefined) throw new Error(`unexpected weekday "${parts.weekday}" in ${timeZone}`);
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    weekday,
    // Some engines write midnight as 24 even with h23.
    hour: Number(parts.hour) % 24,
  };
}

/**
 * The runs due at `now` (pure): the daily run of the local day on Monday to
 * Friday from the configured hour on, and the weekly run of the local day on
 * the configured weekday from that hour on. Creating a run is idempotent, so
 * the planner asks every few minutes and only the first ask builds.
 */
export function planDue(now: Date, digest: Pick<Config['digest'], 'hour' | 'timeZone' | 'weeklyDay'>): RunRequest[] {
  const local = localTime(now, digest.timeZone);
  if (local.hour < digest.hour) return [];
  const due: RunRequest[] = [];
  if (local.weekday !== 'sat' && local.weekday !== 'sun') due.push({ cadence: 'daily', periodEnd: local.day });
  if (local.weekday === digest.weeklyDay) due.push({ cadence: 'weekly', periodEnd: local.day });
  return due;
}
