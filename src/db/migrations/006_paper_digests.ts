import type { Migration } from '../migrate.js';

/**
 * Summaries and keyphrases, computed once per paper version by a background
 * job instead of on every page view (a fifth of a paper page's CPU). Each row
 * names the model that wrote it and when, so pages can say so, and records
 * the content hash it was computed from, so an updated paper is redone.
 */
export const paperDigests: Migration = {
  version: 6,
  name: 'paper_digests',
  sqlite: `
      CREATE TABLE paper_digests (
        paper_id INTEGER PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        sentences TEXT NOT NULL,
        keyphrases TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  postgres: `
      CREATE TABLE paper_digests (
        paper_id BIGINT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        sentences TEXT NOT NULL,
        keyphrases TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
};
