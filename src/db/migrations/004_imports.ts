import type { Migration } from '../migrate.js';

/**
 * Import positions: how many items of a file (identified by path, size and
 * modification time) are committed, so a killed import resumes where it stopped.
 */
export const imports: Migration = {
  version: 4,
  name: 'imports',
  sqlite: `
      CREATE TABLE import_progress (
        file_key TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        items_done INTEGER NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
      );
    `,
  postgres: `
      CREATE TABLE import_progress (
        file_key TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        items_done BIGINT NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
      );
    `,
};
