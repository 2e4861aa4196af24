/**
 * The Following feed: recent papers matching anything a person follows,
 * newest first, each with every reason it is there ("by an author you follow:
 * X", "in cs.LG", "from ada (submitted)", "matches your search 'diffusion'").
 *
 * A page is read in two steps. The first finds the page's papers: each kind of
 * follow is a small indexed lookup (paper_authors by name, paper_categories by
 * category, a followed user's submissions, verified claims and public
 * collections), unioned and joined to papers for the time window and the
 * keyset; keyword follows run through the instance's keyword search first
 * (their best recent matches) and join as a list of ids. The second asks, for
 * the page's few papers only, which follows each one matches.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/connection.js';
import type { FollowKind } from '../db/schema.js';
import { entriesByIds, expandCategoryFilter, type FeedEntry } from '../feeds/feed.js';
import { personalFilter } from '../personal/not-interested.js';
import { searchKeyword } from '../search/keyword.js';
import { followsOf, FOLLOW_KINDS, type Follow } from './follows.js';

/** How far back the feed reaches, by announcement day (else first submission). */
export const FOLLOWING_WINDOW_DAYS = 90;
/** The best matches of each keyword follow within the window that can enter the feed. */
export const KEYWORD_CANDIDATES = 200;

/** One reason a paper is in the feed: the follow it matches, as people read it. */
export interface FollowReason {
  kind: FollowKind;
  /** The author's name, the category, the username or the query. */
  target: string;
  text: string;
}

export interface FollowingItem {
  entry: FeedEntry;
  /** The day the feed dates the paper by: its announcement, else its first submission. */
  day: string;
  reasons: FollowReason[];
}

export interface FollowingPage {
  items: FollowingItem[];
  /** The `before` cursor of the next (older) page, or null on the last page. */
  next: string | null;
}

export interface FollowingQuery {
  /** A cursor from a previous page's `next`. */
  before?: FeedCursor;
  limit: number;
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
}

/** A position in the feed: papers older than (day, paper id). */
export interface FeedCursor {
  day: string;
  id: number;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2})\.(\d{1,15})$/;

/** Parses a `before` cursor (`2026-11-20.1234`); undefined when malformed. */
export function parseFeedCursor(text: string): FeedCursor | undefined {
  const match = CURSOR.exec(text);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { day: match[1], id: Number(match[2]) };
}

export function formatFeedCursor(cursor: FeedCursor): string {
  return `${cursor.day}.${cursor.id}`;
}

const DAY = sql.raw('COALESCE(p.announced_on, substr(p.published_at, 1, 10))');

/** The paper `p` is within the window: by its announcement day, or its first submission when that is unknown. */
function inWindow(from: string): RawBuilder<unknown> {
  return sql`(p.announced_on >= ${from} OR (p.announced_on IS NULL AND p.published_at >= ${from}))`;
}

interface FollowedUser {
  id: number;
  username: string;
}

/** The follows of one person, sorted by what each kind needs. */
interface Followed {
  authors: string[];
  /** Each followed category or archive with the categories it stands for. */
  categories: { name: string; categories: string[] }[];
  users: FollowedUser[];
  keywords: string[];
}

function sortFollows(follows: readonly Follow[]): Followed {
  const out: Followed = { authors: [], categories: [], users: [], keywords: [] };
  for (const f of follows) {
    if (f.kind === 'author') out.authors.push(f.target);
    else if (f.kind === 'keyword') out.keywords.push(f.target);
    else if (f.kind === 'user') out.users.push({ id: Number(f.target), username: f.label });
    else {
      const categories = expandCategoryFilter(f.target);
      if (categories !== undefined) out.categories.push({ name: f.target, categories });
    }
  }
  return out;
}

const unique = <T>(values: Iterable<T>): T[] => [...new Set(values)];

/** The paper ids each followed keyword search matches within the window. */
async function keywordMatches(database: Database, keywords: readonly string[], from: string): Promise<Map<string, Set<number>>> {
  const matches = new Map<string, Set<number>>();
  for (const keyword of keywords) {
    const result = await searchKeyword(database, keyword, { limit: KEYWORD_CANDIDATES, from, snippets: false, count: false });
    matches.set(keyword, new Set(result.hits.map((h) => h.paperId)));
  }
  return matches;
}

