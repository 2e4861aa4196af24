import type { Sqlite } from '../db/connection.js';
import type { ParseItem } from './record.js';

/** What happened to one parsed item when it was written. */
export type ApplyOutcome =
  | { status: 'imported'; arxivId: string }
  | { status: 'updated'; arxivId: string }
  | { status: 'unchanged'; arxivId: string }
  | { status: 'skipped'; reason: string };

/**
 * Writes parsed items into the papers tables. Synchronous: call `apply` inside
 * an open write transaction (see `withSqliteTransaction`), so a caller can
 * commit a batch of papers together with its own bookkeeping (a harvest
 * checkpoint, an import position) atomically.
 */
export class PaperStore {
  constructor(private readonly sqlite: Sqlite) {}

  apply(item: ParseItem): ApplyOutcome {
    void this.sqlite;
    void item;
    throw new Error('not implemented yet');
  }
}
