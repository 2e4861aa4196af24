import type { Migration } from '../migrate.js';

/**
 * The tombstone trigger of migration 008 names `search_deletions` without a
 * schema, so it resolved against the deleting session's search_path: a paper
 * deleted by an admin in psql (search_path "$user", public) failed, or left
 * its tombstone in another instance's schema. The function now keeps the
 * search_path the migration ran with, which is the instance's.
 */
export const triggerSearchPath: Migration = {
  version: 10,
  name: 'trigger_search_path',
  sqlite: `-- SQLite has no schemas to resolve`,
  postgres: `ALTER FUNCTION record_paper_deletion() SET search_path FROM CURRENT;`,
};
