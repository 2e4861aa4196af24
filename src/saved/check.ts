/**
 * The saved-search check: finds the papers that newly match each saved
 * search, records them, and queues the email alerts and webhooks.
 *
 * Each search keeps a watermark (`checked_through`, the largest paper id it
 * has looked at), so a check only ever looks at papers added since: the
 * keyword half is the search with `minPaperId` (an FTS5 rowid bound, so its
 * cost follows the new papers, not the corpus), and the meaning half compares
 * the query's vector with the vectors of the new papers, loaded once per run
 * for every search. 10,000 searches against a day's papers is 10,000 small
 * keyword queries plus 10,000 × (new papers) dot products, never a search
 * over the whole corpus. Matches are keyed (search, paper), so a paper is
 * recorded, mailed and posted once however often a check runs or retries.
 *
 * When a paper counts as a match by meaning: semantic results always have
 * some similarity, so a new paper matches when it is at least as close to
 * the query as the query's k-th nearest paper of the whole corpus, with k
 * the top 0.1 % of it (10 to 1,000): it would rank among the search's
 * best results by meaning. The floor is a rank, not a fixed cosine, because
 * cosines mean different things under different embedders (the built-in
 * model's are not a MiniLM's); it is measured once per search and model with
 * one nearest-neighbour query and kept on the row. A day of ~1,000 new papers
 * then gives each search about one match by meaning, on top of its keyword
 * matches (which semantic and hybrid searches always include).
 *
 * Watermarks stay behind papers that cannot be judged yet: on PostgreSQL,
 * ids are taken before commit, so a paper with a smaller id can become
 * visible after a larger one; only papers older than a settling time
 * (a minute) are passed. A semantic or hybrid search also waits for new
 * papers without a vector of the active model (the embed job adds them
 * within minutes), up to an hour, after which they are judged by keyword.
 */
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { activeModel, bytesToVector, type EmbeddingModel } from '../db/vector-store.js';
import { enqueue, jobSpec } from '../jobs/queue.js';
import { categoryFilters, parseQuery, type ParsedQuery } from '../search/query.js';
import { meaningText, searchPapers } from '../search/search.js';
import { dot, type Embedder } from '../semantic/embedder.js';
import { embedderOf } from '../semantic/models.js';
import { nearestPapers } from '../semantic/vector-index.js';
import { paperPath } from '../web/card.js';
import { savedAlertJob, webhookJob } from './job-types.js';
import { expandedCategories, savedSearchFromRow, type SavedSearch } from './repository.js';
import { webhookBody } from './webhooks.js';

/** Most new matches one search records per run: a search that matches more is too broad to alert on. */
export const MAX_MATCHES_PER_RUN = 50;
/** Saved searches read and checked per batch. */
const BATCH = 200;
/** Most new papers compared by meaning per run (the newest); a bigger burst is judged by keyword beyond it. */
export const SEMANTIC_SCAN_MAX = 20_000;
/** The similarity floor is the query's k-th nearest paper: k = this fraction of the corpus, within the bounds below. */
export const FLOOR_FRACTION = 0.001;
export const FLOOR_MIN_RANK = 10;
export const FLOOR_MAX_RANK = 1_000;
/** On PostgreSQL, papers younger than this are left for the next run (ids are taken before commit). */
export const POSTGRES_SETTLE_MS = 60_000;
/** How long a semantic or hybrid search waits for a new paper's vector. */
export const EMBED_WAIT_MS = 3_600_000;

export interface CheckOptions {
  now?: Date;
  /** Override the settling time (tests: 0). */
  settleMs?: number;
  signal?: AbortSignal;
}

export interface CheckReport {
  /** Searches looked at (those behind the newest paper). */
  checked: number;
  newMatches: number;
  /** The largest paper id keyword checks went up to. */
  through: number;
  /** And the largest for searches by meaning (they wait for vectors). */
  semanticThrough: number;
  /** New papers compared by meaning. */
  newVectors: number;
  alerts: number;
  webhooks: number;
  ms: number;
}

interface NewVectors {
  ids: Int32Array | number[];
  vectors: Float32Array[];
}

