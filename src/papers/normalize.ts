/**
 * From a parser's `RawPaper` (as found in the source) to the row-ready
 * `NormalizedPaper`: canonical id, parsed authors, plain-text fields, dates in
 * ISO UTC, links. Absent fields are `null`, never `undefined`, so the result
 * serialises identically every time and can be hashed to detect changes.
 */
import type { RawAuthors, RawPaper, RawVersion } from '../ingest/record.js';
import { estimateAnnouncedOn } from './announcement.js';
import { parseArxivId } from './arxiv-id.js';
import { authorFromName, authorFromParts, parseAuthorList, type ParsedAuthor } from './authors.js';
import { parseArxivDate } from './dates.js';
import { extractLinks } from './links.js';
import { collapseWhitespace, hasTex, texToPlain } from './tex.js';

export interface NormalizedVersion {
  version: number;
  submittedAt: string;
  size: string | null;
}

export interface NormalizedPaper {
  arxivId: string;
  /** Latest version number known. */
  version: number;
  title: string;
  titleText: string;
  /** TeX source; paragraphs separated by a blank line. */
  abstract: string;
  abstractText: string;
  authors: ParsedAuthor[];
  authorsText: string;
  categories: string[];
  primaryCategory: string | null;
  comments: string | null;
  journalRef: string | null;
  doi: string | null;
  reportNo: string | null;
  mscClass: string | null;
  acmClass: string | null;
  license: string | null;
  submitter: string | null;
  versions: NormalizedVersion[];
  publishedAt: string | null;
  updatedAt: string | null;
  announcedOn: string | null;
  announcedEstimate: string | null;
  /** true: withdrawn; false: the source says it is not; null: the source is silent. */
  withdrawn: boolean | null;
  links: { url: string; kind: string }[];
}

const CR_RE = /\r\n?/g;
// In arXiv abstracts a line starting with two spaces, or a blank line, opens a new paragraph.
const PARAGRAPH_RE = /\n[ \t]*\n\s*|\n[ \t]{2,}/;
const CATEGORY_SPLIT_RE = /[\s,]+/;
const DATE_ONLY_RE = /^\d{4}-\d{2}-\d{2}$/;
const DOI_PREFIX_RE = /^(?:https?:\/\/(?:dx\.)?doi\.org\/|doi:\s*)/i;
const LICENSE_URL_RE = /^https?:\/\/(?:www\.)?(arxiv\.org|creativecommons\.org)(\/\S*)$/i;
const OTHER_URL_RE = /^https?:\/\/\S+$/i;
const CC_SHORT_RE = /^cc[\s_-]*(by(?:[\s_-]+(?:nc|sa|nd))*)[\s_-]*v?(\d\.\d)(?:[\s_-]*international)?$/i;
const CC_PART_SPLIT_RE = /[\s_-]+/;
const CC0_RE = /^cc[\s_-]*0(?:[\s_-]*1\.0)?$/i;
const WITHDRAWN_WORD_RE = /withdrawn/i;
const WITHDRAWN_STATEMENT_RE =
  /\bthis\s+(?:paper|article|manuscript|submission|preprint|work|version|report)\s+(?:has\s+been|is(?:\s+being)?)\s+withdrawn\b/i;
const SHORT_ABSTRACT = 300;

