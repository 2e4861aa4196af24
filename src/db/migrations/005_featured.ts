import type { Migration } from '../migrate.js';

/**
 * Featured papers (the daily feed), the auto-feature rule's watermark, and the
 * per-paper counters that trending ranks by.
 */
export const featured: Migration = {
  version: 5,
  name: 'featured',
  sqlite: `
      -- One row per featured paper: a paper appears in the feed of one day.
      -- Unfeaturing sets hidden_at instead of deleting, so the rule that
      -- featured a paper never brings it back and the history stays readable.
      CREATE TABLE featured (
        paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        featured_on TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('rule', 'curator', 'submission')),
        featured_by TEXT,
        featured_at TEXT NOT NULL,
        hidden_at TEXT,
        hidden_by TEXT
      );
      CREATE INDEX featured_visible_day ON featured (featured_on, paper_id) WHERE hidden_at IS NULL;

      -- The highest paper id each rule has considered: the rule features new
      -- announcements only, and re-running it is a no-op.
      CREATE TABLE feature_rule_state (
        rule TEXT PRIMARY KEY,
        last_paper_id INTEGER NOT NULL
      );

      -- Counters kept by the community features (upvotes, comments) and read by
      -- trending. Constant defaults make these ALTERs O(1) on a large table.
      ALTER TABLE papers ADD COLUMN upvotes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE papers ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;
    `,
  postgres: `
      CREATE TABLE featured (
        paper_id BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        featured_on TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('rule', 'curator', 'submission')),
        featured_by TEXT,
        featured_at TEXT NOT NULL,
        hidden_at TEXT,
        hidden_by TEXT
      );
      CREATE INDEX featured_visible_day ON featured (featured_on, paper_id) WHERE hidden_at IS NULL;
      CREATE TABLE feature_rule_state (
        rule TEXT PRIMARY KEY,
        last_paper_id BIGINT NOT NULL
      );
      ALTER TABLE papers ADD COLUMN upvotes INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE papers ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;
    `,
};
