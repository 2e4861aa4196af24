import type { Migration } from '../migrate.js';

/**
 * Rate-limit counters in the database, so a limit holds for a client across
 * every web process of an instance (src/db/rate-limit-store.ts).
 */
export const rateLimits: Migration = {
  version: 9,
  name: 'rate_limits',
  sqlite: `
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        reset_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX rate_limits_reset ON rate_limits (reset_at);
    `,
  postgres: `
      CREATE TABLE rate_limits (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        reset_at BIGINT NOT NULL
      );
      CREATE INDEX rate_limits_reset ON rate_limits (reset_at);
    `,
};