/** Normalises a parser's raw record into the stored paper shape, or explains why it cannot. */
export function normalizePaper(raw: RawPaper): NormalizedPaper | { error: string } {
  try {
    return normalizeUnsafe(raw);
  } catch (err) {
    // The helpers are total; this only guards against a parser handing over a malformed object.
    return { error: `cannot normalise record: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function normalizeUnsafe(raw: RawPaper): NormalizedPaper | { error: string } {
  const rawId = typeof raw?.id === 'string' ? raw.id : String(raw?.id ?? '');
  const id = parseArxivId(rawId);
  if (id === null) return { error: `invalid arXiv id ${JSON.stringify(rawId.slice(0, 120))}` };

  const title = oneLine(raw.title);
  if (title === null) return { error: 'missing title' };
  const abstract = paragraphs(str(raw.abstract));
  const comments = oneLine(raw.comments);

  const authors = normalizeAuthors(raw.authors);
  const categories = normalizeCategories(raw.categories, oneLine(raw.primaryCategory));
  const versions = normalizeVersions(raw.versions);

  const claimed = positiveInt(raw.version) ?? id.version;
  const listed = versions.length > 0 ? (versions[versions.length - 1] as NormalizedVersion).version : null;
  const version = Math.max(claimed ?? 0, listed ?? 0) || 1;

  const first = versions[0]?.version === 1 ? versions[0] : undefined;
  const publishedAt = first?.submittedAt ?? date(raw.publishedAt);
  const latest = versions.find((v) => v.version === version);
  const updatedAt =
    latest?.submittedAt ?? date(raw.updatedAt) ?? versions[versions.length - 1]?.submittedAt ?? publishedAt;

  return {
    arxivId: id.id,
    version,
    title,
    titleText: texToPlain(title),
    abstract,
    abstractText: hasTex(abstract) ? abstract.split('\n\n').map(texToPlain).filter(Boolean).join('\n\n') : abstract,
    authors,
    authorsText: authors.map((a) => a.name).join(', '),
    categories: categories.list,
    primaryCategory: categories.primary,
    comments,
    journalRef: oneLine(raw.journalRef),
    doi: normalizeDoi(raw.doi),
    reportNo: oneLine(raw.reportNo),
    mscClass: oneLine(raw.mscClass),
    acmClass: oneLine(raw.acmClass),
    license: normalizeLicense(raw.license),
    submitter: oneLine(raw.submitter),
    versions,
    publishedAt,
    updatedAt,
    announcedOn: announcedOn(raw.announcedOn),
    announcedEstimate: publishedAt === null ? null : estimateAnnouncedOn(publishedAt),
    withdrawn: withdrawn(raw.withdrawn, title, abstract, comments),
    links: extractLinks(abstract, comments),
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Trimmed, whitespace-collapsed text (arXiv wraps long fields with `\n  `); null when blank. */
function oneLine(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const s = collapseWhitespace(v);
  return s.length === 0 ? null : s;
}

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : null;
}

function date(v: unknown): string | null {
  return typeof v === 'string' ? parseArxivDate(v) : null;
}

/** Paragraphs joined by a blank line, single spaces within. */
function paragraphs(text: string): string {
  const t = (text.includes('\r') ? text.replace(CR_RE, '\n') : text).trim();
  if (t.length === 0) return '';
  const parts = t.split(PARAGRAPH_RE);
  if (parts.length === 1) return collapseWhitespace(t);
  const out: string[] = [];
  for (const p of parts) {
    const s = collapseWhitespace(p);
    if (s.length > 0) out.push(s);
  }
  return out.join('\n\n');
}

function normalizeAuthors(authors: RawAuthors | null | undefined): ParsedAuthor[] {
  if (!authors) return [];
  let list: ParsedAuthor[];
  switch (authors.kind) {
    case 'text':
      return parseAuthorList(str(authors.value));
    case 'names':
      list = (authors.names ?? []).map((n) => authorFromName(str(n?.name), n?.affiliations));
      break;
    case 'parts':
      list = (authors.parts ?? []).map((p) => authorFromParts(p));
      break;
    default:
      return [];
  }
  return list.filter((a) => a.keyname.length > 0);
}

/** Categories deduplicated in order, the primary one first. */
function normalizeCategories(
  raw: string[] | null | undefined,
  primaryRaw: string | null,
): { list: string[]; primary: string | null } {
  const seen = new Set<string>();
  const primary = primaryRaw ?? null;
  if (primary !== null) seen.add(primary);
  for (const entry of raw ?? []) {
    if (typeof entry !== 'string') continue;
    for (const c of entry.split(CATEGORY_SPLIT_RE)) if (c.length > 0) seen.add(c);
  }
  const list = [...seen];
  return { list, primary: primary ?? list[0] ?? null };
}

function normalizeVersions(raw: RawVersion[] | null | undefined): NormalizedVersion[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const out: NormalizedVersion[] = [];
  for (const v of raw) {
    const version = positiveInt(v?.version);
    const submittedAt = date(v?.submittedAt);
    if (version === null || submittedAt === null) continue;
    out.push({ version, submittedAt, size: oneLine(v.size) });
  }
  out.sort((a, b) => a.version - b.version);
  const deduped: NormalizedVersion[] = [];
  for (const v of out) {
    const prev = deduped[deduped.length - 1];
    if (prev !== undefined && prev.version === v.version) {
      // Same version from two places: keep the first, but do not lose a size only the second knows.
      if (prev.size === null) prev.size = v.size;
      continue;
    }
    deduped.push(v);
  }
  return deduped;
}

function announcedOn(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  const iso = parseArxivDate(t);
  if (iso === null) return null;
  return DATE_ONLY_RE.test(t) ? t : iso.slice(0, 10);
}

/** Lower-cased DOIs without resolver prefixes; arXiv allows several, separated by spaces. */
function normalizeDoi(v: unknown): string | null {
  const s = oneLine(v);
  if (s === null) return null;
  const dois = s
    .split(' ')
    .map((d) => d.replace(DOI_PREFIX_RE, '').toLowerCase())
    .filter((d) => d.length > 0);
  return dois.length === 0 ? null : dois.join(' ');
}

/** A licence as the URL arXiv uses (`http://creativecommons.org/licenses/by/4.0/`), or null. */
function normalizeLicense(v: unknown): string | null {
  const s = oneLine(v);
  if (s === null) return null;
  const known = LICENSE_URL_RE.exec(s);
  if (known) {
    const path = known[2] ?? '/';
    // arXiv writes its licence URLs with http and a trailing slash; other forms would not compare equal.
    return `http://${(known[1] ?? '').toLowerCase()}${path.endsWith('/') ? path : `${path}/`}`;
  }
  if (OTHER_URL_RE.test(s)) return s;
  const cc = CC_SHORT_RE.exec(s);
  if (cc) {
    const kind = (cc[1] ?? '').toLowerCase().split(CC_PART_SPLIT_RE).join('-');
    return `http://creativecommons.org/licenses/${kind}/${cc[2]}/`;
  }
  if (CC0_RE.test(s)) return 'http://creativecommons.org/publicdomain/zero/1.0/';
  return null;
}

/**
 * The source's own flag wins. Otherwise a paper counts as withdrawn when its
 * comments mention withdrawal and the abstract is short (arXiv replaces the
 * abstract of a withdrawn version by a one-line notice), or when the title or
 * abstract states "This paper has been withdrawn". Null means nothing said either way.
 */
function withdrawn(flag: unknown, title: string, abstract: string, comments: string | null): boolean | null {
  if (flag === true || flag === false) return flag;
  if (comments !== null && abstract.length < SHORT_ABSTRACT && WITHDRAWN_WORD_RE.test(comments)) return true;
  if (WITHDRAWN_STATEMENT_RE.test(title)) return true;
  if (WITHDRAWN_STATEMENT_RE.test(abstract.length > 600 ? abstract.slice(0, 600) : abstract)) return true;
  return null;
}
