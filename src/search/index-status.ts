/**
 * The keyword index's state for /readyz and /metrics. Embedded (SQLite): the
 * FTS5 index is written in the same transaction as each paper, so it is always
 * caught up. Server mode (PostgreSQL): this process's derived index file,
 * measured against the changes PostgreSQL has committed since its last sync.
 */
import type { AppContext } from '../context.js';
import { keywordIndexStatus as indexStatus } from '../db/keyword-index.js';

export interface KeywordIndexStatus {
  engine: 'sqlite' | 'postgres';
  /** Built, and synced within the last few poll intervals. */
  caughtUp: boolean;
  /** Seconds since the index last matched the database (-1: never yet). */
  lagSeconds: number;
  /** Committed changes (papers, featuring, deletions) the index has not applied yet. */
  pendingChanges: number;
}

export async function keywordIndexStatus(ctx: AppContext): Promise<KeywordIndexStatus> {
  const { engine, caughtUp, lagSeconds, pendingChanges } = await indexStatus(ctx.database);
  return { engine, caughtUp, lagSeconds, pendingChanges };
}