interface MeaningContext {
  model: EmbeddingModel;
  embedder: Embedder;
  vectors: NewVectors;
  corpus: number | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function maxId(ctx: AppContext, after: number, createdBefore: string | null): Promise<number> {
  const row = await ctx.database.db
    .selectFrom('papers')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('id', '>', after)
    .$if(createdBefore !== null, (q) => q.where('created_at', '<=', createdBefore ?? ''))
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? after : Number(row.id);
}

/** The largest id semantic searches may pass: just before the oldest recent paper still without a vector. */
async function embeddedThrough(ctx: AppContext, model: EmbeddingModel, after: number, through: number, now: number): Promise<number> {
  const row = await ctx.database.db
    .selectFrom('papers as p')
    .select((eb) => eb.fn.min('p.id').as('id'))
    .where('p.id', '>', after)
    .where('p.id', '<=', through)
    .where('p.created_at', '>', iso(now - EMBED_WAIT_MS))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('paper_vectors as v').select(sql`1`.as('one')).where('v.model_id', '=', model.id).whereRef('v.paper_id', '=', 'p.id'))))
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? through : Math.max(after, Number(row.id) - 1);
}

async function loadNewVectors(ctx: AppContext, modelId: number, after: number, through: number): Promise<NewVectors> {
  const rows = await ctx.database.db
    .selectFrom('paper_vectors')
    .select(['paper_id', 'vector'])
    .where('model_id', '=', modelId)
    .where('paper_id', '>', after)
    .where('paper_id', '<=', through)
    .orderBy('paper_id', 'desc')
    .limit(SEMANTIC_SCAN_MAX)
    .execute();
  return { ids: rows.map((r) => Number(r.paper_id)), vectors: rows.map((r) => bytesToVector(r.vector)) };
}

/** The candidate papers that pass a search's filters and its exclusions and author:/title: terms. */
async function passing(ctx: AppContext, ids: readonly number[], search: SavedSearch, parsed: ParsedQuery): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const cats = categoryFilters(parsed);
  const include = [...(expandedCategories(search) ?? []), ...cats.include];
  const inCategories = (list: string[]) =>
    sql<boolean>`EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper_id = p.id AND (${sql.join(
      list.map((cat) => (cat.includes('.') ? sql`c.category = ${cat}` : sql`c.category LIKE ${`${cat}.%`}`)),
      sql` OR `,
    )}))`;
  const rows = await ctx.database.db
    .selectFrom('papers as p')
    .select(['p.id', 'p.title_text', 'p.authors_text', (eb) => eb.fn.coalesce('p.abstract_text', 'p.abstract').as('abstract_text')])
    .where('p.id', 'in', [...ids])
    .$if(include.length > 0, (q) => q.where(inCategories(include)))
    .$if(cats.exclude.length > 0, (q) => q.where(sql<boolean>`NOT ${inCategories(cats.exclude)}`))
    .$if(search.featuredOnly, (q) => q.where(sql<boolean>`EXISTS (SELECT 1 FROM featured f WHERE f.paper_id = p.id AND f.hidden_at IS NULL)`))
    .execute();
  const has = (text: string, needle: string) => text.toLowerCase().includes(needle.toLowerCase());
  return new Set(
    rows
      .filter((r) =>
        parsed.nodes.every((n) => {
          if (n.kind !== 'term') return true;
          const text = n.field === 'author' ? r.authors_text : n.field === 'title' ? r.title_text : n.field === 'abstract' ? r.abstract_text : `${r.title_text}\n${r.authors_text}\n${r.abstract_text}`;
          if (n.negated) return !has(text, n.text);
          return n.field === 'author' || n.field === 'title' ? has(text, n.text) : true;
        }),
      )
      .map((r) => Number(r.id)),
  );
}

async function corpusSize(ctx: AppContext, meaning: MeaningContext): Promise<number> {
  if (meaning.corpus === null) {
    const row = await ctx.database.db
      .selectFrom('paper_vectors')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('model_id', '=', meaning.model.id)
      .executeTakeFirstOrThrow();
    meaning.corpus = Number(row.n);
  }
  return meaning.corpus;
}

