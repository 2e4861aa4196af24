/**
 * The one difference between the engines in a claim (jobs, digest deliveries):
 * PostgreSQL runs claims concurrently, so the candidate row is locked with
 * FOR UPDATE SKIP LOCKED (a row another claimer holds is skipped, not waited
 * for); SQLite runs every write under its single write lock, so the plain
 * subquery is already exclusive there (and SQLite has no FOR UPDATE).
 */
import { PostgresAdapter, type Kysely } from 'kysely';
import type { DB } from './schema.js';

/** Whether claims on `db` run concurrently (PostgreSQL). */
export function claimsConcurrently(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** `candidate`, locked and skipping locked rows where claims run concurrently. */
export function lockedCandidate<Q extends { forUpdate(): Q; skipLocked(): Q }>(concurrent: boolean, candidate: Q): Q {
  return concurrent ? candidate.forUpdate().skipLocked() : candidate;
}
