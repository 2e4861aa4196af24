/**
 * "For you": recent papers ranked for one person from what they upvoted,
 * saved in collections, wrote (verified claims) and follow, against what
 * they dismissed, each with the reason that weighed most.
 *
 * 1. Signals: the person's positive papers (newest first), dismissed papers,
 *    follows, muted keywords.
 * 2. Candidates, all within a recency window (announced in the last 30 days
 *    before the newest announcement day, widened to 90 and 365 when too
 *    few): the Following feed's papers, the newest papers of the categories
 *    the positives are in, the newest papers overall, and the nearest
 *    neighbours (ANN) of the recent positives and of their centroid.
 * 3. Scores (src/personal/ranking.ts): with vectors, similarity to the best
 *    matching positive and to the centroid, plus follow boosts, minus
 *    similarity to dismissed papers; without a model yet (a fresh instance),
 *    shared authors and categories with the positives plus follow boosts.
 * 4. A page: positives, dismissed and muted papers left out, then MMR over
 *    the best so the page is not ten near-duplicates.
 *
 * Every candidate's vector is read and scored exactly (a few thousand dot
 * products), so the ANN index only widens the pool: a neighbour of an old
 * positive is usually old too and falls outside the window.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';
import { activeModel, readVectors } from '../db/vector-store.js';
import { entriesByIds, type FeedEntry } from '../feeds/feed.js';
import { addDays } from '../feeds/periods.js';
import { followingFeed, type FollowReason } from '../people/following-feed.js';
import { dot } from '../semantic/embedder.js';
import { nearestPapers, VectorIndexWarming } from '../semantic/vector-index.js';
import { keywordMatcher, mutableText, mutedKeywordsOf } from './muted.js';
import { recentNotInterestedIds } from './not-interested.js';
import { bestMatch, centroid, FOR_YOU, mmr, score, scoreParts, type FollowSignal, type Positive, type Signals } from './ranking.js';

/** Windows tried in turn, in days, until there are enough candidates. */
export const WINDOWS = [30, 90, 365] as const;
/** The positives whose vectors rank candidates (the newest). */
export const MAX_POSITIVES = 50;
/** Positives whose own ANN neighbours join the pool, and how many each. */
const ANN_POSITIVES = 20;
const ANN_NEIGHBOURS = 30;
const ANN_CENTROID_NEIGHBOURS = 200;
/** Dismissed papers that count against candidates (the newest). */
const MAX_NEGATIVES = 100;
/** Pool sizes per source. */
const FOLLOW_CANDIDATES = 200;
const CATEGORY_CANDIDATES = 1500;
const RECENT_CANDIDATES = 500;
/** Categories of the positives whose new papers join the pool. */
const TOP_CATEGORIES = 5;
/** The most papers a For you list has. */
export const MAX_FOR_YOU = 100;
/** Ids per IN list. */
const CHUNK = 900;

export type ForYouReasonKind = 'upvoted' | 'saved' | 'authored' | FollowSignal | 'shared-author' | 'shared-category';

/** Why a paper is recommended, as people read it. */
export interface ForYouReason {
  kind: ForYouReasonKind;
  text: string;
  /** The positive paper it is like, for `upvoted` / `saved` / `authored` / `shared-author`. */
  like?: { arxivId: string; title: string };
}

export interface ForYouItem {
  entry: FeedEntry;
  /** The day the paper is dated by: its announcement, else its first submission. */
  day: string;
  score: number;
  /** The strongest reason, then the others. */
  reasons: ForYouReason[];
}

/** Whether ranking by meaning could be used. */
export type SemanticState = 'ready' | 'no-model' | 'no-vectors';

export interface ForYouResult {
  items: ForYouItem[];
  semantic: SemanticState;
  /** The window the candidates came from, in days, ending on `referenceDay`. */
  windowDays: number;
  referenceDay: string;
  /** How much the person gave to rank from. */
  signals: { positives: number; follows: boolean; notInterested: number; mutedKeywords: number };
}

export interface ForYouOptions {
  limit: number;
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
  /** Papers to leave out besides the person's own positives and dismissals (a digest's other sections). */
  exclude?: ReadonlySet<number>;
  /** Windows to try, in days; default WINDOWS. */
  windows?: readonly number[];
  /** A person waits for the list (a page, the API, a feed reader): neighbours are skipped while the vector index warms up. */
  interactive?: boolean;
}

