/**
 * The saved-search job types (handlers in src/saved/jobs.ts): the periodic
 * check for new matches, the email alert it queues per person, and each
 * webhook delivery, which the queue retries with backoff.
 */
import { z } from 'zod';
import { defineJobType } from '../jobs/queue.js';

/** Attempts a webhook delivery gets before it is recorded as failed. */
export const WEBHOOK_MAX_ATTEMPTS = 5;

export const checkSavedJob = defineJobType('saved.check', z.object({}), { maxAttempts: 3 });
export const savedAlertJob = defineJobType('saved.alert', z.object({ userId: z.number().int().positive() }), { maxAttempts: 5 });
/** 30 s, 1, 2, 4 min between attempts (jittered): a receiver that is down for a deploy gets time to come back. */
export const webhookJob = defineJobType('saved.webhook', z.object({ deliveryId: z.number().int().positive() }), {
  maxAttempts: WEBHOOK_MAX_ATTEMPTS,
  backoff: { baseMs: 30_000, capMs: 30 * 60_000 },
});
