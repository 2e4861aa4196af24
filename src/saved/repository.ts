/**
 * Saved searches (migration 018): a person's query with its mode and
 * filters, the papers that newly matched it, its secret feed address, and
 * its optional email alert and webhook. Every function that reads or
 * changes one takes the owner's id, so another person's search is simply
 * not found (its id reveals nothing).
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { isSecret, newSecret } from '../accounts/secrets.js';
import type { Database } from '../db/connection.js';
import type { SavedSearchesTable, SearchMode, WebhookDeliveryStatus } from '../db/schema.js';
import { expandCategoryFilter } from '../feeds/feed.js';
import { parseQuery, renderMatch } from '../search/query.js';
import { checkWebhookUrl } from './webhook-url.js';

/** Saved searches one person may have. */
export const MAX_SAVED_SEARCHES = 50;
export const MAX_QUERY = 500;
export const MAX_NAME = 100;
export const MAX_CATEGORIES = 20;

export interface SavedSearch {
  id: number;
  userId: number;
  name: string;
  query: string;
  mode: SearchMode;
  /** Category or archive names as given (`cs.LG`, `math`). */
  categories: string[];
  featuredOnly: boolean;
  emailAlert: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
  feedToken: string;
  alertToken: string;
  checkedThrough: number;
  similarityFloor: number | null;
  floorModelId: number | null;
  lastCheckedAt: string | null;
  lastSeenAt: string | null;
  createdAt: string;
}

/** A saved search with its match counts, for lists. */
export interface SavedSearchSummary extends SavedSearch {
  matchCount: number;
  /** Matches found since the owner last marked the search seen. */
  newCount: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; message: string };

/** What a person asks to save, before checking. */
export interface SavedSearchInput {
  name?: string | undefined;
  query: string;
  mode?: SearchMode | undefined;
  categories?: readonly string[] | undefined;
  featuredOnly?: boolean | undefined;
  emailAlert?: boolean | undefined;
  webhookUrl?: string | null | undefined;
}

/** A checked input, ready to store. */
export interface CheckedInput {
  name: string;
  query: string;
  mode: SearchMode;
  categories: string[];
  featuredOnly: boolean;
  emailAlert: boolean;
  webhookUrl: string | null;
}

type Row = Selectable<SavedSearchesTable>;

interface Filters {
  categories?: string[];
  featuredOnly?: boolean;
}

function parseFilters(json: string): Filters {
  try {
    const value = JSON.parse(json) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const { categories, featuredOnly } = value as Record<string, unknown>;
    return {
      categories: Array.isArray(categories) ? categories.filter((c): c is string => typeof c === 'string') : [],
      featuredOnly: featuredOnly === true,
    };
  } catch {
    return {};
  }
}

function fromRow(r: Row): SavedSearch {
  const filters = parseFilters(r.filters);
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    name: r.name,
    query: r.query,
    mode: r.mode,
    categories: filters.categories ?? [],
    featuredOnly: filters.featuredOnly === true,
    emailAlert: Number(r.email_alert) === 1,
    webhookUrl: r.webhook_url,
    webhookSecret: r.webhook_secret,
    feedToken: r.feed_token,
    alertToken: r.alert_token,
    checkedThrough: Number(r.checked_through),
    similarityFloor: r.similarity_floor === null ? null : Number(r.similarity_floor),
    floorModelId: r.floor_model_id === null ? null : Number(r.floor_model_id),
    lastCheckedAt: r.last_checked_at,
    lastSeenAt: r.last_seen_at,
    createdAt: r.created_at,
  };
}

/** `saved_searches` row as a SavedSearch (for the check job, which reads rows in bulk). */
export const savedSearchFromRow = fromRow;

/** The categories a saved search filters on, archives expanded (undefined: no filter). */
export function expandedCategories(search: Pick<SavedSearch, 'categories'>): string[] | undefined {
  if (search.categories.length === 0) return undefined;
  return [...new Set(search.categories.flatMap((c) => expandCategoryFilter(c) ?? []))];
}