/** New papers that match `search` by meaning, best first, with their similarity; and the floor used. */
async function meaningMatches(
  ctx: AppContext,
  meaning: MeaningContext,
  search: SavedSearch,
  parsed: ParsedQuery,
  upto: number,
): Promise<{ matches: Map<number, number>; floor: number | null }> {
  const none = { matches: new Map<number, number>(), floor: search.floorModelId === meaning.model.id ? search.similarityFloor : null };
  const text = meaningText(parsed);
  if (text === '') return none;
  const [query] = await meaning.embedder.embed([text], 'query');
  if (query === undefined || query.every((x) => x === 0)) return none;
  let floor = search.floorModelId === meaning.model.id ? search.similarityFloor : null;
  if (floor === null) {
    const k = Math.min(FLOOR_MAX_RANK, Math.max(FLOOR_MIN_RANK, Math.ceil((await corpusSize(ctx, meaning)) * FLOOR_FRACTION)));
    const neighbours = await nearestPapers(ctx.database, meaning.model.id, query, k);
    // A corpus smaller than k: only a paper as close as the closest one matches.
    floor = neighbours.length >= k ? (neighbours.at(-1)?.similarity ?? 1) : (neighbours[0]?.similarity ?? 1);
  }
  const candidates: { id: number; similarity: number }[] = [];
  const { ids, vectors } = meaning.vectors;
  for (let i = 0; i < vectors.length; i++) {
    const id = ids[i] ?? 0;
    if (id <= search.checkedThrough || id > upto) continue;
    const v = vectors[i];
    if (v === undefined || v.length !== query.length) continue;
    const similarity = dot(query, v);
    if (similarity >= floor && similarity > 0) candidates.push({ id, similarity });
  }
  candidates.sort((a, b) => b.similarity - a.similarity);
  const top = candidates.slice(0, MAX_MATCHES_PER_RUN * 2);
  const ok = await passing(ctx, top.map((c) => c.id), search, parsed);
  return { matches: new Map(top.filter((c) => ok.has(c.id)).map((c) => [c.id, c.similarity])), floor };
}

interface SearchRow {
  search: SavedSearch;
  verified: boolean;
}

/**
 * Checks every saved search against the papers added since its watermark,
 * records new matches and queues alerts and webhooks; safe to run
 * concurrently and again (matches are keyed).
 */
export async function checkSavedSearches(ctx: AppContext, options: CheckOptions = {}): Promise<CheckReport> {
  const started = Date.now();
  const now = (options.now ?? new Date()).getTime();
  const nowIso = iso(now);
  const runKey = nowIso;
  const settle = options.settleMs ?? (ctx.database.engine === 'postgres' ? POSTGRES_SETTLE_MS : 0);
  const db = ctx.database.db;
  const report: CheckReport = { checked: 0, newMatches: 0, through: 0, semanticThrough: 0, newVectors: 0, alerts: 0, webhooks: 0, ms: 0 };

  const low = await db.selectFrom('saved_searches').select((eb) => eb.fn.min('checked_through').as('low')).executeTakeFirst();
  if (low?.low === null || low?.low === undefined) return { ...report, ms: Date.now() - started };
  const lo = Number(low.low);
  const through = await maxId(ctx, lo, settle > 0 ? iso(now - settle) : null);
  report.through = through;
  report.semanticThrough = through;
  if (through <= lo) return { ...report, ms: Date.now() - started };

  let meaning: MeaningContext | null = null;
  const model = await activeModel(ctx.database);
  const anyMeaning = await db.selectFrom('saved_searches').select('id').where('mode', '<>', 'keyword').where('checked_through', '<', through).limit(1).executeTakeFirst();
  if (model !== null && anyMeaning !== undefined) {
    const semanticThrough = await embeddedThrough(ctx, model, lo, through, now);
    report.semanticThrough = semanticThrough;
    const vectors = await loadNewVectors(ctx, model.id, lo, semanticThrough);
    report.newVectors = vectors.vectors.length;
    meaning = { model, embedder: await embedderOf(ctx, model), vectors, corpus: null };
  }

  const alertUsers = new Set<number>();
  let afterId = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await db
      .selectFrom('saved_searches as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('s')
      .select(['u.email_verified_at', 'u.banned_at'])
      .where('s.id', '>', afterId)
      .where('s.checked_through', '<', through)
      .orderBy('s.id')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) break;
    afterId = Number(rows.at(-1)?.id ?? afterId);
    const batch: SearchRow[] = rows.map((r) => ({ search: savedSearchFromRow(r), verified: r.email_verified_at !== null && r.banned_at === null }));
    for (const { search, verified } of batch) {
      const upto = search.mode === 'keyword' || meaning === null ? through : report.semanticThrough;
      if (upto <= search.checkedThrough) continue;
      report.checked += 1;
      const found = await checkOne(ctx, search, upto, meaning);
      const inserted = await record(ctx, search, upto, found, nowIso, runKey, verified);
      report.newMatches += inserted.count;
      if (inserted.webhook) report.webhooks += 1;
      if (inserted.alert) alertUsers.add(search.userId);
    }
  }
  report.alerts = alertUsers.size;
  report.ms = Date.now() - started;
  return report;
}

