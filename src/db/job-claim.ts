/**
 * The job claim, the one job-queue statement that differs by engine (see
 * src/jobs/queue.ts and docs/decisions/004-job-queue.md).
 */
import { sql, type Kysely } from 'kysely';
import { claimsConcurrently, lockedCandidate } from './skip-locked.js';
import type { DB, JobStatus } from './schema.js';

// Literals, not parameters: SQLite uses a partial index (WHERE status = ...) only
// when it can prove the query's status matches it while planning.
const QUEUED = sql.lit<JobStatus>('queued');
const RUNNING = sql.lit<JobStatus>('running');

/** What one claim asks for. */
export interface ClaimParams {
  owner: string;
  leaseMs: number;
  types: readonly string[];
  now: number;
}

/**
 * One UPDATE that picks the next runnable job and leases it to `owner`,
 * returning the leased row (none when nothing is runnable). Exported on its
 * own so a test can check its query plan.
 *
 * PostgreSQL runs claims concurrently: the candidate row is locked with FOR
 * UPDATE SKIP LOCKED, so a row another claimer holds is skipped rather than
 * waited for, and one that another claimer leased meanwhile no longer matches
 * when rechecked under the lock. SQLite runs every write statement under its
 * single write lock, so the plain subquery is already exclusive there (and
 * SQLite has no FOR UPDATE).
 */
export function claimStatement(db: Kysely<DB>, { owner, leaseMs, types, now }: ClaimParams) {
  const concurrent = claimsConcurrently(db);
  return db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      lease_owner: owner,
      lease_expires_at: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', (eb) =>
      // Expired leases first: that work was chosen before anything now queued.
      eb.fn.coalesce(
        lockedCandidate(
          concurrent,
          eb
            .selectFrom('jobs')
            .select('id')
            .where('status', '=', RUNNING)
            .where('lease_expires_at', '<=', now)
            .where('type', 'in', types)
            .orderBy('lease_expires_at')
            .limit(1),
        ),
        lockedCandidate(
          concurrent,
          eb
            .selectFrom('jobs')
            .select('id')
            .where('status', '=', QUEUED)
            .where('run_at', '<=', now)
            .where('type', 'in', types)
            .orderBy('priority', 'desc')
            .orderBy('run_at')
            .orderBy('id')
            .limit(1),
        ),
      ),
    )
    .returningAll();
}
