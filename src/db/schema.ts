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

// --- community (011) ---
export type Role = 'user' | 'curator' | 'moderator' | 'admin';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** Lower-cased username: unique. */
  username_key: string;
  email: string;
  /** Lower-cased email: unique. */
  email_key: string;
  /** `scrypt$…` (src/accounts/passwords.ts); null for link-only accounts. */
  password_hash: string | null;
  role: Generated<Role>;
  email_verified_at: string | null;
  created_at: string;
  /** Set when a moderator banned the account (015): it cannot sign in. */
  banned_at: string | null;
  /** ISO time a suspension ends (015): until then the account reads but cannot write. */
  suspended_until: string | null;
  /** Why it is banned or suspended, shown to its owner. */
  restriction_reason: string | null;
}

/** Times in epoch milliseconds. */
export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  /** SHA-256 (hex) of the cookie's token. */
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
}

export type EmailTokenPurpose = 'verify' | 'login' | 'reset' | 'email';

/** Times in epoch milliseconds. */
export interface EmailTokensTable {
  token_hash: string;
  user_id: number;
  purpose: EmailTokenPurpose;
  /** The new address of an email change. */
  data: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type TokenScope = 'read' | 'write';

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  scope: TokenScope;
  created_at: string;
  last_used_at: string | null;
}

export interface OutboxTable {
  id: Generated<number>;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string | null;
  kind: string;
  created_at: string;
  sent_at: string | null;
  error: string | null;
}

export interface UpvotesTable {
  user_id: number;
  paper_id: number;
  created_at: string;
}

export interface CommentsTable {
  id: Generated<number>;
  paper_id: number;
  /** Null once the author deleted their account. */
  user_id: number | null;
  parent_id: number | null;
  /** Markdown source; '' once deleted. */
  body: string;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  /** Hidden by a moderator (015): shown as "[hidden by a moderator: reason]". */
  hidden_at: string | null;
  hidden_by: number | null;
  hidden_reason: string | null;
}

export interface CommentRevisionsTable {
  id: Generated<number>;
  comment_id: number;
  body: string;
  created_at: string;
}

export type NotificationKind = 'mention' | 'reply';

export interface NotificationsTable {
  id: Generated<number>;
  user_id: number;
  kind: NotificationKind;
  comment_id: number;
  created_at: string;
  read_at: string | null;
}

// --- email digests (014) ---
export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed';
export type DigestCadence = 'daily' | 'weekly';

export interface SubscribersTable {
  id: Generated<number>;
  email: string;
  /** Lower-cased email: unique. */
  email_key: string;
  /** The account this address belongs to, when there is one. */
  user_id: number | null;
  status: Generated<SubscriberStatus>;
  cadence: Generated<DigestCadence>;
  paper_count: Generated<number>;
  /** JSON array of category ids; empty: all. */
  categories: Generated<string>;
  /** JSON array of keywords to boost. */
  keywords: Generated<string>;
  /** JSON array of keywords whose papers are left out. */
  muted_keywords: Generated<string>;
  /** The secret in preferences and unsubscribe links. */
  link_token: string;
  /** SHA-256 (hex) of the pending confirmation token. */
  confirm_token_hash: string | null;
  /** Epoch ms. */
  confirm_expires_at: number | null;
  /** Epoch ms of the last confirmation email (resends are throttled). */
  confirm_sent_at: number | null;
  created_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  updated_at: string;
  /** 1: a digest linked to an account carries its "For you" section (017). */
  for_you: Generated<number>;
}

export type SuppressionReason = 'hard-bounce' | 'soft-bounces' | 'complaint' | 'manual';

export interface SuppressionsTable {
  email_key: string;
  reason: SuppressionReason;
  detail: string | null;
  created_at: string;
}

export type MailEventKind = 'hard-bounce' | 'soft-bounce' | 'complaint' | 'unsubscribe';

export interface MailEventsTable {
  id: Generated<number>;
  email_key: string;
  kind: MailEventKind;
  source: 'webhook' | 'dsn';
  detail: string | null;
  created_at: string;
}

export type DigestRunStatus = 'building' | 'sending' | 'done';

export interface DigestRunsTable {
  id: Generated<number>;
  cadence: DigestCadence;
  /** YYYY-MM-DD, the period's last day. */
  period_end: string;
  status: DigestRunStatus;
  /** JSON DigestContent (src/digests/content.ts), frozen at build. */
  content: string;
  recipients: Generated<number>;
  created_at: string;
  built_at: string | null;
  finished_at: string | null;
}

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'uncertain' | 'cancelled';

/** Times compared by code in epoch ms; times shown in ISO text. */
export interface DigestDeliveriesTable {
  run_id: number;
  subscriber_id: number;
  email: string;
  /** JSON DigestSelection (src/digests/content.ts). */
  selection: string;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<number>;
  lease_owner: string | null;
  lease_expires_at: number | null;
  uncertain_at: string | null;
  sent_at: string | null;
  error: string | null;
}

// --- people (015) ---
export interface PaperAuthorsTable {
  paper_id: number;
  /** 0-based place in the author list. */
  position: number;
  /** The parsed display name, exactly as `ParsedAuthor.name`. */
  name: string;
}

export interface PaperAuthorSyncTable {
  id: number;
  /** Papers with ids up to this one are in paper_authors. */
  last_paper_id: number;
}

export type ClaimStatus = 'pending' | 'verified' | 'rejected';

export interface AuthorClaimsTable {
  id: Generated<number>;
  paper_id: number;
  user_id: number;
  author_name: string;
  evidence: Generated<string>;
  status: Generated<ClaimStatus>;
  reason: string | null;
  decided_by: number | null;
  decided_at: string | null;
  /** 0 or 1. */
  show_on_profile: Generated<number>;
  created_at: string;
}

