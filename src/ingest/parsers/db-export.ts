/**
 * Rows of arXiv's own metadata database tables, exported as JSON lines
 * (`arXiv-oaipmh-browse.db`): `arXiv_metadata` (one row per paper version),
 * `arXiv_next_mail` (what a daily mailing announced), and two tables keyed by
 * arXiv's internal document id only.
 */
import { expandYear, parseArxivDate } from '../../papers/dates.js';
import type { ParseItem, Parser, RawAnnouncement, RawPaper } from '../record.js';
import { isRecord, jsonLines, jsonType } from './lines.js';

type Row = Record<string, unknown>;
type Result<T> = T | { error: string };

/**
 * Undoes the MySQL string escaping the export kept inside its JSON strings
 * (`\\` for a backslash, `\"`, `\'`, `\n`): the table holds `{\it x}` where the
 * dump says `{\\it x}`. Unknown escapes keep their backslash, so TeX written
 * with a single backslash in an unescaped row survives.
 */
export function unescapeMysql(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([\\"'nrt])/g, (_m, c: string) => {
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      default:
        return c;
    }
  });
}

/** Reads an optional text column: trimmed and unescaped, null when absent or blank. */
function textField(row: Row, key: string): Result<string | null> {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') return { error: `${key}: expected string, got ${jsonType(v)}` };
  const t = unescapeMysql(v).trim();
  return t === '' ? null : t;
}

/** Reads a required integer column (ids, version numbers, flags). */
function intField(row: Row, key: string, min: number): Result<number> {
  const v = row[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    return { error: `${key}: expected an integer >= ${min}, got ${JSON.stringify(v) ?? 'nothing'}` };
  }
  return v;
}

function isError(v: unknown): v is { error: string } {
  return typeof v === 'object' && v !== null && 'error' in v;
}

const METADATA_TEXT = [
  'title',
  'authors',
  'abs_categories',
  'comments',
  'journal_ref',
  'doi',
  'report_num',
  'msc_class',
  'acm_class',
  'license',
  'abstract',
  'submitter_name',
] as const;

/** Converts one `arXiv_metadata` row (one version of a paper) to a paper. */
export function metadataRowToPaper(row: unknown): Result<RawPaper> {
  if (!isRecord(row)) return { error: `row: expected object, got ${jsonType(row)}` };
  const id = textField(row, 'paper_id');
  if (isError(id)) return id;
  if (id === null) return { error: 'paper_id: missing' };
  const version = intField(row, 'version', 1);
  if (isError(version)) return version;
  if (typeof row.created !== 'string') return { error: `created: expected string, got ${jsonType(row.created)}` };
  const submittedAt = parseArxivDate(row.created);
  if (submittedAt === null) return { error: `created: unparseable date ${JSON.stringify(row.created)}` };
  const t: Partial<Record<(typeof METADATA_TEXT)[number], string | null>> = {};
  for (const key of METADATA_TEXT) {
    const v = textField(row, key);
    if (isError(v)) return v;
    t[key] = v;
  }
  const withdrawn = row.is_withdrawn;
  if (withdrawn !== undefined && withdrawn !== null && withdrawn !== 0 && withdrawn !== 1) {
    return { error: `is_withdrawn: expected 0 or 1, got ${JSON.stringify(withdrawn)}` };
  }
  return {
    id,
    version,
    versions: [{ version, submittedAt }],
    title: t.title ?? null,
    abstract: t.abstract ?? null,
    authors: t.authors ? { kind: 'text', value: t.authors } : null,
    categories: t.abs_categories ? t.abs_categories.split(/\s+/) : null,
    comments: t.comments ?? null,
    journalRef: t.journal_ref ?? null,
    doi: t.doi ?? null,
    reportNo: t.report_num ?? null,
    mscClass: t.msc_class ?? null,
    acmClass: t.acm_class ?? null,
    license: t.license ?? null,
    submitter: t.submitter_name ?? null,
    withdrawn: withdrawn === undefined || withdrawn === null ? null : withdrawn === 1,
  };
}

/**
 * `arXiv_next_mail.type` values. A withdrawal (`wdr`) is a new version and is
 * announced among the replacements; `jref` only records a journal reference
 * added to an existing version, which announces nothing.
 */
const MAIL_TYPES: Record<string, RawAnnouncement['type'] | null> = {
  new: 'new',
  cross: 'cross',
  rep: 'replace',
  wdr: 'replace',
  jref: null,
};