/** Paper ids (as `id`) matching any follow other than keywords, each source an indexed lookup. */
function sources(followed: Followed, from: string): RawBuilder<unknown>[] {
  const window = inWindow(from);
  const userIds = followed.users.map((u) => u.id);
  const out: RawBuilder<unknown>[] = [];
  if (followed.authors.length > 0) {
    out.push(sql`SELECT pa.paper_id AS id FROM paper_authors pa JOIN papers p ON p.id = pa.paper_id
      WHERE pa.name IN (${sql.join(followed.authors)}) AND ${window}`);
  }
  const categories = unique(followed.categories.flatMap((c) => c.categories));
  if (categories.length > 0) {
    out.push(sql`SELECT pc.paper_id AS id FROM paper_categories pc JOIN papers p ON p.id = pc.paper_id
      WHERE pc.category IN (${sql.join(categories)}) AND ${window}`);
  }
  if (userIds.length > 0) {
    out.push(sql`SELECT f.paper_id AS id FROM featured f JOIN papers p ON p.id = f.paper_id
      WHERE f.source = 'submission' AND f.hidden_at IS NULL AND f.featured_by IN (${sql.join(followed.users.map((u) => u.username))}) AND ${window}`);
    out.push(sql`SELECT ac.paper_id AS id FROM author_claims ac JOIN papers p ON p.id = ac.paper_id
      WHERE ac.status = 'verified' AND ac.user_id IN (${sql.join(userIds)}) AND ${window}`);
    // Public collections only: a paper in a private one must not show who keeps it.
    out.push(sql`SELECT cp.paper_id AS id FROM collections c JOIN collection_papers cp ON cp.collection_id = c.id
      JOIN papers p ON p.id = cp.paper_id
      WHERE c.is_public = 1 AND c.user_id IN (${sql.join(userIds)}) AND ${window}`);
  }
  return out;
}

/** The page's papers: ids and days, newest first, one more than asked to tell whether a next page exists. */
async function pageIds(
  database: Database,
  followed: Followed,
  keywordIds: readonly number[],
  from: string,
  q: FollowingQuery,
): Promise<{ id: number; day: string }[]> {
  const parts = sources(followed, from);
  if (keywordIds.length > 0) {
    parts.push(sql`SELECT p.id AS id FROM papers p WHERE p.id IN (${sql.join([...keywordIds])}) AND ${inWindow(from)}`);
  }
  if (parts.length === 0) return [];
  const before = q.before === undefined ? sql`TRUE` : sql`(${DAY} < ${q.before.day} OR (${DAY} = ${q.before.day} AND p.id < ${q.before.id}))`;
  const { rows } = await sql<{ id: number; day: string }>`SELECT p.id, ${DAY} AS day
    FROM (${sql.join(parts, sql` UNION `)}) m JOIN papers p ON p.id = m.id
    WHERE p.withdrawn = 0 AND ${before}
    ORDER BY day DESC, p.id DESC LIMIT ${q.limit + 1}`.execute(database.db);
  return rows.map((r) => ({ id: Number(r.id), day: r.day }));
}

/** Every reason each of the page's papers is in the feed, in the order of the follow kinds. */
async function reasonsFor(
  database: Database,
  followed: Followed,
  keywords: ReadonlyMap<string, ReadonlySet<number>>,
  ids: readonly number[],
): Promise<Map<number, FollowReason[]>> {
  const reasons = new Map<number, FollowReason[]>(ids.map((id) => [id, []]));
  const add = (paperId: number, reason: FollowReason): void => {
    const list = reasons.get(Number(paperId));
    if (list !== undefined && !list.some((r) => r.kind === reason.kind && r.target === reason.target)) list.push(reason);
  };
  const idList = sql.join([...ids]);
  if (followed.authors.length > 0) {
    const { rows } = await sql<{ paper_id: number; name: string }>`SELECT paper_id, name FROM paper_authors
      WHERE paper_id IN (${idList}) AND name IN (${sql.join(followed.authors)}) ORDER BY position`.execute(database.db);
    for (const r of rows) add(r.paper_id, { kind: 'author', target: r.name, text: `by an author you follow: ${r.name}` });
  }
  if (followed.categories.length > 0) {
    const all = unique(followed.categories.flatMap((c) => c.categories));
    const { rows } = await sql<{ paper_id: number; category: string }>`SELECT paper_id, category FROM paper_categories
      WHERE paper_id IN (${idList}) AND category IN (${sql.join(all)})`.execute(database.db);
    for (const followedCategory of followed.categories) {
      for (const r of rows) {
        if (followedCategory.categories.includes(r.category)) {
          add(r.paper_id, { kind: 'category', target: followedCategory.name, text: `in ${followedCategory.name}` });
        }
      }
    }
  }
  if (followed.users.length > 0) await addUserReasons(database, followed.users, idList, reasons);
  for (const [keyword, matched] of keywords) {
    for (const id of ids) if (matched.has(id)) add(id, { kind: 'keyword', target: keyword, text: `matches your search '${keyword}'` });
  }
  const order = new Map(FOLLOW_KINDS.map((k, i) => [k, i]));
  for (const list of reasons.values()) list.sort((a, b) => (order.get(a.kind) ?? 0) - (order.get(b.kind) ?? 0));
  return reasons;
}

