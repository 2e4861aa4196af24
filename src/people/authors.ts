/**
 * An author's papers by their exact parsed name (paper_authors), newest
 * first by first submission, with keyset pagination: a page is the papers
 * strictly older than the `before` position, so pages stay put while papers
 * are added. A name is matched exactly: "A. Smith" and "Alice Smith" are two
 * authors, as arXiv's metadata cannot tell whether they are one.
 */
import { sql } from 'kysely';
import type { Database } from '../db/connection.js';

/** A position in an author's list: the paper's first submission (ISO, '' when unknown) and row id. */
export interface AuthorCursor {
  publishedAt: string;
  id: number;
}

const CURSOR_RE = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)?~(\d{1,15})$/;

/** The text of a cursor, for `?before=`. */
export function encodeAuthorCursor(cursor: AuthorCursor): string {
  return `${cursor.publishedAt}~${cursor.id}`;
}

/** The position `text` names, or null when it is not a cursor this page made. */
export function decodeAuthorCursor(text: string): AuthorCursor | null {
  const match = CURSOR_RE.exec(text);
  if (match === null) return null;
  return { publishedAt: match[1] ?? '', id: Number(match[2]) };
}

/** One page of the ids of `name`'s papers, newest first, and the cursor of the next page (null on the last). */
export async function papersByAuthor(
  database: Database,
  name: string,
  options: { before?: AuthorCursor; limit: number },
): Promise<{ ids: number[]; next: AuthorCursor | null }> {
  const before = options.before;
  const after =
    before === undefined
      ? sql`TRUE`
      : sql`(coalesce(p.published_at, '') < ${before.publishedAt} OR (coalesce(p.published_at, '') = ${before.publishedAt} AND p.id < ${before.id}))`;
  const { rows } = await sql<{ id: number | string; published: string }>`SELECT p.id, coalesce(p.published_at, '') AS published
    FROM paper_authors a JOIN papers p ON p.id = a.paper_id
    WHERE a.name = ${name} AND ${after}
    GROUP BY p.id, p.published_at
    ORDER BY coalesce(p.published_at, '') DESC, p.id DESC
    LIMIT ${options.limit + 1}`.execute(database.db);
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    ids: page.map((r) => Number(r.id)),
    next: rows.length > options.limit && last !== undefined ? { publishedAt: last.published, id: Number(last.id) } : null,
  };
}

/** How many papers carry `name` as an author. */
export async function paperCountOf(database: Database, name: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT count(DISTINCT paper_id) AS n FROM paper_authors WHERE name = ${name}`.execute(database.db);
  return Number(rows[0]?.n ?? 0);
}