/** Mailing id `YYMMDD` to `YYYY-MM-DD` (two-digit years as arXiv's mailings write them). */
export function mailIdToDate(mailId: string): string | null {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(mailId.trim());
  if (m === null) return null;
  const year = expandYear(Number(m[1]));
  const month = Number(m[2]);
  const day = Number(m[3]);
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return d.toISOString().slice(0, 10);
}

/** Converts one `arXiv_next_mail` row to an announcement, a skip reason, or an error. */
export function nextMailRowToItem(row: unknown): Result<RawAnnouncement | { skip: string }> {
  if (!isRecord(row)) return { error: `row: expected object, got ${jsonType(row)}` };
  const id = textField(row, 'paper_id');
  if (isError(id)) return id;
  if (id === null) return { error: 'paper_id: missing' };
  const version = intField(row, 'version', 1);
  if (isError(version)) return version;
  if (typeof row.type !== 'string') return { error: `type: expected string, got ${jsonType(row.type)}` };
  if (!(row.type in MAIL_TYPES)) return { error: `type: unknown mail type ${JSON.stringify(row.type)}` };
  const type = MAIL_TYPES[row.type];
  if (typeof row.mail_id !== 'string') return { error: `mail_id: expected string, got ${jsonType(row.mail_id)}` };
  const announcedOn = mailIdToDate(row.mail_id);
  if (announcedOn === null) return { error: `mail_id: expected YYMMDD, got ${JSON.stringify(row.mail_id)}` };
  if (type === null || type === undefined) {
    return { skip: `mail row ${row.type} for ${id}v${version}: a journal-ref update announces no version` };
  }
  return { id, version, type, announcedOn };
}

/** Parses `arXiv_metadata` rows: one paper per version row (the pipeline merges versions). */
export async function* parseDbMetadata(input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
  for await (const l of jsonLines(input)) {
    const at = { line: l.line };
    if (!l.ok) {
      yield { kind: 'error', reason: l.reason, at };
      continue;
    }
    const paper = metadataRowToPaper(l.value);
    if (isError(paper)) yield { kind: 'error', reason: paper.error, at };
    else yield { kind: 'paper', paper, at };
  }
}

/** Parses `arXiv_next_mail` rows into announcements (new, cross-list, replacement). */
export async function* parseDbNextMail(input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
  for await (const l of jsonLines(input)) {
    const at = { line: l.line };
    if (!l.ok) {
      yield { kind: 'error', reason: l.reason, at };
      continue;
    }
    const item = nextMailRowToItem(l.value);
    if (isError(item)) yield { kind: 'error', reason: item.error, at };
    else if ('skip' in item) yield { kind: 'skip', reason: item.skip, at };
    else yield { kind: 'announcement', announcement: item, at };
  }
}

/**
 * Accounts for rows of a table keyed only by arXiv's internal document id. A
 * streaming parser sees one file at a time and cannot join it with
 * `arXiv_metadata`, which already carries the same facts per paper, so each
 * row becomes a `skip` that the import summary counts.
 */
function documentRowParser(what: string, explain: (row: Row, doc: number) => string): Parser {
  return async function* (input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
    for await (const l of jsonLines(input)) {
      const at = { line: l.line };
      if (!l.ok) {
        yield { kind: 'error', reason: l.reason, at };
        continue;
      }
      if (!isRecord(l.value)) {
        yield { kind: 'error', reason: `${what} row: expected object, got ${jsonType(l.value)}`, at };
        continue;
      }
      const doc = intField(l.value, 'document_id', 0);
      if (isError(doc)) yield { kind: 'error', reason: doc.error, at };
      else yield { kind: 'skip', reason: explain(l.value, doc), at };
    }
  };
}

/** Parses `arXiv_document_category` rows: each is skipped (categories come from `arXiv_metadata`). */
export const parseDbCategories: Parser = documentRowParser(
  'category',
  (_row, doc) => `category row for document ${doc}: categories are taken from arXiv_metadata`,
);

/** Parses `arXiv_updates` rows: each is skipped (versions and announcements come from other tables). */
export const parseDbUpdates: Parser = documentRowParser(
  'update',
  (row, doc) =>
    `update row (${typeof row.action === 'string' ? row.action : 'unknown action'}) for document ${doc}: ` +
    'versions are taken from arXiv_metadata and announcements from arXiv_next_mail',
);
