/**
 * Collections: named reading lists of papers, each paper with a note and a
 * place in the list. Private unless their owner makes them public; a private
 * collection does not exist for anyone else (404 everywhere, never 403, so
 * its id reveals nothing).
 */
import type { Database } from '../db/connection.js';

/** A collection as lists (profiles, /collections) show it. */
export interface CollectionSummary {
  id: number;
  name: string;
  description: string;
  isPublic: boolean;
  paperCount: number;
  updatedAt: string;
}

/** The public collections of `userId`, most recently changed first. */
export async function publicCollectionsOf(database: Database, userId: number): Promise<CollectionSummary[]> {
  const rows = await database.db
    .selectFrom('collections as c')
    .select((eb) => [
      'c.id',
      'c.name',
      'c.description',
      'c.is_public',
      'c.updated_at',
      eb.selectFrom('collection_papers as cp').select((e) => e.fn.countAll<number | string>().as('n')).whereRef('cp.collection_id', '=', 'c.id').as('paper_count'),
    ])
    .where('c.user_id', '=', userId)
    .where('c.is_public', '=', 1)
    .orderBy('c.updated_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    isPublic: r.is_public === 1,
    paperCount: Number(r.paper_count ?? 0),
    updatedAt: r.updated_at,
  }));
}
