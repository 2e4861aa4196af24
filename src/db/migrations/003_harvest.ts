import type { Migration } from '../migrate.js';

/** Harvest checkpoints for the arXiv clients (see src/arxiv/). */
export const harvest: Migration = {
  version: 3,
  name: 'harvest',
  up(sqlite) {
    // One row per harvest run. A run advances its row in the same transaction
    // that writes a page's papers, so the row always names the next page to
    // fetch: a killed harvest resumes there, with no gap and no duplicate.
    sqlite.exec(`
      CREATE TABLE harvest_state (
        id INTEGER PRIMARY KEY,
        harvest_key TEXT NOT NULL,
        metadata_prefix TEXT NOT NULL,
        set_spec TEXT NOT NULL,
        from_date TEXT,
        until_date TEXT,
        resumption_token TEXT,
        pages_done INTEGER NOT NULL DEFAULT 0,
        records_done INTEGER NOT NULL DEFAULT 0,
        imported INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        restarts INTEGER NOT NULL DEFAULT 0,
        complete_list_size INTEGER,
        first_response_date TEXT,
        last_datestamp TEXT,
        covered_until TEXT,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
      );
      -- At most one unfinished run per key: that is the run a restart resumes.
      CREATE UNIQUE INDEX harvest_state_open ON harvest_state (harvest_key) WHERE finished_at IS NULL;
      CREATE INDEX harvest_state_finished ON harvest_state (metadata_prefix, set_spec, finished_at);
    `);
  },
};
