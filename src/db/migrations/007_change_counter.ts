import type { Migration } from '../migrate.js';

/**
 * A data version that moves with every committed write to what pages show,
 * so each web process knows when its rendered-page cache is stale (see
 * src/db/change-counter.ts). SQLite has this built in (`PRAGMA data_version`,
 * `total_changes()`); PostgreSQL gets a one-row counter bumped by statement
 * triggers in the writing transaction, so the new version becomes visible
 * exactly when the data does: a sequence would move before the commit, and a
 * page rendered in between would be cached as current.
 */
export const changeCounter: Migration = {
  version: 7,
  name: 'change_counter',
  sqlite: `-- built in: PRAGMA data_version and total_changes()`,
  postgres: `
      CREATE TABLE data_changes (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
      );
      INSERT INTO data_changes (id, version) VALUES (1, 0);
      CREATE FUNCTION bump_data_changes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE data_changes SET version = version + 1 WHERE id = 1;
        RETURN NULL;
      END $$;
      CREATE TRIGGER papers_changed AFTER INSERT OR UPDATE OR DELETE ON papers
        FOR EACH STATEMENT EXECUTE FUNCTION bump_data_changes();
      CREATE TRIGGER paper_categories_changed AFTER INSERT OR UPDATE OR DELETE ON paper_categories
        FOR EACH STATEMENT EXECUTE FUNCTION bump_data_changes();
      CREATE TRIGGER featured_changed AFTER INSERT OR UPDATE OR DELETE ON featured
        FOR EACH STATEMENT EXECUTE FUNCTION bump_data_changes();
      CREATE TRIGGER paper_digests_changed AFTER INSERT OR UPDATE OR DELETE ON paper_digests
        FOR EACH STATEMENT EXECUTE FUNCTION bump_data_changes();
    `,
};