const HOW_ORDER: Record<Positive['how'], number> = { authored: 0, saved: 1, upvoted: 2 };

/** Every paper `userId` upvoted, saved or wrote, newest first, one entry per paper (authorship wins, then saving). */
async function positivesOf(database: Database, userId: number): Promise<Positive[]> {
  const { rows } = await sql<{ paper_id: number; how: Positive['how']; at: string; label: string | null; title: string; arxiv_id: string }>`
    SELECT x.paper_id, x.how, x.at, x.label, p.title_text AS title, p.arxiv_id FROM (
      SELECT u.paper_id, 'upvoted' AS how, u.created_at AS at, NULL AS label FROM upvotes u WHERE u.user_id = ${userId}
      UNION ALL
      SELECT cp.paper_id, 'saved' AS how, cp.added_at AS at, c.name AS label
        FROM collection_papers cp JOIN collections c ON c.id = cp.collection_id WHERE c.user_id = ${userId}
      UNION ALL
      SELECT ac.paper_id, 'authored' AS how, ac.created_at AS at, NULL AS label
        FROM author_claims ac WHERE ac.user_id = ${userId} AND ac.status = 'verified'
    ) x JOIN papers p ON p.id = x.paper_id
    ORDER BY x.at DESC, x.paper_id DESC`.execute(database.db);
  const byPaper = new Map<number, Positive>();
  for (const r of rows) {
    const id = Number(r.paper_id);
    const seen = byPaper.get(id);
    const next: Positive = { paperId: id, how: r.how, collection: r.how === 'saved' ? r.label : null, title: r.title, arxivId: r.arxiv_id };
    if (seen === undefined) byPaper.set(id, next);
    else if (HOW_ORDER[r.how] < HOW_ORDER[seen.how]) byPaper.set(id, { ...next });
  }
  return [...byPaper.values()];
}

/** The day For you counts back from: today, or the newest announcement day when that is older (an archive instance). */
async function referenceDayOf(database: Database, now: number): Promise<string> {
  const today = new Date(now).toISOString().slice(0, 10);
  const { rows } = await sql<{ v: string | null }>`SELECT max(announced_on) AS v FROM papers WHERE announced_on <= ${today}`.execute(database.db);
  const latest = rows[0]?.v ?? null;
  return latest === null ? today : latest;
}

function chunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += CHUNK) out.push(values.slice(i, i + CHUNK));
  return out;
}

interface CandidateInfo {
  id: number;
  day: string;
}

/**
 * Day and eligibility of candidate papers: not withdrawn, dated `from` or
 * later. Papers dated after the reference day (an announcement estimated
 * ahead) count as the newest, not as out of the window.
 */
async function datedCandidates(database: Database, ids: readonly number[], from: string): Promise<Map<number, CandidateInfo>> {
  const out = new Map<number, CandidateInfo>();
  for (const part of chunks(ids)) {
    const { rows } = await sql<{ id: number; day: string | null }>`SELECT p.id, COALESCE(p.announced_on, substr(p.published_at, 1, 10)) AS day
      FROM papers p WHERE p.id IN (${sql.join(part)}) AND p.withdrawn = 0`.execute(database.db);
    for (const r of rows) if (r.day !== null && r.day >= from) out.set(Number(r.id), { id: Number(r.id), day: r.day });
  }
  return out;
}

