import type { Generated } from 'kysely';

/** Row types of every table, for Kysely. Kept in step with src/db/migrations/. */

// --- papers (001) ---
export interface PapersTable {
  id: Generated<number>;
  arxiv_id: string;
  version: number;
  title: string;
  title_text: string;
  abstract: string;
  abstract_text: string;
  authors_text: string;
  primary_category: string | null;
  categories: string;
  comments: string | null;
  journal_ref: string | null;
  doi: string | null;
  report_no: string | null;
  msc_class: string | null;
  acm_class: string | null;
  license: string | null;
  submitter: string | null;
  published_at: string | null;
  updated_at: string | null;
  announced_on: string | null;
  announced_estimated: number;
  withdrawn: number;
  content_hash: string;
  created_at: string;
  modified_at: string;
}

export interface PaperVersionsTable {
  paper_id: number;
  version: number;
  submitted_at: string;
  size: string | null;
}

export interface PaperAuthorsTable {
  paper_id: number;
  position: number;
  name: string;
  keyname: string;
  forenames: string | null;
  suffix: string | null;
  /** JSON array of strings, or null. */
  affiliations: string | null;
}

export interface PaperCategoriesTable {
  category: string;
  paper_id: number;
  is_primary: number;
}

export interface PaperLinksTable {
  paper_id: number;
  url: string;
  kind: string;
}

// --- jobs (002) ---

// --- harvest (003) ---

export interface DB {
  papers: PapersTable;
  paper_versions: PaperVersionsTable;
  paper_authors: PaperAuthorsTable;
  paper_categories: PaperCategoriesTable;
  paper_links: PaperLinksTable;
}
