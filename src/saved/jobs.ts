/**
 * Handlers of the saved-search jobs (types in job-types.ts): the check, the
 * per-person alert, and webhook deliveries. A delivery row records every
 * attempt's outcome; the queue's retries with backoff make the attempts, and
 * the row says `failed` once they are used up or the receiver refused for
 * good (a 4xx), which the search's edit page shows.
 */
import type { z } from 'zod';
import { jobSpec, PermanentJobError, type JobHandler } from '../jobs/queue.js';
import type { Schedule } from '../jobs/scheduler.js';
import { sendSavedSearchAlert } from './alerts.js';
import { checkSavedSearches } from './check.js';
import { checkSavedJob, savedAlertJob, webhookJob } from './job-types.js';
import { callWebhook } from './webhooks.js';

export { checkSavedJob, savedAlertJob, webhookJob } from './job-types.js';

export const checkSavedHandler: JobHandler<z.output<typeof checkSavedJob.schema>> = async ({ ctx, signal, log }) => {
  const report = await checkSavedSearches(ctx, { signal });
  if (report.newMatches > 0) log.info(report, 'saved searches checked');
  return report;
};

export const savedAlertHandler: JobHandler<z.output<typeof savedAlertJob.schema>> = async ({ ctx, job }) => sendSavedSearchAlert(ctx, job.payload.userId);

export const webhookHandler: JobHandler<z.output<typeof webhookJob.schema>> = async ({ ctx, job }) => {
  const db = ctx.database.db;
  const row = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('saved_searches as s', 's.id', 'd.saved_search_id')
    .select(['d.id', 'd.payload', 'd.status', 's.webhook_url', 's.webhook_secret'])
    .where('d.id', '=', job.payload.deliveryId)
    .executeTakeFirst();
  // Deleted with its search: nothing to deliver.
  if (row === undefined) return { skipped: 'no such delivery' };
  if (row.status !== 'pending') return { skipped: `already ${row.status}` };
  const attemptAt = new Date().toISOString();
  if (row.webhook_url === null || row.webhook_secret === null) {
    await db.updateTable('webhook_deliveries').set({ status: 'failed', last_error: 'the webhook was removed', last_attempt_at: attemptAt }).where('id', '=', row.id).execute();
    return { skipped: 'webhook removed' };
  }
  const outcome = await callWebhook({ url: row.webhook_url, secret: row.webhook_secret }, row.payload, {
    allowPrivate: ctx.config.webhookAllowPrivate,
    deliveryId: Number(row.id),
  });
  if (outcome.ok) {
    await db
      .updateTable('webhook_deliveries')
      .set({ status: 'sent', attempts: job.attempt, response_status: outcome.status, last_error: null, last_attempt_at: attemptAt, sent_at: attemptAt })
      .where('id', '=', row.id)
      .execute();
    return { status: outcome.status };
  }
  const final = outcome.permanent || job.attempt >= job.maxAttempts;
  await db
    .updateTable('webhook_deliveries')
    .set({ status: final ? 'failed' : 'pending', attempts: job.attempt, response_status: outcome.status, last_error: outcome.error.slice(0, 1000), last_attempt_at: attemptAt })
    .where('id', '=', row.id)
    .execute();
  if (outcome.permanent) throw new PermanentJobError(`webhook delivery ${row.id} refused: ${outcome.error}`);
  throw new Error(`webhook delivery ${row.id}, attempt ${job.attempt} of ${job.maxAttempts}: ${outcome.error}`);
};

/** The saved-search job types with their handlers, as `JobRegistry.register` arguments. */
export const SAVED_CHECK = [checkSavedJob, checkSavedHandler] as const;
export const SAVED_ALERT = [savedAlertJob, savedAlertHandler] as const;
export const SAVED_WEBHOOK = [webhookJob, webhookHandler] as const;

/** Checks every 15 minutes: new papers (harvests, imports, submissions) reach alerts and webhooks within a quarter hour of being embedded. */
export function savedSchedules(): Schedule[] {
  return [{ name: 'saved.check', everyMs: 15 * 60_000, enqueue: () => jobSpec(checkSavedJob, {}) }];
}
