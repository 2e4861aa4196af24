import type { Migration } from '../migrate.js';

/** Papers, their versions, authors, categories and links, and the FTS5 keyword index. */
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
        abstract_text TEXT NOT NULL,
        authors_text TEXT NOT NULL,
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
      CREATE INDEX papers_published_at ON papers (published_at);

      CREATE TABLE paper_versions (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        submitted_at TEXT NOT NULL,
        size TEXT,
        PRIMARY KEY (paper_id, version)
      ) WITHOUT ROWID;

      CREATE TABLE paper_authors (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        keyname TEXT NOT NULL,
        forenames TEXT,
        suffix TEXT,
        affiliations TEXT,
        PRIMARY KEY (paper_id, position)
      ) WITHOUT ROWID;
      CREATE INDEX paper_authors_keyname ON paper_authors (keyname);

      CREATE TABLE paper_categories (
        category TEXT NOT NULL,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        is_primary INTEGER NOT NULL,
        PRIMARY KEY (category, paper_id)
      ) WITHOUT ROWID;
      CREATE INDEX paper_categories_paper ON paper_categories (paper_id);

      CREATE TABLE paper_links (
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (paper_id, url)
      ) WITHOUT ROWID;

      -- External-content FTS5 table: the text lives once, in papers; the
      -- triggers keep the index in step with every insert, update and delete.
      CREATE VIRTUAL TABLE papers_fts USING fts5 (
        title_text, authors_text, abstract_text,
        content = 'papers', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts (rowid, title_text, authors_text, abstract_text)
        VALUES (new.id, new.title_text, new.authors_text, new.abstract_text);
      END;
      CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text)
        VALUES ('delete', old.id, old.title_text, old.authors_text, old.abstract_text);
      END;
      CREATE TRIGGER papers_fts_update AFTER UPDATE OF title_text, authors_text, abstract_text ON papers BEGIN
        INSERT INTO papers_fts (papers_fts, rowid, title_text, authors_text, abstract_text)
        VALUES ('delete', old.id, old.title_text, old.authors_text, old.abstract_text);
        INSERT INTO papers_fts (rowid, title_text, authors_text, abstract_text)
        VALUES (new.id, new.title_text, new.authors_text, new.abstract_text);
      END;
    `);
  },
};
