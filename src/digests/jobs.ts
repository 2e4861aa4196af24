/**
 * Digest jobs: `digest.plan` (every 15 minutes when digests are enabled)
 * builds the runs that are due and queues one `digest.send` per run being
 * sent; `digest.send` works through a run's delivery ledger. Both are
 * idempotent: a run is built once, and the ledger never sends a row twice.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import { defineJobType, enqueue, jobSpec, type JobHandler } from '../jobs/queue.js';
import type { Schedule } from '../jobs/scheduler.js';
import { periodHasPapers } from './content.js';
import { deliverRun } from './delivery.js';
import { BUILD_STALE_MS, createRun, planDue } from './runs.js';

/** How often the planner looks for due runs: a run starts at most this long after its hour. */
export const PLAN_EVERY_MS = 15 * 60_000;

export const planDigestsJob = defineJobType('digest.plan', z.object({}), { maxAttempts: 3 });

export const sendDigestJob = defineJobType('digest.send', z.object({ runId: z.number().int().positive() }));

/** The send job of a run: one per run, however often the planner asks. */
export function sendDigestSpec(runId: number) {
  return jobSpec(sendDigestJob, { runId }, { uniqueKey: `digest.send:${runId}` });
}

export const planDigestsHandler: JobHandler<z.output<typeof planDigestsJob.schema>> = async ({ ctx, log, signal }) => {
  const now = new Date();
  const built: number[] = [];
  for (const due of planDue(now, ctx.config.digest)) {
    signal.throwIfAborted();
    if (!(await periodHasPapers(ctx.database, due.cadence, due.periodEnd))) continue;
    const run = await createRun(ctx, due, { now });
    if (run.created) built.push(run.runId);
  }
  // A builder that crashed left its run `building`; createRun finishes it once it is stale.
  const stalled = await ctx.database.db
    .selectFrom('digest_runs')
    .select(['cadence', 'period_end'])
    .where('status', '=', 'building')
    .where('created_at', '<', new Date(now.getTime() - BUILD_STALE_MS).toISOString())
    .execute();
  for (const run of stalled) {
    signal.throwIfAborted();
    await createRun(ctx, { cadence: run.cadence, periodEnd: run.period_end }, { now });
  }
  const sending = await ctx.database.db.selectFrom('digest_runs').select('id').where('status', '=', 'sending').execute();
  let queued = 0;
  for (const run of sending) {
    if ((await enqueue(ctx.database.db, sendDigestSpec(run.id))).created) queued++;
  }
  if (built.length > 0 || queued > 0) log.info({ built, queued }, 'digest runs planned');
  return { built, resumed: stalled.length, queued };
};

export const sendDigestHandler: JobHandler<z.output<typeof sendDigestJob.schema>> = async ({ ctx, job, signal }) => {
  const counts = await deliverRun(ctx, job.payload.runId, { signal });
  // deliverRun returns early when stopped. Completing the job then would leave
  // the run's rows with no job to send them (its key exists): throwing releases
  // the job on shutdown, and retries it otherwise.
  signal.throwIfAborted();
  if (counts.pending > 0) throw new Error(`digest run ${job.payload.runId}: ${counts.pending} deliveries still pending`);
  return counts;
};

/** The planner's schedule, when the scheduler is to create runs (`paperboy digest run` works either way). */
export function digestSchedules(config: Pick<Config, 'digest'>): Schedule[] {
  if (!config.digest.enabled) return [];
  return [{ name: 'digest.plan', everyMs: PLAN_EVERY_MS, enqueue: () => jobSpec(planDigestsJob, {}) }];
}
