import type { Selectable } from 'kysely';
import type { Database } from '../db/connection.js';
import type { PapersTable } from '../db/schema.js';
import type { ParsedAuthor } from './authors.js';
import type { ExtractedLink } from './links.js';
import type { NormalizedVersion } from './normalize.js';

/** A stored paper as pages, the API and feeds read it. */
export interface Paper {
  id: number;
  arxivId: string;
  version: number;
  /** TeX source. */
  title: string;
  titleText: string;
  /** TeX source; paragraphs separated by a blank line. */
  abstract: string;
  abstractText: string;
  authors: ParsedAuthor[];
  versions: NormalizedVersion[];
  links: ExtractedLink[];
  primaryCategory: string | null;
  categories: string[];
  comments: string | null;
  journalRef: string | null;
  doi: string | null;
  reportNo: string | null;
  mscClass: string | null;
  acmClass: string | null;
  license: string | null;
  submitter: string | null;
  publishedAt: string | null;
  updatedAt: string | null;
  announcedOn: string | null;
  announcedEstimated: boolean;
  withdrawn: boolean;
  upvotes: number;
  commentCount: number;
  modifiedAt: string;
}

export type PaperRow = Selectable<PapersTable>;

/** Turns a `papers` row into a `Paper`, parsing its JSON columns. */
export function paperFromRow(row: PaperRow): Paper {
  return {
    id: row.id,
    arxivId: row.arxiv_id,
    version: row.version,
    title: row.title,
    titleText: row.title_text,
    abstract: row.abstract,
    abstractText: row.abstract_text ?? row.abstract,
    authors: JSON.parse(row.authors) as ParsedAuthor[],
    versions: JSON.parse(row.versions) as NormalizedVersion[],
    links: JSON.parse(row.links) as ExtractedLink[],
    primaryCategory: row.primary_category,
    categories: row.categories === '' ? [] : row.categories.split(' '),
    comments: row.comments,
    journalRef: row.journal_ref,
    doi: row.doi,
    reportNo: row.report_no,
    mscClass: row.msc_class,
    acmClass: row.acm_class,
    license: row.license,
    submitter: row.submitter,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    announcedOn: row.announced_on,
    announcedEstimated: row.announced_estimated === 1,
    withdrawn: row.withdrawn === 1,
    upvotes: row.upvotes,
    commentCount: row.comment_count,
    modifiedAt: row.modified_at,
  };
}

/** The paper with this arXiv id (without version), or undefined. */
export async function findPaperByArxivId(database: Database, arxivId: string): Promise<Paper | undefined> {
  const row = await database.db.selectFrom('papers').selectAll().where('arxiv_id', '=', arxivId).executeTakeFirst();
  return row === undefined ? undefined : paperFromRow(row);
}
