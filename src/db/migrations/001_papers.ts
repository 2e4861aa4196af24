import type { Migration } from '../migrate.js';

/** Papers (with their versions, authors and links), their categories, and the FTS5 keyword index. */
export const papers: Migration = {
  version: 1,
  name: 'papers',
  up(sqlite) {
    sqlite.exec(`
      CREATE TABLE papers (
        id INTEGER PRIMARY KEY,
        arxiv_id TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        title_text TEXT NOT NULL,
        abstract TEXT NOT NULL,
        -- Plain text of the abstract, NULL when it equals the source (no TeX):
        -- most abstracts, and storing them twice cost a third of the write volume.
        abstract_text TEXT,
        authors_text TEXT NOT NULL,
        -- Ordered authors with parsed names, all versions with dates, and the
        -- extracted links, as JSON arrays: they are read and written with their
        -- paper, never queried on their own (author search goes through the
        -- FTS authors column), and one row per paper keeps bulk import fast.
        authors TEXT NOT NULL,
        versions TEXT NOT NULL,
        links TEXT NOT NULL,
        primary_category TEXT,
        categories TEXT NOT NULL,
        comments TEXT,
        journal_ref TEXT,
        doi TEXT,
        report_no TEXT,
        msc_class TEXT,
        acm_class TEXT,
        license TEXT,
        submitter TEXT,
        published_at TEXT,
        updated_at TEXT,
        announced_on TEXT,
        announced_estimated INTEGER NOT NULL DEFAULT 1,
        withdrawn INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL
      );
      CREATE INDEX papers_announced_on ON papers (announced_on);

      CREATE TABLE paper_categories (
        category TEXT NOT NULL,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        is_primary INTEGER NOT NULL,
        PRIMARY KEY (category, paper_id)
      ) WITHOUT ROWID;
      CREATE INDEX paper_categories_paper ON paper_categories (paper_id);

      -- External-content FTS5 table: the text lives once, in papers (read through
      -- the view, which fills in the plain abstract). PaperStore,
      -- the one writer of papers, adds and replaces index rows in the same
      -- transaction as the row: an AFTER INSERT trigger doing the same measured
      -- 35% slower on bulk import (6,200 vs 9,600 papers/s at 50k). Deletes, which
      -- can come from anywhere, go through the trigger.
      CREATE VIEW papers_fts_content AS
        SELECT id, title_text, authors_text, coalesce(abstract_text, abstract) AS abstract_text FROM papers;
      CREATE VIRTUAL TABLE papers_fts USING fts5 (
        title_text, authors_text, abstract_text,
        content = 'papers_fts_content', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      -- FTS5 flushes its in-memory term table to a new segment whenever it
      -- exceeds 'hashsize' (1 MB by default), which then has to be merged. A
      -- 64 MB table holds a whole import batch: 24% faster inserts at 200k
      -- papers, same query times. Persistent setting, stored in the index.
      INSERT INTO papers_fts (papers_fts, rank) VALUES ('hashsize', 67108864);
      CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text)
        VALUES ('delete', old.id, old.title_text, old.authors_text, coalesce(old.abstract_text, old.abstract));
      END;
    `);
  },
};
