import type { Kysely } from 'kysely';
import { z } from 'zod';
import { pruneSearchTombstones } from '../db/keyword-index.js';
import type { DB } from '../db/schema.js';
import { defineJobType, type JobHandler } from './queue.js';

const DAY_MS = 86_400_000;

/** Deletes finished (`done`) jobs older than `olderThanDays` (failed jobs stay for inspection), and old search tombstones. */
export const pruneJobsJob = defineJobType(
  'maintenance.prune',
  z.object({ olderThanDays: z.number().int().min(1).default(7) }),
  { maxAttempts: 3 },
);

const BATCH = 1_000;

/**
 * Deletes done jobs that finished before `before`, in short batches so other
 * writers are never locked out for long. Walks the table by id instead of
 * using an index on finished_at, which every completion would have to update.
 */
export async function pruneDoneJobs(db: Kysely<DB>, before: number, signal?: AbortSignal): Promise<number> {
  let deleted = 0;
  let after = 0;
  for (;;) {
    signal?.throwIfAborted();
    const ids = await db
      .selectFrom('jobs')
      .select('id')
      .where('id', '>', after)
      .where('status', '=', 'done')
      .where('finished_at', '<', before)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    const last = ids.at(-1);
    if (last === undefined) return deleted;
    const result = await db
      .deleteFrom('jobs')
      .where(
        'id',
        'in',
        ids.map((r) => r.id),
      )
      // Re-checked under the write lock: a row is only ever deleted as done.
      .where('status', '=', 'done')
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
    after = last.id;
    // Let heartbeats and other queries in between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Handler for `maintenance.prune`. */
export const pruneJobsHandler: JobHandler<z.output<typeof pruneJobsJob.schema>> = async ({ job, signal, log, ctx }) => {
  const deleted = await pruneDoneJobs(ctx.database.db, Date.now() - job.payload.olderThanDays * DAY_MS, signal);
  const tombstones = await pruneSearchTombstones(ctx.database);
  log.info({ deleted, tombstones }, 'pruned finished jobs and old search tombstones');
  return { deleted, tombstones };
};