/** A webhook signing secret: shown to its owner, who verifies signatures with it. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

function bad(message: string): { ok: false; status: 400; message: string } {
  return { ok: false, status: 400, message };
}

/** Checks what a person asks to save; every refusal says what to fix. */
export function checkInput(input: SavedSearchInput, allowPrivateWebhooks: boolean): Result<CheckedInput> {
  const query = input.query.trim();
  if (query === '') return bad('The query is empty: type what to search for.');
  if (query.length > MAX_QUERY) return bad(`The query is longer than ${MAX_QUERY} characters.`);
  const rendered = renderMatch(parseQuery(query), 'all');
  if (!rendered.ok) return bad(`The query has nothing to search for (${rendered.reason}): add a word that is not excluded.`);
  const name = (input.name ?? '').trim() || (query.length > MAX_NAME ? `${query.slice(0, MAX_NAME - 1)}…` : query);
  if (name.length > MAX_NAME) return bad(`A name has at most ${MAX_NAME} characters.`);
  const categories = [...new Set((input.categories ?? []).map((c) => c.trim()).filter((c) => c !== ''))];
  if (categories.length > MAX_CATEGORIES) return bad(`At most ${MAX_CATEGORIES} categories.`);
  const unknown = categories.find((c) => expandCategoryFilter(c) === undefined);
  if (unknown !== undefined) return bad(`"${unknown.slice(0, 40)}" is no arXiv category or archive (use e.g. cs.LG or math).`);
  let webhookUrl: string | null = null;
  const rawUrl = input.webhookUrl?.trim() ?? '';
  if (rawUrl !== '') {
    const checked = checkWebhookUrl(rawUrl, allowPrivateWebhooks);
    if (!checked.ok) return bad(checked.message);
    webhookUrl = checked.url;
  }
  return {
    ok: true,
    value: {
      name,
      query,
      mode: input.mode ?? 'hybrid',
      categories,
      featuredOnly: input.featuredOnly === true,
      emailAlert: input.emailAlert === true,
      webhookUrl,
    },
  };
}

async function largestPaperId(database: Database): Promise<number> {
  const row = await database.db.selectFrom('papers').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

/**
 * Saves a search. Its watermark starts at the newest paper: "new matches"
 * are papers that arrive after saving, not the back catalogue (which the
 * search itself shows).
 */
export async function createSavedSearch(database: Database, userId: number, input: CheckedInput, now = new Date()): Promise<Result<SavedSearch>> {
  const count = await database.db
    .selectFrom('saved_searches')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_SAVED_SEARCHES) {
    return { ok: false, status: 409, message: `You have ${MAX_SAVED_SEARCHES} saved searches, the most one person may; delete some first.` };
  }
  const iso = now.toISOString();
  const row = await database.db
    .insertInto('saved_searches')
    .values({
      user_id: userId,
      name: input.name,
      query: input.query,
      mode: input.mode,
      filters: JSON.stringify({ categories: input.categories, featuredOnly: input.featuredOnly }),
      email_alert: input.emailAlert ? 1 : 0,
      webhook_url: input.webhookUrl,
      webhook_secret: input.webhookUrl === null ? null : newWebhookSecret(),
      feed_token: newSecret(),
      alert_token: newSecret(),
      checked_through: await largestPaperId(database),
      last_seen_at: iso,
      created_at: iso,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ok: true, value: fromRow(row) };
}

/** One of `userId`'s saved searches. */
export async function ownSavedSearch(database: Database, userId: number, id: number): Promise<SavedSearch | undefined> {
  const row = await database.db.selectFrom('saved_searches').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
}

/** `userId`'s saved searches with their match counts, oldest first. */
export async function savedSearchesOf(database: Database, userId: number): Promise<SavedSearchSummary[]> {
  const rows = await database.db
    .selectFrom('saved_searches as s')
    .selectAll('s')
    .select((eb) => [
      eb.selectFrom('saved_search_matches as m').select((e) => e.fn.countAll<number>().as('n')).whereRef('m.saved_search_id', '=', 's.id').as('match_count'),
      eb
        .selectFrom('saved_search_matches as m')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('m.saved_search_id', '=', 's.id')
        .where((e) => e.or([e('s.last_seen_at', 'is', null), e('m.matched_at', '>', e.ref('s.last_seen_at'))]))
        .as('new_count'),
    ])
    .where('s.user_id', '=', userId)
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({ ...fromRow(r), matchCount: Number(r.match_count ?? 0), newCount: Number(r.new_count ?? 0) }));
}