/** "from ada (submitted, verified author)": what each followed person did with each paper. */
async function addUserReasons(
  database: Database,
  users: readonly FollowedUser[],
  idList: RawBuilder<unknown>,
  reasons: Map<number, FollowReason[]>,
): Promise<void> {
  const userIds = sql.join(users.map((u) => u.id));
  const { rows } = await sql<{ paper_id: number; user_id: number; how: string }>`
    SELECT f.paper_id, u.id AS user_id, 'submitted' AS how FROM featured f JOIN users u ON u.username = f.featured_by
      WHERE f.paper_id IN (${idList}) AND f.source = 'submission' AND f.hidden_at IS NULL AND u.id IN (${userIds})
    UNION
    SELECT ac.paper_id, ac.user_id, 'verified author' AS how FROM author_claims ac
      WHERE ac.paper_id IN (${idList}) AND ac.status = 'verified' AND ac.user_id IN (${userIds})
    UNION
    SELECT cp.paper_id, c.user_id, 'in a public collection' AS how FROM collection_papers cp JOIN collections c ON c.id = cp.collection_id
      WHERE cp.paper_id IN (${idList}) AND c.is_public = 1 AND c.user_id IN (${userIds})`.execute(database.db);
  const HOW_ORDER = ['submitted', 'verified author', 'in a public collection'];
  for (const user of users) {
    for (const [paperId, list] of reasons) {
      const hows = rows.filter((r) => Number(r.paper_id) === paperId && Number(r.user_id) === user.id).map((r) => r.how);
      if (hows.length === 0) continue;
      hows.sort((a, b) => HOW_ORDER.indexOf(a) - HOW_ORDER.indexOf(b));
      list.push({ kind: 'user', target: user.username, text: `from ${user.username} (${hows.join(', ')})` });
    }
  }
}

/** The first day of the window ending at `now`. */
export function windowStart(now: number): string {
  return new Date(now - (FOLLOWING_WINDOW_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
}

/** A page of `userId`'s Following feed, newest first, each paper with every reason. */
export async function followingFeed(database: Database, userId: number, q: FollowingQuery): Promise<FollowingPage> {
  const followed = sortFollows(await followsOf(database, userId));
  const from = windowStart(q.now ?? Date.now());
  const keywords = await keywordMatches(database, followed.keywords, from);
  const keywordIds = unique([...keywords.values()].flatMap((s) => [...s]));
  const found = await pageIds(database, followed, keywordIds, from, q);
  const page = found.slice(0, q.limit);
  if (page.length === 0) return { items: [], next: null };
  const ids = page.map((p) => p.id);
  const [all, reasons, filter] = await Promise.all([entriesByIds(database, ids), reasonsFor(database, followed, keywords, ids), personalFilter(database, userId)]);
  // Muted and dismissed papers leave the page; the cursor still moves past them.
  const { kept: entries } = await filter.apply(all);
  const days = new Map(page.map((p) => [p.id, p.day]));
  const last = page[page.length - 1];
  return {
    items: entries.map((entry) => ({ entry, day: days.get(entry.paper.id) ?? '', reasons: reasons.get(entry.paper.id) ?? [] })),
    next: found.length > q.limit && last !== undefined ? formatFeedCursor(last) : null,
  };
}
