/**
 * How a paper's merge state maps to and from a `papers` row. Shared by the
 * engine-specific writers in src/db/, so both store exactly the same columns.
 */
import type { Selectable } from 'kysely';
import type { PapersTable } from '../db/schema.js';
import type { ParsedAuthor } from '../papers/authors.js';
import type { PaperState } from './paper-state.js';

export type PaperRow = Selectable<PapersTable>;

/** What happened to one parsed item when it was written. */
export type ApplyOutcome =
  | { status: 'imported'; arxivId: string }
  | { status: 'updated'; arxivId: string }
  | { status: 'unchanged'; arxivId: string }
  | { status: 'skipped'; reason: string };

/** The merge state of a stored paper. */
export function stateFromRow(row: PaperRow): PaperState {
  return {
    version: row.version,
    title: row.title,
    titleText: row.title_text,
    abstract: row.abstract,
    abstractText: row.abstract_text ?? row.abstract,
    authors: JSON.parse(row.authors) as ParsedAuthor[],
    authorsText: row.authors_text,
    categories: row.categories === '' ? [] : row.categories.split(' '),
    primaryCategory: row.primary_category,
    comments: row.comments,
    journalRef: row.journal_ref,
    doi: row.doi,
    reportNo: row.report_no,
    mscClass: row.msc_class,
    acmClass: row.acm_class,
    license: row.license,
    submitter: row.submitter,
    versions: JSON.parse(row.versions) as PaperState['versions'],
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    announcedOn: row.announced_on,
    announcedEstimated: row.announced_estimated === 1,
    withdrawn: row.withdrawn === 1,
    links: JSON.parse(row.links) as PaperState['links'],
  };
}

/** The column values of a paper in state `s` (without id, created_at and modified_at). */
export function rowValues(arxivId: string, s: PaperState, contentHash: string) {
  return {
    arxiv_id: arxivId,
    version: s.version,
    title: s.title,
    title_text: s.titleText,
    abstract: s.abstract,
    // Stored only when it differs from the source (most abstracts have no TeX).
    abstract_text: s.abstractText === s.abstract ? null : s.abstractText,
    authors_text: s.authorsText,
    authors: JSON.stringify(s.authors),
    versions: JSON.stringify(s.versions),
    links: JSON.stringify(s.links),
    primary_category: s.primaryCategory,
    categories: s.categories.join(' '),
    comments: s.comments,
    journal_ref: s.journalRef,
    doi: s.doi,
    report_no: s.reportNo,
    msc_class: s.mscClass,
    acm_class: s.acmClass,
    license: s.license,
    submitter: s.submitter,
    published_at: s.publishedAt,
    updated_at: s.updatedAt,
    announced_on: s.announcedOn,
    announced_estimated: s.announcedEstimated ? 1 : 0,
    withdrawn: s.withdrawn ? 1 : 0,
    content_hash: contentHash,
  };
}

export type PaperValues = ReturnType<typeof rowValues>;

/** The columns of {@link rowValues}, for writers that build statements from them. */
export const PAPER_VALUE_COLUMNS = [
  'arxiv_id',
  'version',
  'title',
  'title_text',
  'abstract',
  'abstract_text',
  'authors_text',
  'authors',
  'versions',
  'links',
  'primary_category',
  'categories',
  'comments',
  'journal_ref',
  'doi',
  'report_no',
  'msc_class',
  'acm_class',
  'license',
  'submitter',
  'published_at',
  'updated_at',
  'announced_on',
  'announced_estimated',
  'withdrawn',
  'content_hash',
] as const satisfies readonly (keyof PaperValues)[];
// Compile-time check that the list names every value.
const allColumnsListed: Exclude<keyof PaperValues, (typeof PAPER_VALUE_COLUMNS)[number]> extends never ? true : never = true;
void allColumnsListed;

/** Whether the category rows of a paper must be rewritten going from `before` to `after`. */
export function categoriesChanged(before: PaperState | null, after: PaperState): boolean {
  return (
    before === null ||
    before.categories.join(' ') !== after.categories.join(' ') ||
    before.primaryCategory !== after.primaryCategory
  );
}

/** Whether the keyword-indexed text of a paper changed. */
export function indexedTextChanged(before: PaperState, after: PaperState): boolean {
  return (
    before.titleText !== after.titleText ||
    before.authorsText !== after.authorsText ||
    before.abstractText !== after.abstractText
  );
}