/** What may change on a saved search (the query and filters stay: save another search for another query). */
export interface SavedSearchPatch {
  name?: string | undefined;
  emailAlert?: boolean | undefined;
  /** null or '' removes the webhook. */
  webhookUrl?: string | null | undefined;
}

/** Changes one of `userId`'s saved searches. */
export async function updateSavedSearch(
  database: Database,
  userId: number,
  id: number,
  patch: SavedSearchPatch,
  allowPrivateWebhooks: boolean,
  now = new Date(),
): Promise<Result<SavedSearch>> {
  const current = await ownSavedSearch(database, userId, id);
  if (current === undefined) return { ok: false, status: 404, message: `You have no saved search ${id}.` };
  const set: Partial<{ name: string; email_alert: number; webhook_url: string | null; webhook_secret: string | null }> = {};
  if (patch.name !== undefined) {
    const name = patch.name.trim();
    if (name === '') return bad('Give the saved search a name.');
    if (name.length > MAX_NAME) return bad(`A name has at most ${MAX_NAME} characters.`);
    set.name = name;
  }
  if (patch.webhookUrl !== undefined) {
    const raw = patch.webhookUrl?.trim() ?? '';
    if (raw === '') {
      set.webhook_url = null;
      set.webhook_secret = null;
    } else {
      const checked = checkWebhookUrl(raw, allowPrivateWebhooks);
      if (!checked.ok) return bad(checked.message);
      set.webhook_url = checked.url;
      // A new endpoint keeps the secret its owner already configured; a first one gets one.
      if (current.webhookSecret === null) set.webhook_secret = newWebhookSecret();
    }
  }
  const turningOn = patch.emailAlert === true && !current.emailAlert;
  if (patch.emailAlert !== undefined) set.email_alert = patch.emailAlert ? 1 : 0;
  await database.db.transaction().execute(async (trx) => {
    if (Object.keys(set).length > 0) await trx.updateTable('saved_searches').set(set).where('id', '=', id).where('user_id', '=', userId).execute();
    // An alert turned on mails what is found from now on, not the matches of before.
    if (turningOn) {
      await trx.updateTable('saved_search_matches').set({ alerted_at: now.toISOString() }).where('saved_search_id', '=', id).where('alerted_at', 'is', null).execute();
    }
  });
  const updated = await ownSavedSearch(database, userId, id);
  return updated === undefined ? { ok: false, status: 404, message: `You have no saved search ${id}.` } : { ok: true, value: updated };
}

