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
  /** NULL when the plain text equals `abstract`. */
  abstract_text: string | null;
  authors_text: string;
  /** JSON: `ParsedAuthor[]` in order. */
  authors: string;
  /** JSON: `{ version, submittedAt, size }[]` by version. */
  versions: string;
  /** JSON: `{ url, kind }[]` in order of appearance. */
  links: string;
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
  /** Kept by the community features (005). */
  upvotes: Generated<number>;
  comment_count: Generated<number>;
}

export interface PaperCategoriesTable {
  category: string;
  paper_id: number;
  is_primary: number;
}

// --- jobs (002) ---
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Times are milliseconds since the epoch; payload and result are JSON text. */
export interface JobsTable {
  id: Generated<number>;
  type: string;
  payload: string;
  unique_key: string | null;
  status: JobStatus;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

// --- harvest (003) ---
export interface HarvestStateTable {
  id: Generated<number>;
  /** `metadataPrefix|set|from|until` of the run. */
  harvest_key: string;
  metadata_prefix: string;
  /** OAI set spec, '' for the whole repository. */
  set_spec: string;
  from_date: string | null;
  until_date: string | null;
  /** Token of the next page to fetch; null before the first page and when finished. */
  resumption_token: string | null;
  pages_done: Generated<number>;
  records_done: Generated<number>;
  imported: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  skipped: Generated<number>;
  errors: Generated<number>;
  restarts: Generated<number>;
  complete_list_size: number | null;
  first_response_date: string | null;
  last_datestamp: string | null;
  /** Last day the finished run fully covered; the next incremental run starts the day after. */
  covered_until: string | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

// --- import_progress (004) ---
export interface ImportProgressTable {
  /** Identity of an input file (path, size, modification time). */
  file_key: string;
  path: string;
  /** Items of the file committed so far; a rerun resumes after them. */
  items_done: number;
  finished: number;
  updated_at: string;
}

// --- featured (005) ---
export type FeatureSource = 'rule' | 'curator' | 'submission';

export interface FeaturedTable {
  paper_id: number;
  /** The feed day, YYYY-MM-DD. */
  featured_on: string;
  source: FeatureSource;
  /** Username for curators and submitters, the rule's name for rules. */
  featured_by: string | null;
  featured_at: string;
  hidden_at: string | null;
  hidden_by: string | null;
}

export interface FeatureRuleStateTable {
  rule: string;
  last_paper_id: number;
}

// --- paper_digests (006) ---
export interface PaperDigestsTable {
  paper_id: number;
  content_hash: string;
  model: string;
  /** JSON: string[] */
  sentences: string;
  /** JSON: string[] */
  keyphrases: string;
  created_at: string;
}

// --- schema_migrations (maintained by src/db/migrate.ts) ---
export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

// --- rate_limits (009; src/db/rate-limit-store.ts) ---
export interface RateLimitsTable {
  /** Route, then client address. */
  key: string;
  count: number;
  /** Epoch ms when the window ends. */
  reset_at: number;
}

export interface DB {
  schema_migrations: SchemaMigrationsTable;
  papers: PapersTable;
  paper_categories: PaperCategoriesTable;
  jobs: JobsTable;
  harvest_state: HarvestStateTable;
  import_progress: ImportProgressTable;
  featured: FeaturedTable;
  feature_rule_state: FeatureRuleStateTable;
  paper_digests: PaperDigestsTable;
  rate_limits: RateLimitsTable;
}
