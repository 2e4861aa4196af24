/**
 * Collections: named reading lists of papers, each paper with a note and a
 * place in the list. Private unless their owner makes them public; a private
 * collection does not exist for anyone else (404 everywhere, never 403, so
 * its id reveals nothing). A public one can be read by anyone and changed by
 * its owner only (403 for others).
 *
 * Every change bumps the collection's updated_at, in the transaction that
 * makes it: lists sort by it and the paper page's ETag is built from it.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/connection.js';
import type { DB as Tables } from '../db/schema.js';
import { parseBibtex, referencesOf } from './bibtex-import.js';

export const MAX_NAME = 100;
export const MAX_DESCRIPTION = 1000;
export const MAX_NOTE = 2000;
export const MAX_COLLECTIONS_PER_PERSON = 200;
export const MAX_PAPERS_PER_COLLECTION = 5000;

/** A collection as lists (profiles, /collections) show it. */
export interface CollectionSummary {
  id: number;
  name: string;
  description: string;
  isPublic: boolean;
  paperCount: number;
  updatedAt: string;
}

/** A collection with its owner, as its page and the API show it. */
export interface Collection extends CollectionSummary {
  ownerId: number;
  owner: string;
  createdAt: string;
}

/** One paper in a collection. */
export interface CollectionItem {
  paperId: number;
  arxivId: string;
  title: string;
  note: string;
  /** 1-based place in the list. */
  position: number;
  addedAt: string;
}

/** Why a change was refused: the HTTP status and a message for the person. */
export interface Refusal {
  ok: false;
  status: 400 | 403 | 404 | 422;
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | Refusal;

type Db = Kysely<Tables>;

const refuse = (status: Refusal['status'], message: string): Refusal => ({ ok: false, status, message });
const notFound = (id: number): Refusal => refuse(404, `There is no collection ${id}.`);

function now(): string {
  return new Date().toISOString();
}

function summaryQuery(db: Db) {
  return db
    .selectFrom('collections as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select((eb) => [
      'c.id',
      'c.user_id',
      'u.username',
      'c.name',
      'c.description',
      'c.is_public',
      'c.created_at',
      'c.updated_at',
      eb.selectFrom('collection_papers as cp').select((e) => e.fn.countAll<number | string>().as('n')).whereRef('cp.collection_id', '=', 'c.id').as('paper_count'),
    ]);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>['executeTakeFirstOrThrow']>>;

function collectionFromRow(r: SummaryRow): Collection {
  return {
    id: Number(r.id),
    ownerId: Number(r.user_id),
    owner: r.username,
    name: r.name,
    description: r.description,
    isPublic: r.is_public === 1,
    paperCount: Number(r.paper_count ?? 0),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The public collections of `userId`, most recently changed first. */
export async function publicCollectionsOf(database: Database, userId: number): Promise<CollectionSummary[]> {
  const rows = await summaryQuery(database.db).where('c.user_id', '=', userId).where('c.is_public', '=', 1).orderBy('c.updated_at', 'desc').orderBy('c.id', 'desc').execute();
  return rows.map(collectionFromRow);
}

/** Every collection of `userId`, private ones too, most recently changed first. */
export async function collectionsOf(database: Database, userId: number): Promise<Collection[]> {
  const rows = await summaryQuery(database.db).where('c.user_id', '=', userId).orderBy('c.updated_at', 'desc').orderBy('c.id', 'desc').execute();
  return rows.map(collectionFromRow);
}

/** Escapes LIKE wildcards so a search for "50%" means those characters. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Public collections of everyone, most recently changed first; `q` filters by name and description. */
export async function listPublicCollections(database: Database, options: { q?: string; limit: number; offset: number }): Promise<{ collections: Collection[]; more: boolean }> {
  let query = summaryQuery(database.db).where('c.is_public', '=', 1);
  const q = options.q?.trim() ?? '';
  if (q !== '') {
    const pattern = likePattern(q);
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['c.name']), 'like', eb.val(pattern).$castTo<string>()),
        eb(eb.fn('lower', ['c.description']), 'like', eb.val(pattern).$castTo<string>()),
      ]),
    );
  }
  const rows = await query.orderBy('c.updated_at', 'desc').orderBy('c.id', 'desc').limit(options.limit + 1).offset(options.offset).execute();
  return { collections: rows.slice(0, options.limit).map(collectionFromRow), more: rows.length > options.limit };
}

/**
 * The collection `id` as `viewerId` (null: signed out) may see it: the owner
 * sees it always, others only when public. Undefined otherwise.
 */