export interface CollectionsTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  description: Generated<string>;
  /** 0 (private, the default) or 1. */
  is_public: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface CollectionPapersTable {
  collection_id: number;
  paper_id: number;
  position: number;
  note: Generated<string>;
  added_at: string;
}

export type FollowKind = 'author' | 'category' | 'user' | 'keyword';

export interface FollowsTable {
  id: Generated<number>;
  user_id: number;
  kind: FollowKind;
  /** Author name, category id, keyword query, or the followed user's id in decimal. */
  target: string;
  followed_user_id: number | null;
  created_at: string;
}

export interface FeedTokensTable {
  user_id: number;
  token: string;
  created_at: string;
}

export interface ThreadLocksTable {
  paper_id: number;
  locked_by: number | null;
  reason: string;
  locked_at: string;
}

export type ReportReason = 'spam' | 'abuse' | 'off-topic' | 'other';

export interface ReportsTable {
  id: Generated<number>;
  comment_id: number;
  reporter_id: number | null;
  reason: ReportReason;
  details: Generated<string>;
  created_at: string;
  resolved_at: string | null;
  resolved_by: number | null;
  resolution: 'hidden' | 'dismissed' | null;
}

export type ModerationSubject = 'paper' | 'comment' | 'user' | 'claim' | 'setting' | 'report';

export interface ModerationLogTable {
  id: Generated<number>;
  created_at: string;
  actor_id: number | null;
  actor_name: string;
  actor_role: string;
  action: string;
  subject_kind: ModerationSubject;
  subject_id: string;
  subject_label: string;
  reason: Generated<string>;
}

export interface InstanceSettingsTable {
  key: string;
  /** JSON. */
  value: string;
  updated_at: string;
  updated_by: number | null;
}

export type EmbeddingModelStatus = 'building' | 'active' | 'retired';

export interface EmbeddingModelsTable {
  id: Generated<number>;
  /** `builtin`, `onnx:<dir>` or `openai:<url>`: the EMBEDDER that made it. */
  embedder: string;
  /** What makes two models' vectors comparable (same fingerprint, same vectors). */
  fingerprint: string;
  dimensions: number;
  /** Papers the built-in model was fitted on (0 for external embedders). */
  corpus_size: Generated<number>;
  /** The built-in model's parameters; null for external embedders. */
  state: Uint8Array | null;
  status: Generated<EmbeddingModelStatus>;
  created_at: string;
  activated_at: string | null;
}

export interface PaperVectorsTable {
  model_id: number;
  paper_id: number;
  /** Float32 little-endian, unit length, `dimensions` long. */
  vector: Uint8Array;
  /** Write order for incremental ANN sync (SQLite: a counter; PostgreSQL: set by trigger to the transaction id). */
  stamp: Generated<number>;
}

export interface NotInterestedTable {
  user_id: number;
  paper_id: number;
  created_at: string;
}

export interface MutedKeywordsTable {
  user_id: number;
  /** Lower-cased, whitespace folded: one mute per spelling. */
  keyword_key: string;
  /** As typed. */
  keyword: string;
  created_at: string;
}

export type SearchMode = 'keyword' | 'semantic' | 'hybrid';

export interface SavedSearchesTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  query: string;
  mode: Generated<SearchMode>;
  /** JSON: `{ categories?: string[], featuredOnly?: boolean }`. */
  filters: Generated<string>;
  email_alert: Generated<number>;
  webhook_url: string | null;
  webhook_secret: string | null;
  feed_token: string;
  /** Secret of the email alert's one-click "turn this alert off" link. */
  alert_token: string;
  /** Papers with a larger id are new to this search (the check job's watermark). */
  checked_through: Generated<number>;
  /** Least cosine similarity a new paper needs to match by meaning, under model `floor_model_id`. */
  similarity_floor: number | null;
  floor_model_id: number | null;
  last_checked_at: string | null;
  last_seen_at: string | null;
  created_at: string;
}

export interface SavedSearchMatchesTable {
  saved_search_id: number;
  paper_id: number;
  matched_at: string;
  score: Generated<number>;
  alerted_at: string | null;
}

export type WebhookDeliveryStatus = 'pending' | 'sent' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  saved_search_id: number;
  /** The JSON body sent. */
  payload: string;
  paper_count: Generated<number>;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  response_status: number | null;
  last_error: string | null;
  created_at: string;
  last_attempt_at: string | null;
  sent_at: string | null;
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
  users: UsersTable;
  sessions: SessionsTable;
  email_tokens: EmailTokensTable;
  api_tokens: ApiTokensTable;
  outbox: OutboxTable;
  upvotes: UpvotesTable;
  comments: CommentsTable;
  comment_revisions: CommentRevisionsTable;
  notifications: NotificationsTable;
  subscribers: SubscribersTable;
  suppressions: SuppressionsTable;
  mail_events: MailEventsTable;
  digest_runs: DigestRunsTable;
  digest_deliveries: DigestDeliveriesTable;
  paper_authors: PaperAuthorsTable;
  paper_author_sync: PaperAuthorSyncTable;
  author_claims: AuthorClaimsTable;
  collections: CollectionsTable;
  collection_papers: CollectionPapersTable;
  follows: FollowsTable;
  feed_tokens: FeedTokensTable;
  thread_locks: ThreadLocksTable;
  reports: ReportsTable;
  moderation_log: ModerationLogTable;
  instance_settings: InstanceSettingsTable;
  embedding_models: EmbeddingModelsTable;
  paper_vectors: PaperVectorsTable;
  not_interested: NotInterestedTable;
  muted_keywords: MutedKeywordsTable;
  saved_searches: SavedSearchesTable;
  saved_search_matches: SavedSearchMatchesTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
