import type { Migration } from '../migrate.js';

/**
 * The personal "For you" feed (docs/decisions/013-semantic-search.md).
 *
 * - `not_interested`: papers a person dismissed; they leave every feed and
 *   digest of that person, and count against similar papers in "For you".
 * - `muted_keywords`: words or phrases whose papers a signed-in person never
 *   sees in feeds and digests. `keyword_key` is the lower-cased, whitespace
 *   folded form, so "GAN" and "gan" are one mute; `keyword` keeps the
 *   spelling people typed.
 * - `subscribers.for_you`: whether a digest linked to an account carries its
 *   "For you" section (on unless turned off on the preferences page).
 */
export const forYou: Migration = {
  version: 17,
  name: 'for_you',
  sqlite: `
      CREATE TABLE not_interested (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
      );
      CREATE INDEX not_interested_paper ON not_interested (paper_id);
      CREATE TABLE muted_keywords (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        keyword_key TEXT NOT NULL,
        keyword TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, keyword_key)
      );
      ALTER TABLE subscribers ADD COLUMN for_you INTEGER NOT NULL DEFAULT 1;
  `,
  postgres: `
      CREATE TABLE not_interested (
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
      );
      CREATE INDEX not_interested_paper ON not_interested (paper_id);
      CREATE TABLE muted_keywords (
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        keyword_key TEXT NOT NULL,
        keyword TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, keyword_key)
      );
      ALTER TABLE subscribers ADD COLUMN for_you INTEGER NOT NULL DEFAULT 1;
  `,
};
