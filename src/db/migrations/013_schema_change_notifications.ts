import type { Migration } from '../migrate.js';

/**
 * Change notifications (migration 007) name the instance's schema. The
 * channel belongs to the whole database, so instances in different schemas
 * of one database (or a test suite beside a benchmark) emptied each other's
 * page caches on every write: a benchmark's front page fell from thousands of
 * requests a second to 35. Listeners now count only their own schema's
 * notifications (src/db/change-counter.ts). The function keeps the search_path
 * of this migration, the instance's, whoever writes.
 */
export const schemaChangeNotifications: Migration = {
  version: 13,
  name: 'schema_change_notifications',
  sqlite: `-- SQLite: one file, one instance`,
  postgres: `
      CREATE OR REPLACE FUNCTION notify_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- Identical notifications of one transaction are folded into one.
        PERFORM pg_notify('paperboy_data_changed', current_schema());
        RETURN NULL;
      END $$;
      ALTER FUNCTION notify_data_changed() SET search_path FROM CURRENT;
    `,
};