export async function visibleCollection(database: Database, viewerId: number | null, id: number): Promise<Collection | undefined> {
  const row = await summaryQuery(database.db).where('c.id', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const collection = collectionFromRow(row);
  return collection.isPublic || collection.ownerId === viewerId ? collection : undefined;
}

/** The papers of a collection in their order. */
export async function collectionItems(database: Database, collectionId: number): Promise<CollectionItem[]> {
  const rows = await database.db
    .selectFrom('collection_papers as cp')
    .innerJoin('papers as p', 'p.id', 'cp.paper_id')
    .select(['cp.paper_id', 'p.arxiv_id', 'p.title_text', 'cp.note', 'cp.added_at'])
    .where('cp.collection_id', '=', collectionId)
    .orderBy('cp.position')
    .orderBy('cp.added_at')
    .orderBy('cp.paper_id')
    .execute();
  return rows.map((r, i) => ({ paperId: Number(r.paper_id), arxivId: r.arxiv_id, title: r.title_text, note: r.note, position: i + 1, addedAt: r.added_at }));
}

/** Which of `userId`'s collections hold `paperId`, by id. */
export async function collectionsHolding(database: Database, userId: number, paperId: number): Promise<Set<number>> {
  const rows = await database.db
    .selectFrom('collection_papers as cp')
    .innerJoin('collections as c', 'c.id', 'cp.collection_id')
    .select('c.id')
    .where('c.user_id', '=', userId)
    .where('cp.paper_id', '=', paperId)
    .execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/** The collection `id` if `userId` may change it, in the transaction (locking its row on PostgreSQL). */
async function owned(trx: Transaction<Tables>, database: Database, userId: number, id: number): Promise<Outcome<{ id: number }>> {
  let query = trx.selectFrom('collections').select(['id', 'user_id', 'is_public']).where('id', '=', id);
  // Serialises changes to one collection (positions are read, then written).
  if (database.engine === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (row === undefined) return notFound(id);
  if (Number(row.user_id) !== userId) return row.is_public === 1 ? refuse(403, 'This collection is not yours: only its owner can change it.') : notFound(id);
  return { ok: true, value: { id } };
}

async function touch(trx: Transaction<Tables>, id: number): Promise<void> {
  await trx.updateTable('collections').set({ updated_at: now() }).where('id', '=', id).execute();
}

/** Runs `change` on a collection `userId` owns, bumping its updated_at; refusals change nothing. */
async function change<T>(database: Database, userId: number, id: number, fn: (trx: Transaction<Tables>) => Promise<Outcome<T>>): Promise<Outcome<T>> {
  return database.db.transaction().execute(async (trx) => {
    const found = await owned(trx, database, userId, id);
    if (!found.ok) return found;
    const result = await fn(trx);
    if (result.ok) await touch(trx, id);
    return result;
  });
}

export interface CollectionFields {
  name: string;
  description?: string;
  isPublic?: boolean;
}

/** A new collection of `userId` (private unless said otherwise). */
export async function createCollection(database: Database, userId: number, fields: CollectionFields): Promise<Outcome<{ id: number }>> {
  return database.db.transaction().execute(async (trx): Promise<Outcome<{ id: number }>> => {
    if (database.engine === 'postgres') await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
    const count = await trx.selectFrom('collections').select((e) => e.fn.countAll<number | string>().as('n')).where('user_id', '=', userId).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_COLLECTIONS_PER_PERSON) {
      return refuse(422, `You have ${MAX_COLLECTIONS_PER_PERSON} collections, the most one person can have: delete one first.`);
    }
    const at = now();
    const row = await trx
      .insertInto('collections')
      .values({ user_id: userId, name: fields.name, description: fields.description ?? '', is_public: fields.isPublic === true ? 1 : 0, created_at: at, updated_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ok: true, value: { id: Number(row.id) } };
  });
}

/** Changes the name, description or visibility of a collection and, with `order`, reorders it: all or nothing. */
export async function updateCollection(
  database: Database,
  userId: number,
  id: number,
  fields: Partial<CollectionFields> & { order?: readonly number[] },
): Promise<Outcome<null>> {
  return change(database, userId, id, async (trx) => {
    if (fields.order !== undefined) {
      const reordered = await reorder(trx, id, fields.order);
      if (!reordered.ok) return reordered;
    }
    const set: { name?: string; description?: string; is_public?: number } = {};
    if (fields.name !== undefined) set.name = fields.name;
    if (fields.description !== undefined) set.description = fields.description;
    if (fields.isPublic !== undefined) set.is_public = fields.isPublic ? 1 : 0;
    if (Object.keys(set).length > 0) await trx.updateTable('collections').set(set).where('id', '=', id).execute();
    return { ok: true, value: null };
  });
}

/** Deletes a collection and its list (not the papers). */
export async function deleteCollection(database: Database, userId: number, id: number): Promise<Outcome<null>> {
  return database.db.transaction().execute(async (trx): Promise<Outcome<null>> => {
    const found = await owned(trx, database, userId, id);
    if (!found.ok) return found;
    await trx.deleteFrom('collection_papers').where('collection_id', '=', id).execute();
    await trx.deleteFrom('collections').where('id', '=', id).execute();
    return { ok: true, value: null };
  });
}

/** The paper ids of a collection in order. */
async function orderOf(trx: Transaction<Tables>, id: number): Promise<number[]> {
  const rows = await trx.selectFrom('collection_papers').select('paper_id').where('collection_id', '=', id).orderBy('position').orderBy('added_at').orderBy('paper_id').execute();
  return rows.map((r) => Number(r.paper_id));
}

/** Writes positions 1..n for the order, touching only rows whose place changed. */
async function writeOrder(trx: Transaction<Tables>, id: number, before: readonly number[], after: readonly number[]): Promise<void> {
  const was = new Map(before.map((p, i) => [p, i]));
  for (const [i, paperId] of after.entries()) {
    if (was.get(paperId) === i) continue;
    await trx.updateTable('collection_papers').set({ position: i + 1 }).where('collection_id', '=', id).where('paper_id', '=', paperId).execute();
  }
}

/** Moves a paper within an order to a 1-based position (clamped to the list). */
function moved(order: readonly number[], paperId: number, position: number): number[] {
  const rest = order.filter((p) => p !== paperId);
  const at = Math.min(Math.max(position, 1), rest.length + 1) - 1;
  return [...rest.slice(0, at), paperId, ...rest.slice(at)];
}

/**
 * Adds a paper at the end of a collection (or at `position`), or, when it is
 * already there, updates its note (and moves it when a position is given).
 */
export async function addPaper(
  database: Database,
  userId: number,
  id: number,
  paperId: number,
  options: { note?: string; position?: number } = {},
): Promise<Outcome<{ added: boolean }>> {
  return change(database, userId, id, async (trx): Promise<Outcome<{ added: boolean }>> => {
    const order = await orderOf(trx, id);
    const present = order.includes(paperId);
    if (present) {
      if (options.note !== undefined) await trx.updateTable('collection_papers').set({ note: options.note }).where('collection_id', '=', id).where('paper_id', '=', paperId).execute();
    } else {
      if (order.length >= MAX_PAPERS_PER_COLLECTION) return refuse(422, `This collection has ${MAX_PAPERS_PER_COLLECTION} papers, the most a collection can hold: start another one.`);
      await trx
        .insertInto('collection_papers')
        .values({ collection_id: id, paper_id: paperId, position: order.length + 1, note: options.note ?? '', added_at: now() })
        .execute();
    }
    if (options.position !== undefined) {
      const current = present ? order : [...order, paperId];
      await writeOrder(trx, id, current, moved(current, paperId, options.position));
    }
    return { ok: true, value: { added: !present } };
  });
}

async function requirePresent(trx: Transaction<Tables>, id: number, paperId: number): Promise<Refusal | null> {
  const row = await trx.selectFrom('collection_papers').select('paper_id').where('collection_id', '=', id).where('paper_id', '=', paperId).executeTakeFirst();
  return row === undefined ? refuse(404, 'That paper is not in this collection.') : null;
}

/** Replaces the note of a paper in a collection. */
export async function setNote(database: Database, userId: number, id: number, paperId: number, note: string): Promise<Outcome<null>> {
  return change(database, userId, id, async (trx) => {
    const missing = await requirePresent(trx, id, paperId);
    if (missing) return missing;
    await trx.updateTable('collection_papers').set({ note }).where('collection_id', '=', id).where('paper_id', '=', paperId).execute();
    return { ok: true, value: null };
  });
}

/** Takes a paper out of a collection; taking out one that is not there is a 404. */
export async function removePaper(database: Database, userId: number, id: number, paperId: number): Promise<Outcome<null>> {
  return change(database, userId, id, async (trx) => {
    const missing = await requirePresent(trx, id, paperId);
    if (missing) return missing;
    await trx.deleteFrom('collection_papers').where('collection_id', '=', id).where('paper_id', '=', paperId).execute();
    return { ok: true, value: null };
  });
}

/** Moves one paper to a 1-based position (beyond the end: last). */
export async function movePaper(database: Database, userId: number, id: number, paperId: number, position: number): Promise<Outcome<null>> {
  return change(database, userId, id, async (trx) => {
    const missing = await requirePresent(trx, id, paperId);
    if (missing) return missing;
    const order = await orderOf(trx, id);
    await writeOrder(trx, id, order, moved(order, paperId, position));
    return { ok: true, value: null };
  });
}

/** Puts the papers in the given order, which must name every paper of the collection exactly once. */
async function reorder(trx: Transaction<Tables>, id: number, paperIds: readonly number[]): Promise<Outcome<null>> {
  const order = await orderOf(trx, id);
  const given = new Set(paperIds);
  if (given.size !== paperIds.length || given.size !== order.length || order.some((p) => !given.has(p))) {
    return refuse(422, `The order must list each of the collection's ${order.length} papers exactly once.`);
  }
  await writeOrder(trx, id, order, paperIds);
  return { ok: true, value: null };
}

/** Paper row ids by arXiv id, for the papers this instance has. */
export async function paperIdsByArxivId(database: Database, arxivIds: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let i = 0; i < arxivIds.length; i += 500) {
    const chunk = arxivIds.slice(i, i + 500);
    const rows = await database.db.selectFrom('papers').select(['id', 'arxiv_id']).where('arxiv_id', 'in', chunk).execute();
    for (const r of rows) found.set(r.arxiv_id, Number(r.id));
  }
  return found;
}

async function paperIdsByDoi(database: Database, dois: readonly string[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let i = 0; i < dois.length; i += 500) {
    const chunk = dois.slice(i, i + 500);
    const rows = await database.db
      .selectFrom('papers')
      .select(['id', 'doi'])
      .where((eb) => eb(eb.fn('lower', ['doi']), 'in', chunk))
      .orderBy('id')
      .execute();
    for (const r of rows) if (r.doi !== null && !found.has(r.doi.toLowerCase())) found.set(r.doi.toLowerCase(), Number(r.id));
  }
  return found;
}

/** One imported entry and the paper it matched. */
export interface ImportedEntry {
  key: string;
  line: number;
  arxivId: string;
}

/** One entry that matched nothing, or could not be read. */
export interface UnmatchedEntry {
  key: string | null;
  line: number;
  reason: string;
}

export interface ImportReport {
  matched: ImportedEntry[];
  alreadyPresent: ImportedEntry[];
  unmatched: UnmatchedEntry[];
}

/**
 * Imports a .bib file into a collection: each entry is matched to a paper of
 * this instance by arXiv id, else by DOI (case-insensitive), and added at the
 * end; papers already there stay where they are. Matches beyond the size limit
 * are reported unmatched. All or nothing: one transaction.
 */
export async function importBibtex(database: Database, userId: number, id: number, text: string): Promise<Outcome<ImportReport>> {
  const file = parseBibtex(text);
  const refs = file.entries.map((e) => ({ entry: e, ref: referencesOf(e) }));
  const byArxiv = await paperIdsByArxivId(database, [...new Set(refs.flatMap((r) => r.ref.arxivIds))]);
  const byDoi = await paperIdsByDoi(database, [...new Set(refs.flatMap((r) => r.ref.dois))]);
  return change(database, userId, id, async (trx): Promise<Outcome<ImportReport>> => {
    const report: ImportReport = { matched: [], alreadyPresent: [], unmatched: file.problems.map((p) => ({ key: p.key, line: p.line, reason: p.message })) };
    const order = await orderOf(trx, id);
    const inCollection = new Set(order);
    const arxivIdOf = new Map<number, string>();
    for (const [arxivId, paperId] of byArxiv) arxivIdOf.set(paperId, arxivId);
    const doiPapers = [...byDoi.values()].filter((p) => !arxivIdOf.has(p));
    if (doiPapers.length > 0) {
      const rows = await trx.selectFrom('papers').select(['id', 'arxiv_id']).where('id', 'in', doiPapers).execute();
      for (const r of rows) arxivIdOf.set(Number(r.id), r.arxiv_id);
    }
    const at = now();
    let size = order.length;
    for (const { entry, ref } of refs) {
      const paperId = ref.arxivIds.map((a) => byArxiv.get(a)).find((p) => p !== undefined) ?? ref.dois.map((d) => byDoi.get(d)).find((p) => p !== undefined);
      if (paperId === undefined) {
        const named = [...ref.arxivIds.map((a) => `arXiv:${a}`), ...ref.dois.map((d) => `doi:${d}`)];
        report.unmatched.push({
          key: entry.key,
          line: entry.line,
          reason: named.length === 0 ? 'names no arXiv id or DOI' : `${named.join(', ')} is not in this instance`,
        });
        continue;
      }
      const imported = { key: entry.key, line: entry.line, arxivId: arxivIdOf.get(paperId) ?? '' };
      if (inCollection.has(paperId)) {
        report.alreadyPresent.push(imported);
        continue;
      }
      if (size >= MAX_PAPERS_PER_COLLECTION) {
        report.unmatched.push({ key: entry.key, line: entry.line, reason: `the collection is full (${MAX_PAPERS_PER_COLLECTION} papers)` });
        continue;
      }
      size += 1;
      inCollection.add(paperId);
      await trx.insertInto('collection_papers').values({ collection_id: id, paper_id: paperId, position: size, note: '', added_at: at }).execute();
      report.matched.push(imported);
    }
    report.unmatched.sort((a, b) => a.line - b.line);
    return { ok: true, value: report };
  });
}