/** The categories most positives are in, most first. */
async function topCategories(database: Database, positiveIds: readonly number[]): Promise<{ counts: Map<string, number>; top: string[] }> {
  const counts = new Map<string, number>();
  for (const part of chunks(positiveIds)) {
    const rows = await database.db.selectFrom('paper_categories').select(['paper_id', 'category']).where('paper_id', 'in', part).execute();
    for (const r of rows) counts.set(r.category, (counts.get(r.category) ?? 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_CATEGORIES).map(([c]) => c);
  return { counts, top };
}

/** Newest papers announced from `from` on (in `categories`, when given). */
async function newestIds(database: Database, from: string, limit: number, categories?: readonly string[]): Promise<number[]> {
  const { rows } =
    categories === undefined
      ? await sql<{ id: number }>`SELECT p.id FROM papers p WHERE p.announced_on >= ${from} AND p.withdrawn = 0
          ORDER BY p.announced_on DESC, p.id DESC LIMIT ${limit}`.execute(database.db)
      : categories.length === 0
        ? { rows: [] }
        : await sql<{ id: number }>`SELECT DISTINCT p.id, p.announced_on FROM paper_categories pc JOIN papers p ON p.id = pc.paper_id
          WHERE pc.category IN (${sql.join([...categories])}) AND p.announced_on >= ${from} AND p.withdrawn = 0
          ORDER BY p.announced_on DESC, p.id DESC LIMIT ${limit}`.execute(database.db);
  return rows.map((r) => Number(r.id));
}

async function vectorsOf(database: Database, modelId: number, ids: readonly number[]): Promise<Map<number, Float32Array>> {
  const out = new Map<number, Float32Array>();
  for (const part of chunks(ids)) for (const v of await readVectors(database, modelId, part)) out.set(v.paperId, v.vector);
  return out;
}

/** Authors and categories of papers, for ranking without vectors. */
async function authorsAndCategories(database: Database, ids: readonly number[]): Promise<{ authors: Map<number, string[]>; categories: Map<number, string[]> }> {
  const authors = new Map<number, string[]>();
  const categories = new Map<number, string[]>();
  for (const part of chunks(ids)) {
    const [a, c] = await Promise.all([
      database.db.selectFrom('paper_authors').select(['paper_id', 'name']).where('paper_id', 'in', part).orderBy('position').execute(),
      database.db.selectFrom('paper_categories').select(['paper_id', 'category']).where('paper_id', 'in', part).execute(),
    ]);
    for (const r of a) authors.set(Number(r.paper_id), [...(authors.get(Number(r.paper_id)) ?? []), r.name]);
    for (const r of c) categories.set(Number(r.paper_id), [...(categories.get(Number(r.paper_id)) ?? []), r.category]);
  }
  return { authors, categories };
}

/** "you upvoted", "you saved in Reading list", "you wrote". */
function likedHow(p: Positive): string {
  if (p.how === 'authored') return 'you wrote';
  if (p.how === 'saved') return p.collection === null ? 'you saved' : `you saved in ${p.collection}`;
  return 'you upvoted';
}

function followReason(r: FollowReason): ForYouReason {
  switch (r.kind) {
    case 'author':
      return { kind: 'author', text: `By an author you follow: ${r.target}` };
    case 'category':
      return { kind: 'category', text: `In ${r.target}, which you follow` };
    case 'user': {
      const how = /\(([^)]*)\)$/.exec(r.text)?.[1];
      return { kind: 'user', text: `From ${r.target}, whom you follow${how === undefined ? '' : ` (${how})`}` };
    }
    case 'keyword':
      return { kind: 'keyword', text: `Matches your followed search '${r.target}'` };
  }
}

interface Scored {
  id: number;
  day: string;
  score: number;
  signals: Signals;
  vector?: Float32Array;
}

/** The reasons of a scored paper, strongest first. */
function reasonsOf(c: Scored, positives: readonly Positive[], follows: readonly FollowReason[]): ForYouReason[] {
  const parts = scoreParts(c.signals);
  const out: { weight: number; reason: ForYouReason }[] = [];
  const similar = c.signals.maxSim;
  const similarTo = similar === undefined ? undefined : positives[similar.positive];
  if (similarTo !== undefined && parts.semantic > 0) {
    out.push({
      weight: parts.semantic,
      reason: { kind: similarTo.how, text: `Similar to “${similarTo.title}”, which ${likedHow(similarTo)}`, like: { arxivId: similarTo.arxivId, title: similarTo.title } },
    });
  }
  const order: Record<FollowSignal, number> = { author: 0, user: 1, keyword: 2, category: 3 };
  const sortedFollows = [...follows].sort((a, b) => order[a.kind] - order[b.kind]);
  sortedFollows.forEach((f, i) => out.push({ weight: FOR_YOU.followBoost[f.kind] - i * 1e-6, reason: followReason(f) }));
  const shared = c.signals.sharedAuthor;
  const sharedWith = shared === undefined ? undefined : positives[shared.positive];
  if (shared !== undefined && sharedWith !== undefined) {
    out.push({
      weight: FOR_YOU.sharedAuthor,
      reason: { kind: 'shared-author', text: `By ${shared.name}, an author of “${sharedWith.title}”, which ${likedHow(sharedWith)}`, like: { arxivId: sharedWith.arxivId, title: sharedWith.title } },
    });
  }
  const category = c.signals.category;
  if (category !== undefined && category.share > 0) {
    out.push({ weight: FOR_YOU.categoryOverlap * category.share, reason: { kind: 'shared-category', text: `In ${category.name}, like papers you upvoted or saved` } });
  }
  return out.sort((a, b) => b.weight - a.weight).map((o) => o.reason);
}

/** For you for `userId`: up to `limit` recent papers, best first, each with its reasons. */
export async function forYou(database: Database, userId: number, options: ForYouOptions): Promise<ForYouResult> {
  const limit = Math.max(1, Math.min(options.limit, MAX_FOR_YOU));
  const now = options.now ?? Date.now();
  const [allPositives, negatives, muted, referenceDay, model] = await Promise.all([
    positivesOf(database, userId),
    recentNotInterestedIds(database, userId, MAX_NEGATIVES),
    mutedKeywordsOf(database, userId),
    referenceDayOf(database, now),
    activeModel(database),
  ]);
  const positives = allPositives.slice(0, MAX_POSITIVES);
  const excluded = new Set<number>([...allPositives.map((p) => p.paperId), ...negatives, ...(options.exclude ?? [])]);
  const matchMuted = keywordMatcher(muted.map((m) => m.keyword));
  // The Following feed counts back from the reference day too, and brings its own reasons.
  const following = await followingFeed(database, userId, { limit: FOLLOW_CANDIDATES, now: Date.parse(`${referenceDay}T23:59:59.999Z`) });
  const followReasons = new Map(following.items.map((i) => [i.entry.paper.id, i.reasons]));
  const signals = { positives: allPositives.length, follows: following.items.length > 0, notInterested: negatives.length, mutedKeywords: muted.length };

  let semantic: SemanticState = model === null ? 'no-model' : 'ready';
  let positiveVectors: { positive: number; vector: Float32Array }[] = [];
  let negativeVectors: Float32Array[] = [];
  if (model !== null) {
    const vectors = await vectorsOf(database, model.id, [...positives.map((p) => p.paperId), ...negatives]);
    positiveVectors = positives.flatMap((p, positive) => {
      const vector = vectors.get(p.paperId);
      return vector === undefined ? [] : [{ positive, vector }];
    });
    negativeVectors = negatives.flatMap((id) => vectors.get(id) ?? []);
    if (positives.length > 0 && positiveVectors.length === 0) semantic = 'no-vectors';
  }
  const center = centroid(positiveVectors.map((p) => p.vector));
  const { counts: categoryCounts, top } = await topCategories(database, positives.map((p) => p.paperId));

  // Neighbours do not depend on the window: asked once.
  const neighbours = new Set<number>();
  if (model !== null && positiveVectors.length > 0) {
    const searches = positiveVectors.slice(0, ANN_POSITIVES).map((p) => ({ vector: p.vector, k: ANN_NEIGHBOURS }));
    if (center !== undefined) searches.push({ vector: center, k: ANN_CENTROID_NEIGHBOURS });
    try {
      for (const s of searches) {
        for (const n of await nearestPapers(database, model.id, s.vector, s.k, { exclude: excluded, interactive: options.interactive === true })) neighbours.add(n.paperId);
      }
    } catch (err) {
      // A page while this process builds its first vector index: follows, categories and fresh papers still rank.
      if (!(err instanceof VectorIndexWarming)) throw err;
    }
  }

  const windows = options.windows ?? WINDOWS;
  let windowDays = windows[0] ?? WINDOWS[0];
  let pool = new Map<number, CandidateInfo>();
  for (const days of windows) {
    windowDays = days;
    const from = addDays(referenceDay, -(days - 1));
    const [inCategories, newest] = await Promise.all([
      newestIds(database, from, CATEGORY_CANDIDATES, top),
      newestIds(database, from, RECENT_CANDIDATES),
    ]);
    const ids = new Set<number>([...followReasons.keys(), ...inCategories, ...newest, ...neighbours]);
    for (const id of excluded) ids.delete(id);
    pool = await datedCandidates(database, [...ids], from);
    if (pool.size >= limit * 3) break;
  }
  const from = addDays(referenceDay, -(windowDays - 1));
  const span = Math.max(1, Date.parse(referenceDay) - Date.parse(from));
  const freshness = (day: string): number => Math.max(0, Math.min(1, (Date.parse(day) - Date.parse(from)) / span));

  const ids = [...pool.keys()];
  const candidateVectors = model !== null && positiveVectors.length > 0 ? await vectorsOf(database, model.id, ids) : new Map<number, Float32Array>();
  // Without vectors for the candidates, authors and categories stand in for meaning.
  const overlap = positiveVectors.length === 0 && positives.length > 0 ? await authorsAndCategories(database, [...ids, ...positives.map((p) => p.paperId)]) : undefined;
  const positiveAuthors = new Map<string, number>();
  if (overlap !== undefined) {
    positives.forEach((p, i) => {
      for (const name of overlap.authors.get(p.paperId) ?? []) if (!positiveAuthors.has(name)) positiveAuthors.set(name, i);
    });
  }

  const scored: Scored[] = [];
  for (const c of pool.values()) {
    const follows = followReasons.get(c.id) ?? [];
    const signals: Signals = { follows: [...new Set(follows.map((f) => f.kind))], freshness: freshness(c.day) };
    const vector = candidateVectors.get(c.id);
    if (vector !== undefined) {
      const best = bestMatch(vector, positiveVectors.map((p) => p.vector));
      if (best !== undefined) signals.maxSim = { similarity: best.similarity, positive: positiveVectors[best.index]?.positive ?? 0 };
      if (center !== undefined) signals.centroidSim = dot(vector, center);
      const negative = bestMatch(vector, negativeVectors);
      if (negative !== undefined) signals.negativeSim = negative.similarity;
    }
    if (overlap !== undefined) {
      const name = (overlap.authors.get(c.id) ?? []).find((n) => positiveAuthors.has(n));
      if (name !== undefined) signals.sharedAuthor = { name, positive: positiveAuthors.get(name) ?? 0 };
      let best: { name: string; share: number } | undefined;
      for (const category of overlap.categories.get(c.id) ?? []) {
        const share = (categoryCounts.get(category) ?? 0) / positives.length;
        if (share > 0 && (best === undefined || share > best.share)) best = { name: category, share };
      }
      if (best !== undefined) signals.category = best;
    }
    // Nothing of the person's points here: a newest-papers filler, not a recommendation.
    if (signals.follows.length === 0 && signals.maxSim === undefined && signals.sharedAuthor === undefined && signals.category === undefined) continue;
    scored.push({ id: c.id, day: c.day, score: score(signals), signals, ...(vector === undefined ? {} : { vector }) });
  }
  scored.sort((a, b) => b.score - a.score || (a.day < b.day ? 1 : a.day > b.day ? -1 : b.id - a.id));

  // Muted keywords need the text: read the best few times the page, drop muted ones, then diversify.
  const shortlist = scored.slice(0, limit * 4);
  const entries = new Map<number, FeedEntry>();
  for (const part of chunks(shortlist.map((s) => s.id))) for (const e of await entriesByIds(database, part)) entries.set(e.paper.id, e);
  const allowed = shortlist.filter((s) => {
    const entry = entries.get(s.id);
    return entry !== undefined && (muted.length === 0 || matchMuted(mutableText(entry.paper)) === undefined);
  });
  const sameSource = (s: Scored): string | undefined =>
    s.signals.maxSim !== undefined ? `p${s.signals.maxSim.positive}` : s.signals.sharedAuthor !== undefined ? `a${s.signals.sharedAuthor.name}` : undefined;
  const picked = mmr(allowed, limit, (a, b) => {
    if (a.vector !== undefined && b.vector !== undefined) return Math.max(0, dot(a.vector, b.vector));
    const sa = sameSource(a);
    return sa !== undefined && sa === sameSource(b) ? 0.5 : 0;
  });
  const items = picked.flatMap((s): ForYouItem[] => {
    const entry = entries.get(s.id);
    return entry === undefined ? [] : [{ entry, day: s.day, score: Math.round(s.score * 10_000) / 10_000, reasons: reasonsOf(s, positives, followReasons.get(s.id) ?? []) }];
  });
  return { items, semantic, windowDays, referenceDay, signals };
}
