import type { Migration } from '../migrate.js';

/**
 * When each search tombstone was written, so that the daily maintenance job
 * can delete old ones: a derived index file that last synced longer ago than
 * the retention rebuilds instead of syncing (src/db/keyword-index-derived.ts),
 * so no file ever needs a tombstone older than that.
 */
export const searchDeletionsAge: Migration = {
  version: 12,
  name: 'search_deletions_age',
  sqlite: `-- SQLite keeps no tombstones: its index is written with each paper`,
  postgres: `
      ALTER TABLE search_deletions
        ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT ((extract(epoch FROM clock_timestamp()) * 1000)::bigint);
      CREATE INDEX search_deletions_deleted_at ON search_deletions (deleted_at);
    `,
};