/** Deletes one of `userId`'s saved searches with its matches and deliveries. */
export async function deleteSavedSearch(database: Database, userId: number, id: number): Promise<boolean> {
  const result = await database.db.deleteFrom('saved_searches').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Marks one (or, with null, every) of `userId`'s saved searches seen: their matches stop being new. */
export async function markSeen(database: Database, userId: number, id: number | null, now = new Date()): Promise<boolean> {
  const result = await database.db
    .updateTable('saved_searches')
    .set({ last_seen_at: now.toISOString() })
    .where('user_id', '=', userId)
    .$if(id !== null, (q) => q.where('id', '=', id ?? 0))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A new secret feed address for the search; the old one stops working. */
export async function rotateSavedFeedToken(database: Database, userId: number, id: number): Promise<boolean> {
  const result = await database.db.updateTable('saved_searches').set({ feed_token: newSecret() }).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A new webhook signing secret (only for a search with a webhook). */
export async function rotateWebhookSecret(database: Database, userId: number, id: number): Promise<boolean> {
  const result = await database.db
    .updateTable('saved_searches')
    .set({ webhook_secret: newWebhookSecret() })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('webhook_url', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The saved search whose feed `token` opens. */
export async function savedSearchByFeedToken(database: Database, token: string): Promise<SavedSearch | undefined> {
  if (!isSecret(token)) return undefined;
  const row = await database.db.selectFrom('saved_searches').selectAll().where('feed_token', '=', token).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
}

/** The saved search whose alert `token` (from an alert email) names it. */
export async function savedSearchByAlertToken(database: Database, token: string): Promise<SavedSearch | undefined> {
  if (!isSecret(token)) return undefined;
  const row = await database.db.selectFrom('saved_searches').selectAll().where('alert_token', '=', token).executeTakeFirst();
  return row === undefined ? undefined : fromRow(row);
}

/** Turns the email alert of the search with this alert token off. */
export async function turnOffAlert(database: Database, token: string): Promise<SavedSearch | undefined> {
  const search = await savedSearchByAlertToken(database, token);
  if (search === undefined) return undefined;
  await database.db.updateTable('saved_searches').set({ email_alert: 0 }).where('id', '=', search.id).execute();
  return { ...search, emailAlert: false };
}

/** A paper that newly matched a saved search. */
export interface SavedMatch {
  paperId: number;
  arxivId: string;
  title: string;
  authorsText: string;
  abstractText: string;
  categories: string[];
  publishedAt: string | null;
  matchedAt: string;
  score: number;
}

/** Where a page of matches continues: matches before this one (newest first). */
export interface MatchCursor {
  matchedAt: string;
  paperId: number;
}

/** `before` of a page link: the cursor as one URL-safe string. */
export function encodeMatchCursor(c: MatchCursor): string {
  return Buffer.from(`${c.matchedAt}|${c.paperId}`).toString('base64url');
}

export function decodeMatchCursor(text: string): MatchCursor | null {
  const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\|(\d{1,15})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return m?.[1] === undefined || m[2] === undefined ? null : { matchedAt: m[1], paperId: Number(m[2]) };
}

/** A page of a saved search's matches, newest first, and the cursor of the next page. */
export async function matchesPage(
  database: Database,
  searchId: number,
  options: { limit: number; before?: MatchCursor | null },
): Promise<{ items: SavedMatch[]; next: MatchCursor | null }> {
  const before = options.before ?? null;
  const rows = await database.db
    .selectFrom('saved_search_matches as m')
    .innerJoin('papers as p', 'p.id', 'm.paper_id')
    .select([
      'm.paper_id',
      'm.matched_at',
      'm.score',
      'p.arxiv_id',
      'p.title_text',
      'p.authors_text',
      'p.categories',
      'p.published_at',
      (eb) => eb.fn.coalesce('p.abstract_text', 'p.abstract').as('abstract_text'),
    ])
    .where('m.saved_search_id', '=', searchId)
    .$if(before !== null, (q) =>
      q.where((eb) =>
        eb.or([
          eb('m.matched_at', '<', before?.matchedAt ?? ''),
          eb.and([eb('m.matched_at', '=', before?.matchedAt ?? ''), eb('m.paper_id', '<', before?.paperId ?? 0)]),
        ]),
      ),
    )
    .orderBy('m.matched_at', 'desc')
    .orderBy('m.paper_id', 'desc')
    .limit(options.limit + 1)
    .execute();
  const items = rows.slice(0, options.limit).map((r) => ({
    paperId: Number(r.paper_id),
    arxivId: r.arxiv_id,
    title: r.title_text,
    authorsText: r.authors_text,
    abstractText: r.abstract_text,
    categories: r.categories.split(/\s+/).filter((c) => c !== ''),
    publishedAt: r.published_at,
    matchedAt: r.matched_at,
    score: Number(r.score),
  }));
  const last = items.at(-1);
  return { items, next: rows.length > options.limit && last !== undefined ? { matchedAt: last.matchedAt, paperId: last.paperId } : null };
}

/** A webhook call and where it stands. */
export interface WebhookDelivery {
  id: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  paperCount: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  sentAt: string | null;
}

/** The latest webhook deliveries of a saved search, newest first. */
export async function recentDeliveries(database: Database, searchId: number, limit = 20): Promise<WebhookDelivery[]> {
  const rows = await database.db
    .selectFrom('webhook_deliveries')
    .select(['id', 'status', 'attempts', 'paper_count', 'response_status', 'last_error', 'created_at', 'last_attempt_at', 'sent_at'])
    .where('saved_search_id', '=', searchId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    status: r.status,
    attempts: Number(r.attempts),
    paperCount: Number(r.paper_count),
    responseStatus: r.response_status === null ? null : Number(r.response_status),
    lastError: r.last_error,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    sentAt: r.sent_at,
  }));
}
