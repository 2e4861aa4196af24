/**
 * arXiv's `.abs` text format, also used by its monthly listings and daily
 * mailings:
 *
 * ```
 * ------------------------------------------------------------------------------
 * \\
 * arXiv:0704.0001                      (or "Paper: hep-th/9901001", or with "(*cross-listing*)")
 * From: Pavel Nadolsky <email>
 * Date: Mon, 2 Apr 2007 19:18:42 GMT   (443kb)
 * Date (revised v2): Tue, 24 Jul 2007 20:10:27 GMT   (370kb)
 *
 * Title: Calculation of prompt diphoton production cross sections at Tevatron and
 *   LHC energies
 * Authors: ...
 * \\
 *   Abstract text ...
 * \\
 * ```
 *
 * Listings omit the abstract (the header's closing `\\` is followed by a line
 * of dashes). Mailings start with a mail header (`Date:`, `Subject:`), end the
 * abstract with `\\ ( https://arxiv.org/abs/ID ,  12kb)`, write replacements as
 * `replaced with revised version DATE (size)` instead of `Date:` lines, and
 * separate their sections with marker lines: `%-%-%-…` ends the new
 * submissions, `%%--%%--…` ends the cross-lists, `%%%---%%%---…` ends the
 * replacements (the mail footer follows).
 */
import { parseArxivDate } from '../../papers/dates.js';
import type { ParseItem, RawPaper, RawVersion } from '../record.js';
import { lines } from './lines.js';

/** Header or abstract size past which a record is taken as broken (a missing `\\`), so memory stays bounded. */
const MAX_RECORD_CHARS = 1024 * 1024;

type Section = 'new' | 'cross' | 'replace' | 'footer';

interface Field {
  key: string;
  value: string;
}

interface Draft {
  /** Line of the record's first header line (its id line). */
  line: number;
  id: string | null;
  crossListing: boolean;
  fields: Field[];
  /** `replaced with revised version …` (mailings), as found. */
  replaced: string | null;
  abstract: string[];
  chars: number;
  problems: string[];
  /** Mailing section the record appeared in; null outside mailings. */
  section: Section | null;
}

/** A record's id line: `arXiv:ID`, `Paper: ID`, `Paper (*cross-listing*): ID`, `arXiv:ID (*cross-listing*)`. */
export const ABS_ID_LINE = /^(?:arXiv:|Paper(?:\s*\(\*cross-listing\*\))?:)\s*(\S+)\s*(\(\*cross-listing\*\))?\s*$/;
const CROSS_MARK = /\(\*cross-listing\*\)/;
const FIELD_LINE = /^([A-Za-z][A-Za-z0-9-]*(?:\s*\([^)]*\))?):\s*(.*)$/;
/** Header keys that can only start a record, used to spot a record whose id line is missing. */
const RECORD_KEYS = /^(?:From|Date|Title|Authors|Categories):/;
const REPLACED = /^replaced with revised version\s+(.*)$/;
const DASHES = /^-{10,}\s*$/;
const DATE_VALUE = /^(.*?)\s*(?:\(([^)]*)\))?\s*$/;
const REVISED = /^date\s*\(revised(?:\s+v(\d+))?\)$/;

/** `\\` alone, or a mailing's `\\ ( https://arxiv.org/abs/… , 12kb)` closing line. */
function delimiter(t: string): 'plain' | 'closing' | null {
  if (t.charCodeAt(0) !== 92 || t.charCodeAt(1) !== 92) return null;
  const rest = t.slice(2);
  if (rest.trim() === '') return 'plain';
  return /^\s/.test(rest) ? 'closing' : null;
}

/** A mailing section marker, as the section it opens. */
function sectionMarker(t: string): Section | null {
  if (t.startsWith('%%%---')) return 'footer';
  if (t.startsWith('%%--%%')) return 'replace';
  if (t.startsWith('%-%-%')) return 'cross';
  return null;
}

/** Submitter display name from `From:`, without any email address. */
export function submitterName(from: string): string | null {
  const name = from
    .replace(/<[^>]*>?/g, ' ')
    .replace(/\S+@\S+/g, ' ')
    .trim()
    .replace(/\s{2,}/g, ' ');
  return name === '' ? null : name;
}

