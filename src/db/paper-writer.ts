/**
 * The one way papers are written, on either engine: a transaction in which a
 * caller applies batches of prepared items and writes its own bookkeeping (an
 * import position, a harvest checkpoint) through the same Kysely transaction,
 * so both commit together or not at all.
 */
import { sql, type Transaction } from 'kysely';
import type { ApplyOutcome } from '../ingest/paper-row.js';
import type { PreparedItem } from '../ingest/prepare.js';
import { sqliteHandle, type Database } from './connection.js';
import { BULK_LAG, syncPaperAuthors } from './paper-author-index.js';
import { lockPaperWrites, writePostgresBatch } from './paper-writer-postgres.js';
import { sqlitePaperWriter } from './paper-writer-sqlite.js';
import type { DB } from './schema.js';

/** An item whose write failed in {@link PaperBatch.applyIsolated}: skipped, with the database's reason. */
export interface FailedItem {
  status: 'failed';
  reason: string;
}

export interface PaperBatch {
  /** Writes the items in order; a database failure rolls back the whole transaction. */
  apply(items: readonly PreparedItem[]): Promise<ApplyOutcome[]>;
  /** Writes the items in order, each in a savepoint: one that fails is reported and skipped. */
  applyIsolated(items: readonly PreparedItem[]): Promise<(ApplyOutcome | FailedItem)[]>;
}

function failure(err: unknown): FailedItem {
  return { status: 'failed', reason: `could not be stored: ${err instanceof Error ? err.message : String(err)}` };
}

export interface PaperBatchOptions {
  /**
   * One batch of many in a bulk import: the author index is brought up to date
   * only every BULK_LAG papers, and the import syncs it when it ends.
   */
  bulk?: boolean;
}

/**
 * Runs `fn` in one write transaction with a paper batch writer and the
 * transaction for bookkeeping, then brings the author index up to date.
 */
export async function withPaperBatch<T>(
  database: Database,
  fn: (batch: PaperBatch, trx: Transaction<DB>) => Promise<T>,
  options: PaperBatchOptions = {},
): Promise<T> {
  const result = await writeBatch(database, fn);
  await syncPaperAuthors(database, options.bulk === true ? { minLag: BULK_LAG } : {});
  return result;
}

async function writeBatch<T>(database: Database, fn: (batch: PaperBatch, trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return database.db.transaction().execute(async (trx) => {
    if (database.engine === 'sqlite') {
      // The Kysely transaction holds SQLite's one connection, so these
      // synchronous statements run inside it.
      const sqlite = sqliteHandle(database);
      const writer = sqlitePaperWriter(sqlite);
      return fn(
        {
          apply: async (items) => items.map((item) => writer.apply(item)),
          applyIsolated: async (items) =>
            items.map((item) => {
              try {
                // A nested better-sqlite3 transaction is a SAVEPOINT.
                return sqlite.transaction(() => writer.apply(item))();
              } catch (err) {
                return failure(err);
              }
            }),
        },
        trx,
      );
    }
    await lockPaperWrites(trx);
    return fn(
      {
        apply: (items) => writePostgresBatch(trx, items),
        applyIsolated: async (items) => {
          // The whole batch first; only when it fails, item by item.
          await sql`SAVEPOINT paper_batch`.execute(trx);
          try {
            const outcomes = await writePostgresBatch(trx, items);
            await sql`RELEASE SAVEPOINT paper_batch`.execute(trx);
            return outcomes;
          } catch {
            await sql`ROLLBACK TO SAVEPOINT paper_batch`.execute(trx);
          }
          const outcomes: (ApplyOutcome | FailedItem)[] = [];
          for (const item of items) {
            await sql`SAVEPOINT paper_item`.execute(trx);
            try {
              const [outcome] = await writePostgresBatch(trx, [item]);
              await sql`RELEASE SAVEPOINT paper_item`.execute(trx);
              outcomes.push(outcome as ApplyOutcome);
            } catch (err) {
              await sql`ROLLBACK TO SAVEPOINT paper_item`.execute(trx);
              outcomes.push(failure(err));
            }
          }
          return outcomes;
        },
      },
      trx,
    );
  });
}
