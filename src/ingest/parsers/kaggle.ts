/**
 * The Kaggle `arxiv-metadata-oai-snapshot` layout: one JSON object per line,
 * as arXiv's OAI `arXiv` metadata flattened by Cornell (2.7M lines, 4+ GB).
 */
import { z } from 'zod';
import { parseArxivDate } from '../../papers/dates.js';
import type { ParseItem, RawPaper, RawVersion } from '../record.js';
import { jsonLines } from './lines.js';

const text = z.string().nullish();

/** A Kaggle snapshot line; `authors_parsed` is ignored (derived from `authors`, loses affiliations). */
const kaggleRecord = z.object({
  id: z.string().trim().min(1),
  submitter: text,
  authors: text,
  title: text,
  comments: text,
  'journal-ref': text,
  doi: text,
  'report-no': text,
  categories: text,
  license: text,
  abstract: text,
  versions: z.array(z.object({ version: z.string(), created: z.string() })).nullish(),
  update_date: text,
});

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const VERSION = /^v(\d+)$/;

/** Trimmed string, or null when absent or blank. */
function str(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const t = s.trim();
  return t === '' ? null : t;
}

/** Converts one parsed line to a paper, or says which field is wrong. */
export function kaggleToPaper(value: unknown): RawPaper | { error: string } {
  const parsed = kaggleRecord.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? 'record' : issue.path.join('.');
    return { error: `${field}: ${issue?.message ?? 'invalid'}` };
  }
  const r = parsed.data;
  let versions: RawVersion[] | null = null;
  if (r.versions !== null && r.versions !== undefined) {
    versions = [];
    for (const [i, v] of r.versions.entries()) {
      const n = VERSION.exec(v.version.trim());
      if (n === null) return { error: `versions.${i}.version: expected "v<number>", got ${JSON.stringify(v.version)}` };
      const at = parseArxivDate(v.created);
      if (at === null) return { error: `versions.${i}.created: unparseable date ${JSON.stringify(v.created)}` };
      versions.push({ version: Number(n[1]), submittedAt: at });
    }
  }
  let updatedAt: string | null = null;
  if (r.update_date !== null && r.update_date !== undefined && r.update_date.trim() !== '') {
    updatedAt = r.update_date.trim();
    if (!DATE_ONLY.test(updatedAt)) return { error: `update_date: expected YYYY-MM-DD, got ${JSON.stringify(r.update_date)}` };
  }
  const authors = str(r.authors);
  const categories = str(r.categories);
  return {
    id: r.id,
    title: str(r.title),
    abstract: str(r.abstract),
    authors: authors === null ? null : { kind: 'text', value: authors },
    categories: categories === null ? null : categories.split(/\s+/),
    comments: str(r.comments),
    journalRef: str(r['journal-ref']),
    doi: str(r.doi),
    reportNo: str(r['report-no']),
    license: str(r.license),
    submitter: str(r.submitter),
    versions,
    updatedAt,
  };
}

/** Parses the Kaggle arXiv snapshot (JSON lines), one paper per line. */
export async function* parseKaggle(input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
  for await (const l of jsonLines(input)) {
    if (!l.ok) {
      yield { kind: 'error', reason: l.reason, at: { line: l.line } };
      continue;
    }
    const paper = kaggleToPaper(l.value);
    if ('error' in paper) yield { kind: 'error', reason: paper.error, at: { line: l.line } };
    else yield { kind: 'paper', paper, at: { line: l.line } };
  }
}