/** Turns a finished record into a paper, or an error naming what is wrong. */
function finish(d: Draft, mailDay: string | null): ParseItem {
  const at = { line: d.line };
  const label = d.id === null ? 'record' : d.id;
  if (d.id === null) d.problems.unshift('no arXiv: or Paper: id line');
  const paper: RawPaper = { id: d.id ?? '' };
  const versions: RawVersion[] = [];
  for (const { key, value } of d.fields) {
    const k = key.toLowerCase().replace(/\s+/g, ' ');
    if (value === '') continue;
    if (k === 'date' || k.startsWith('date (')) {
      let version: number;
      const last = versions.at(-1)?.version ?? 0;
      if (k === 'date') version = last + 1;
      else {
        const revised = REVISED.exec(k);
        if (revised === null) continue;
        // Old listings write "Date (revised):" without a number: versions then follow in order.
        version = revised[1] === undefined ? last + 1 : Number(revised[1]);
      }
      const m = DATE_VALUE.exec(value);
      const dateText = m?.[1] ?? value;
      const submittedAt = parseArxivDate(dateText);
      if (submittedAt === null) {
        d.problems.push(`${key}: unparseable date ${JSON.stringify(dateText)}`);
        continue;
      }
      const size = m?.[2]?.split(',')[0]?.trim();
      versions.push(size ? { version, submittedAt, size } : { version, submittedAt });
      continue;
    }
    switch (k) {
      case 'title':
        paper.title = value;
        break;
      case 'authors':
        paper.authors = { kind: 'text', value };
        break;
      case 'categories':
        paper.categories = value.split(/\s+/);
        break;
      case 'comments':
        paper.comments = value;
        break;
      case 'report-no':
        paper.reportNo = value;
        break;
      case 'msc-class':
        paper.mscClass = value;
        break;
      case 'acm-class':
        paper.acmClass = value;
        break;
      case 'journal-ref':
        paper.journalRef = value;
        break;
      case 'doi':
        paper.doi = value;
        break;
      case 'license':
        paper.license = value;
        break;
      case 'from':
        paper.submitter = submitterName(value);
        break;
      // Proxy, Subj-class and the rest carry nothing a paper keeps.
    }
  }
  if (versions.length > 0) paper.versions = versions;
  if (d.replaced !== null) {
    const m = DATE_VALUE.exec(d.replaced);
    const updatedAt = parseArxivDate(m?.[1] ?? d.replaced);
    if (updatedAt === null) d.problems.push(`replaced: unparseable date ${JSON.stringify(m?.[1] ?? d.replaced)}`);
    // The mailing does not say which version replaced the paper, only when.
    else paper.updatedAt = updatedAt;
  }
  const abstract = d.abstract.join('\n').trim();
  if (abstract !== '') paper.abstract = abstract;
  if (mailDay !== null && d.section !== null) {
    const type = d.crossListing ? 'cross' : d.replaced !== null ? 'replace' : d.section;
    if (type === 'new') paper.announcedOn = mailDay;
  }
  if (d.problems.length > 0) return { kind: 'error', reason: `${label}: ${d.problems.join('; ')}`, at };
  return { kind: 'paper', paper, at };
}

