import type { Migration } from '../migrate.js';

/**
 * A signal on every committed write to what pages show, so each web process
 * knows when its rendered-page cache is stale (see src/db/change-counter.ts).
 * SQLite has this built in (`PRAGMA data_version`, `total_changes()`). On
 * PostgreSQL statement triggers send a notification, which is delivered at
 * commit, to listeners only: a counter row bumped in the writing transaction
 * would be exact too, but would hold every writer behind the longest open
 * transaction (an import batch), and a sequence moves before the commit.
 */
export const changeCounter: Migration = {
  version: 7,
  name: 'change_counter',
  sqlite: `-- built in: PRAGMA data_version and total_changes()`,
  postgres: `
      CREATE FUNCTION notify_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Identical notifications of one transaction are folded into one.
        PERFORM pg_notify('paperboy_data_changed', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER papers_changed AFTER INSERT OR UPDATE OR DELETE ON papers
        FOR EACH STATEMENT EXECUTE FUNCTION notify_data_changed();
      CREATE TRIGGER paper_categories_changed AFTER INSERT OR UPDATE OR DELETE ON paper_categories
        FOR EACH STATEMENT EXECUTE FUNCTION notify_data_changed();
      CREATE TRIGGER featured_changed AFTER INSERT OR UPDATE OR DELETE ON featured
        FOR EACH STATEMENT EXECUTE FUNCTION notify_data_changed();
      CREATE TRIGGER paper_digests_changed AFTER INSERT OR UPDATE OR DELETE ON paper_digests
        FOR EACH STATEMENT EXECUTE FUNCTION notify_data_changed();
    `,
};
