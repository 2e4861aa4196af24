import type { Migration } from '../migrate.js';

/**
 * People and curation (docs/decisions/012-people-and-curation.md).
 *
 * - `paper_authors`: each paper's parsed author names in order, so author
 *   pages and author follows find a name's papers by index. New papers are
 *   added in bulk after their writes commit, up to the watermark in
 *   `paper_author_sync` (src/db/paper-author-index.ts): a row trigger cost
 *   bulk imports 45% of their speed, in random writes to the name index at
 *   every commit. A trigger keeps already-indexed papers whose authors change.
 * - `author_claims`: "I am this author of this paper", pending until a
 *   curator verifies or rejects it (with a reason the claimant sees).
 * - `collections`, `collection_papers`: named reading lists, private unless
 *   made public, each paper with a note and a position.
 * - `follows`: authors, categories, users and keywords someone follows;
 *   `feed_tokens` holds the secret of each person's Following RSS feed.
 * - Moderation: users can be banned or suspended, comments hidden, threads
 *   locked; `reports` is the queue; `moderation_log` the public record of
 *   every action by a curator, moderator or admin; `instance_settings` what
 *   admins change without a restart.
 */
export const people: Migration = {
  version: 15,
  name: 'people',
  sqlite: `
      CREATE TABLE paper_authors (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
      );
      CREATE INDEX paper_authors_name ON paper_authors (name, paper_id);
      -- Papers up to last_paper_id are in paper_authors; no row: none is. An
      -- empty instance has no row, so migrate-data still sees an empty target.
      CREATE TABLE paper_author_sync (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_paper_id INTEGER NOT NULL
      );
      INSERT INTO paper_authors (paper_id, position, name)
        SELECT p.id, a.key, json_extract(a.value, '$.name') FROM papers p, json_each(p.authors) a
        WHERE json_extract(a.value, '$.name') IS NOT NULL;
      INSERT INTO paper_author_sync (id, last_paper_id) SELECT 1, max(id) FROM papers HAVING count(*) > 0;
      CREATE TRIGGER papers_authors_update AFTER UPDATE OF authors ON papers
        WHEN NEW.authors IS NOT OLD.authors AND NEW.id <= coalesce((SELECT last_paper_id FROM paper_author_sync), 0) BEGIN
        DELETE FROM paper_authors WHERE paper_id = NEW.id;
        INSERT INTO paper_authors (paper_id, position, name)
          SELECT NEW.id, a.key, json_extract(a.value, '$.name') FROM json_each(NEW.authors) a
          WHERE json_extract(a.value, '$.name') IS NOT NULL;
      END;

      CREATE TABLE author_claims (
        id INTEGER PRIMARY KEY,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        -- The parsed author name claimed, exactly as on the paper.
        author_name TEXT NOT NULL,
        -- What the claimant offers as evidence (a homepage, an ORCID), shown to curators.
        evidence TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
        -- A rejection's reason, shown to the claimant.
        reason TEXT,
        decided_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
        decided_at TEXT,
        show_on_profile INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        UNIQUE (paper_id, user_id)
      );
      -- One verified person per author name of a paper.
      CREATE UNIQUE INDEX author_claims_verified ON author_claims (paper_id, author_name) WHERE status = 'verified';
      CREATE INDEX author_claims_status ON author_claims (status, created_at);
      CREATE INDEX author_claims_user ON author_claims (user_id, status);

      CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        is_public INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX collections_user ON collections (user_id, updated_at);
      CREATE INDEX collections_public ON collections (updated_at) WHERE is_public = 1;

      CREATE TABLE collection_papers (
        collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        -- Order in the list, smallest first; reordering rewrites them.
        position INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL,
        PRIMARY KEY (collection_id, paper_id)
      );
      CREATE INDEX collection_papers_paper ON collection_papers (paper_id);

      CREATE TABLE follows (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('author', 'category', 'user', 'keyword')),
        -- An author's parsed name, a category id, a keyword query, or a followed user's id in decimal.
        target TEXT NOT NULL,
        -- Set for kind 'user' only, so following someone ends with their account.
        followed_user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        UNIQUE (user_id, kind, target)
      );
      CREATE INDEX follows_target ON follows (kind, target);

      CREATE TABLE feed_tokens (
        user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        token TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );

      -- The Following feed's "from a user you follow" (papers they submitted).
      CREATE INDEX featured_submitted_by ON featured (featured_by) WHERE source = 'submission';
      -- BibTeX import matches DOIs whatever their case.
      CREATE INDEX papers_doi_key ON papers (lower(doi));

      ALTER TABLE users ADD COLUMN banned_at TEXT;
      -- A suspension ends by itself at this time (ISO).
      ALTER TABLE users ADD COLUMN suspended_until TEXT;
      -- Why the account is banned or suspended, shown to its owner.
      ALTER TABLE users ADD COLUMN restriction_reason TEXT;

      ALTER TABLE comments ADD COLUMN hidden_at TEXT;
      ALTER TABLE comments ADD COLUMN hidden_by INTEGER REFERENCES users (id) ON DELETE SET NULL;
      ALTER TABLE comments ADD COLUMN hidden_reason TEXT;

      CREATE TABLE thread_locks (
        paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        locked_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
        reason TEXT NOT NULL,
        locked_at TEXT NOT NULL
      );

      CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        reporter_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        reason TEXT NOT NULL CHECK (reason IN ('spam', 'abuse', 'off-topic', 'other')),
        details TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
        -- 'hidden' (the comment was hidden), 'dismissed' (nothing to do).
        resolution TEXT CHECK (resolution IN ('hidden', 'dismissed')),
        UNIQUE (comment_id, reporter_id)
      );
      CREATE INDEX reports_open ON reports (created_at) WHERE resolved_at IS NULL;

      CREATE TABLE moderation_log (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        -- Kept as written, so the log still says who acted after an account is deleted.
        actor_name TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        action TEXT NOT NULL,
        subject_kind TEXT NOT NULL CHECK (subject_kind IN ('paper', 'comment', 'user', 'claim', 'setting', 'report')),
        subject_id TEXT NOT NULL,
        -- What the public log shows for the subject (a title, a username).
        subject_label TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX moderation_log_subject ON moderation_log (subject_kind, subject_id);

      CREATE TABLE instance_settings (
        key TEXT PRIMARY KEY,
        -- JSON.
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by INTEGER REFERENCES users (id) ON DELETE SET NULL
      );
    `,
  postgres: `
      CREATE TABLE paper_authors (
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
      );
      CREATE INDEX paper_authors_name ON paper_authors (name, paper_id);
      CREATE TABLE paper_author_sync (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_paper_id BIGINT NOT NULL
      );
      INSERT INTO paper_authors (paper_id, position, name)
        SELECT p.id, a.ord - 1, a.value ->> 'name' FROM papers p, jsonb_array_elements(p.authors::jsonb) WITH ORDINALITY AS a (value, ord)
        WHERE a.value ->> 'name' IS NOT NULL;
      INSERT INTO paper_author_sync (id, last_paper_id) SELECT 1, max(id) FROM papers HAVING count(*) > 0;
      CREATE FUNCTION resync_paper_authors() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF NEW.authors IS NOT DISTINCT FROM OLD.authors OR NEW.id > coalesce((SELECT last_paper_id FROM paper_author_sync), 0) THEN RETURN NULL; END IF;
        DELETE FROM paper_authors WHERE paper_id = NEW.id;
        INSERT INTO paper_authors (paper_id, position, name)
          SELECT NEW.id, a.ord - 1, a.value ->> 'name' FROM jsonb_array_elements(NEW.authors::jsonb) WITH ORDINALITY AS a (value, ord)
          WHERE a.value ->> 'name' IS NOT NULL;
        RETURN NULL;
      END $$;
      CREATE TRIGGER papers_authors AFTER UPDATE OF authors ON papers
        FOR EACH ROW EXECUTE FUNCTION resync_paper_authors();

      CREATE TABLE author_claims (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        author_name TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
        reason TEXT,
        decided_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
        decided_at TEXT,
        show_on_profile INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        UNIQUE (paper_id, user_id)
      );
      CREATE UNIQUE INDEX author_claims_verified ON author_claims (paper_id, author_name) WHERE status = 'verified';
      CREATE INDEX author_claims_status ON author_claims (status, created_at);
      CREATE INDEX author_claims_user ON author_claims (user_id, status);

      CREATE TABLE collections (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        is_public INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX collections_user ON collections (user_id, updated_at);
      CREATE INDEX collections_public ON collections (updated_at) WHERE is_public = 1;

      CREATE TABLE collection_papers (
        collection_id BIGINT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        added_at TEXT NOT NULL,
        PRIMARY KEY (collection_id, paper_id)
      );
      CREATE INDEX collection_papers_paper ON collection_papers (paper_id);

      CREATE TABLE follows (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('author', 'category', 'user', 'keyword')),
        target TEXT NOT NULL,
        followed_user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        UNIQUE (user_id, kind, target)
      );
      CREATE INDEX follows_target ON follows (kind, target);

      CREATE TABLE feed_tokens (
        user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        token TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      );

      CREATE INDEX featured_submitted_by ON featured (featured_by) WHERE source = 'submission';
      CREATE INDEX papers_doi_key ON papers (lower(doi));

      ALTER TABLE users ADD COLUMN banned_at TEXT;
      ALTER TABLE users ADD COLUMN suspended_until TEXT;
      ALTER TABLE users ADD COLUMN restriction_reason TEXT;

      ALTER TABLE comments ADD COLUMN hidden_at TEXT;
      ALTER TABLE comments ADD COLUMN hidden_by BIGINT REFERENCES users (id) ON DELETE SET NULL;
      ALTER TABLE comments ADD COLUMN hidden_reason TEXT;

      CREATE TABLE thread_locks (
        paper_id BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        locked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
        reason TEXT NOT NULL,
        locked_at TEXT NOT NULL
      );

      CREATE TABLE reports (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        reporter_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
        reason TEXT NOT NULL CHECK (reason IN ('spam', 'abuse', 'off-topic', 'other')),
        details TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
        resolution TEXT CHECK (resolution IN ('hidden', 'dismissed')),
        UNIQUE (comment_id, reporter_id)
      );
      CREATE INDEX reports_open ON reports (created_at) WHERE resolved_at IS NULL;

      CREATE TABLE moderation_log (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        created_at TEXT NOT NULL,
        actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
        actor_name TEXT NOT NULL,
        actor_role TEXT NOT NULL,
        action TEXT NOT NULL,
        subject_kind TEXT NOT NULL CHECK (subject_kind IN ('paper', 'comment', 'user', 'claim', 'setting', 'report')),
        subject_id TEXT NOT NULL,
        subject_label TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX moderation_log_subject ON moderation_log (subject_kind, subject_id);

      CREATE TABLE instance_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL
      );
    `,
};
