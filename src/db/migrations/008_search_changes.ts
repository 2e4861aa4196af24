import type { Migration } from '../migrate.js';

/**
 * What a server-mode process needs to keep its derived keyword index current
 * (src/db/keyword-index-derived.ts): every papers or featured row written
 * records the id of the transaction that wrote what search reads, and deletions
 * leave a tombstone. A reader takes everything from transactions at or after
 * its last snapshot's oldest running transaction, so a transaction that commits
 * late is never skipped (unlike a sequence, whose values become visible out of
 * order). SQLite writes its FTS5 index in the same transaction as the papers.
 */
export const searchChanges: Migration = {
  version: 8,
  name: 'search_changes',
  sqlite: `-- the keyword index is written with each paper (src/db/paper-writer-sqlite.ts)`,
  postgres: `
      ALTER TABLE papers ADD COLUMN search_xid BIGINT NOT NULL DEFAULT 0;
      CREATE INDEX papers_search_xid ON papers (search_xid);
      ALTER TABLE featured ADD COLUMN search_xid BIGINT NOT NULL DEFAULT 0;
      CREATE INDEX featured_search_xid ON featured (search_xid);
      CREATE TABLE search_deletions (
        paper_id BIGINT NOT NULL,
        search_xid BIGINT NOT NULL
      );
      CREATE INDEX search_deletions_xid ON search_deletions (search_xid);

      CREATE FUNCTION mark_paper_for_search() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Upvotes and comment counts change often and are not searched.
        IF TG_OP = 'INSERT'
          OR NEW.arxiv_id IS DISTINCT FROM OLD.arxiv_id
          OR NEW.title_text IS DISTINCT FROM OLD.title_text
          OR NEW.authors_text IS DISTINCT FROM OLD.authors_text
          OR NEW.abstract IS DISTINCT FROM OLD.abstract
          OR NEW.abstract_text IS DISTINCT FROM OLD.abstract_text
          OR NEW.announced_on IS DISTINCT FROM OLD.announced_on
          OR NEW.categories IS DISTINCT FROM OLD.categories THEN
          NEW.search_xid := pg_current_xact_id()::text::bigint;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER papers_search BEFORE INSERT OR UPDATE ON papers
        FOR EACH ROW EXECUTE FUNCTION mark_paper_for_search();

      CREATE FUNCTION mark_featured_for_search() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.search_xid := pg_current_xact_id()::text::bigint;
        RETURN NEW;
      END $$;
      CREATE TRIGGER featured_search BEFORE INSERT OR UPDATE ON featured
        FOR EACH ROW EXECUTE FUNCTION mark_featured_for_search();

      CREATE FUNCTION record_paper_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO search_deletions (paper_id, search_xid) VALUES (OLD.id, pg_current_xact_id()::text::bigint);
        RETURN NULL;
      END $$;
      CREATE TRIGGER papers_search_deletion AFTER DELETE ON papers
        FOR EACH ROW EXECUTE FUNCTION record_paper_deletion();
    `,
};