interface Found {
  /** Paper id → score (similarity where known, else the keyword score), best first. */
  matches: Map<number, number>;
  floor: number | null;
  /** The model the floor was measured under. */
  floorModelId: number | null;
}

async function checkOne(ctx: AppContext, search: SavedSearch, upto: number, meaning: MeaningContext | null): Promise<Found> {
  const parsed = parseQuery(search.query);
  const categories = expandedCategories(search);
  const keyword = await searchPapers(ctx, search.query, {
    mode: 'keyword',
    limit: MAX_MATCHES_PER_RUN,
    minPaperId: search.checkedThrough,
    ...(categories !== undefined ? { categories } : {}),
    featuredOnly: search.featuredOnly,
    snippets: false,
  });
  const matches = new Map<number, number>();
  for (const hit of keyword.hits) if (hit.paperId <= upto) matches.set(hit.paperId, hit.score);
  let floor: number | null = null;
  if (search.mode !== 'keyword' && meaning !== null) {
    const byMeaning = await meaningMatches(ctx, meaning, search, parsed, upto);
    floor = byMeaning.floor;
    for (const [id, similarity] of byMeaning.matches) {
      if (matches.size >= MAX_MATCHES_PER_RUN) break;
      if (!matches.has(id)) matches.set(id, similarity);
    }
  }
  return { matches, floor, floorModelId: floor === null || meaning === null ? null : meaning.model.id };
}

/**
 * Records a search's new matches and advances its watermark in one
 * transaction, with the webhook delivery and the alert job it calls for, so
 * a crash leaves either all of it or none (and the next run redoes it).
 */
async function record(
  ctx: AppContext,
  search: SavedSearch,
  upto: number,
  found: Found,
  nowIso: string,
  runKey: string,
  verified: boolean,
): Promise<{ count: number; webhook: boolean; alert: boolean }> {
  return ctx.database.db.transaction().execute(async (trx) => {
    const ids = [...found.matches.keys()];
    const inserted =
      ids.length === 0
        ? []
        : await trx
            .insertInto('saved_search_matches')
            .values(ids.map((id) => ({ saved_search_id: search.id, paper_id: id, matched_at: nowIso, score: found.matches.get(id) ?? 0, alerted_at: null })))
            .onConflict((oc) => oc.columns(['saved_search_id', 'paper_id']).doNothing())
            .returning('paper_id')
            .execute();
    await trx
      .updateTable('saved_searches')
      .set({
        checked_through: upto,
        last_checked_at: nowIso,
        ...(found.floor !== null && found.floorModelId !== null ? { similarity_floor: found.floor, floor_model_id: found.floorModelId } : {}),
      })
      .where('id', '=', search.id)
      // Never backwards: a concurrent run that got further keeps its mark.
      .where('checked_through', '<', upto)
      .execute();
    const newIds = inserted.map((r) => Number(r.paper_id));
    let webhook = false;
    if (newIds.length > 0 && search.webhookUrl !== null && search.webhookSecret !== null) {
      const papers = await trx
        .selectFrom('papers')
        .select(['id', 'arxiv_id', 'title_text', 'authors_text'])
        .where('id', 'in', newIds)
        .execute();
      const byId = new Map(papers.map((p) => [Number(p.id), p]));
      const base = ctx.config.baseUrl;
      const shown = newIds.flatMap((id) => {
        const p = byId.get(id);
        return p === undefined ? [] : [{ arxivId: p.arxiv_id, title: p.title_text, authors: p.authors_text, url: `${base}${paperPath(p.arxiv_id)}` }];
      });
      const body = webhookBody({ id: search.id, name: search.name, url: `${base}/saved/${search.id}` }, shown, newIds.length);
      const delivery = await trx
        .insertInto('webhook_deliveries')
        .values({ saved_search_id: search.id, payload: body, paper_count: newIds.length, created_at: nowIso })
        .returning('id')
        .executeTakeFirstOrThrow();
      await enqueue(trx, jobSpec(webhookJob, { deliveryId: Number(delivery.id) }, { uniqueKey: `saved.webhook:${delivery.id}` }));
      webhook = true;
    }
    const alert = newIds.length > 0 && search.emailAlert && verified;
    // One job per person per run: the unique key folds the person's alerted searches into one email.
    if (alert) await enqueue(trx, jobSpec(savedAlertJob, { userId: search.userId }, { uniqueKey: `saved.alert:${search.userId}:${runKey}` }));
    return { count: newIds.length, webhook, alert };
  });
}