/** Parses `.abs` files, monthly listings and daily mailings, one paper per record. */
export async function* parseAbs(input: AsyncIterable<string>): AsyncGenerator<ParseItem> {
  type State = 'outside' | 'afterDelim' | 'header' | 'afterHeader' | 'abstract';
  let state: State = 'outside';
  let draft: Draft | null = null;
  let section: Section | null = null;
  let mailDay: string | null = null;
  let sawContent = false;
  let records = 0;
  let lastLine = 0;

  const start = (line: number, id: string | null, crossListing: boolean): Draft => ({
    line,
    id,
    crossListing,
    fields: [],
    replaced: null,
    abstract: [],
    chars: 0,
    problems: [],
    section,
  });
  const emit = (d: Draft): ParseItem => {
    records++;
    return finish(d, mailDay);
  };

  for await (const { text: raw, line, overflow } of lines(input)) {
    lastLine = line;
    const t = raw.trimEnd();
    if (!sawContent && t.trim() !== '') sawContent = true;
    const delim = delimiter(t);

    if (draft !== null && (state === 'header' || state === 'abstract')) {
      draft.chars += t.length;
      if (overflow) draft.problems.push(`line ${line} is too long`);
      if (draft.chars > MAX_RECORD_CHARS && delim === null) {
        draft.problems.push(`record longer than ${MAX_RECORD_CHARS} characters (missing \\\\ delimiter?)`);
        yield emit(draft);
        draft = null;
        state = 'outside';
        continue;
      }
    }

    if (draft === null && (state === 'header' || state === 'afterHeader' || state === 'abstract')) state = 'outside';
    switch (state) {
      case 'outside': {
        if (delim !== null) {
          state = 'afterDelim';
        } else if (records === 0 && mailDay === null && t.startsWith('Date:')) {
          // The mail header of a daily mailing: its date is the announcement day.
          const at = parseArxivDate(t.slice(5).trim());
          if (at !== null) {
            mailDay = at.slice(0, 10);
            section = 'new';
          }
        } else {
          const marker = sectionMarker(t);
          if (marker !== null && mailDay !== null) section = marker;
        }
        break;
      }
      case 'afterDelim': {
        if (delim !== null || t === '') break;
        const id = ABS_ID_LINE.exec(t);
        if (id !== null) {
          draft = start(line, id[1] ?? null, CROSS_MARK.test(t));
          state = 'header';
        } else if (RECORD_KEYS.test(t)) {
          draft = start(line, null, false);
          const f = FIELD_LINE.exec(t);
          if (f !== null) draft.fields.push({ key: f[1] ?? '', value: (f[2] ?? '').trim() });
          state = 'header';
        } else {
          const marker = sectionMarker(t);
          if (marker !== null && mailDay !== null) section = marker;
          state = 'outside';
        }
        break;
      }
      case 'header': {
        const d = draft;
        if (d === null) break;
        if (delim === 'plain') {
          state = 'afterHeader';
        } else if (delim === 'closing') {
          yield emit(d);
          draft = null;
          state = 'outside';
        } else if (t === '') {
          // The blank line between the dates and the title.
        } else if (/^\s/.test(t)) {
          const last = d.fields.at(-1);
          if (last !== undefined) last.value = last.value === '' ? t.trim() : `${last.value} ${t.trim()}`;
        } else if (DASHES.test(t) || ABS_ID_LINE.test(t)) {
          // A separator or the next record inside a header: this one was never closed.
          d.problems.push(`header not closed by \\\\ before line ${line}`);
          yield emit(d);
          const id = ABS_ID_LINE.exec(t);
          draft = id === null ? null : start(line, id[1] ?? null, CROSS_MARK.test(t));
          if (id === null) state = 'outside';
        } else {
          const replaced = REPLACED.exec(t);
          const f = replaced === null ? FIELD_LINE.exec(t) : null;
          if (replaced !== null) d.replaced = (replaced[1] ?? '').trim();
          else if (f !== null) d.fields.push({ key: f[1] ?? '', value: (f[2] ?? '').trim() });
          else d.problems.push(`unexpected header line ${line}: ${JSON.stringify(t.slice(0, 80))}`);
        }
        break;
      }
      case 'afterHeader': {
        const d = draft;
        if (d === null) break;
        const marker = sectionMarker(t);
        const id = delim === null && marker === null ? ABS_ID_LINE.exec(t) : null;
        if (delim !== null || DASHES.test(t) || marker !== null || id !== null) {
          // No abstract: a listing entry, or a mailing replacement.
          yield emit(d);
          draft = null;
          state = delim === 'plain' ? 'afterDelim' : 'outside';
          if (marker !== null && mailDay !== null) section = marker;
          if (id !== null) {
            draft = start(line, id[1] ?? null, CROSS_MARK.test(t));
            state = 'header';
          }
        } else if (t.trim() !== '') {
          // Blank lines wait: a listing entry may be followed by one before the file ends.
          d.abstract.push(t);
          state = 'abstract';
        }
        break;
      }
      case 'abstract': {
        const d = draft;
        if (d === null) break;
        if (delim !== null) {
          yield emit(d);
          draft = null;
          state = 'outside';
        } else d.abstract.push(t);
        break;
      }
    }
  }

  if (draft !== null) {
    if (state === 'header') draft.problems.push('file ends inside the record header');
    else if (state === 'abstract') draft.problems.push('file ends inside the abstract (no closing \\\\)');
    yield emit(draft);
  } else if (records === 0) {
    const at = { line: Math.max(1, lastLine) };
    if (!sawContent) yield { kind: 'error', reason: 'empty file', at: { line: 1 } };
    else if (mailDay !== null) yield { kind: 'skip', reason: `mailing of ${mailDay} without entries`, at };
    else yield { kind: 'error', reason: 'no arXiv records found', at };
  }
}
