import type { Migration } from '../migrate.js';

/** The durable job queue (see src/jobs/). */
export const jobs: Migration = {
  version: 2,
  name: 'jobs',
  up(sqlite) {
    // Times are integer milliseconds since the epoch so the claim query compares
    // plain numbers (portable to Postgres bigint, no SQLite date functions).
    sqlite.exec(`
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        payload TEXT NOT NULL,
        unique_key TEXT,
        status TEXT NOT NULL DEFAULT 'queued'
          CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        priority INTEGER NOT NULL DEFAULT 0,
        run_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        last_error TEXT,
        result TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      -- A key stays taken for the life of the row (done and failed included), which
      -- is what makes a scheduler's per-period enqueue idempotent. NULLs never collide.
      CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);
      -- The claim's "next runnable job": partial, so the index holds only waiting
      -- jobs however many finished rows pile up; its order (rowid last) is the
      -- claim order, so the lookup stops at the first due row.
      CREATE INDEX jobs_queued ON jobs (priority DESC, run_at) WHERE status = 'queued';
      -- Expired leases (crashed workers), looked up by the same claim.
      CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
    `);
  },
};
