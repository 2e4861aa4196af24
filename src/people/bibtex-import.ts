/**
 * Reading .bib files people bring to import into a collection: a tolerant
 * BibTeX parser and the arXiv ids and DOIs each entry names. Pure and total:
 * any text gives a result (never an exception), and every entry it could not
 * read is reported with its key and line so the person can fix it.
 *
 * Real files carry `@string` macros, `@comment` and `@preamble` blocks, text
 * between entries (a comment to BibTeX), nested braces, quoted values and `#`
 * concatenation; all are understood. A line starting with `@` ends a value
 * whose braces never close, so one broken entry cannot swallow the rest.
 */
import { parseArxivId } from '../papers/arxiv-id.js';
import { isArxivPaperId } from '../papers/citation.js';

/** One entry as read: its type and key (lower-cased field names). */
export interface BibEntry {
  type: string;
  key: string;
  /** 1-based line of its `@`. */
  line: number;
  fields: Record<string, string>;
}

/** Something that could not be read, and where. */
export interface BibProblem {
  /** The entry's key when it got that far. */
  key: string | null;
  line: number;
  message: string;
}

export interface BibFile {
  entries: BibEntry[];
  problems: BibProblem[];
}

/** What an entry points at: arXiv ids (canonical, no version) and DOIs (lower case). */
export interface BibReference {
  arxivIds: string[];
  dois: string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

class Failure {
  constructor(readonly message: string) {}
}

/** A cursor over the text with the operations the grammar needs. */
class Reader {
  pos = 0;
  private readonly lineStarts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** An identifier: field names, entry types, macro names, keys of odd shape stop at the listed characters. */
  word(): string {
    const start = this.pos;
    while (this.pos < this.text.length && /[^\s{}()",=#%@]/.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** True at the start of a line that begins with `@`: where a runaway value stops. */
  atEntryLine(): boolean {
    return this.text[this.pos] === '@' && (this.pos === 0 || this.text[this.pos - 1] === '\n');
  }

  /** The inside of `{…}` from the opening brace, nested braces kept; as in BibTeX, a backslash escapes no brace. */
  braced(): string {
    const start = ++this.pos;
    let depth = 1;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\n' && this.text[this.pos + 1] === '@') break;
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return this.text.slice(start, this.pos++);
      this.pos++;
    }
    throw new Failure('a "{" is never closed');
  }

  /** The inside of `"…"`: a quote inside braces (`{\"o}`) does not end it. */
  quoted(): string {
    const start = ++this.pos;
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\n' && this.text[this.pos + 1] === '@') break;
      if (c === '{') depth++;
      else if (c === '}') depth = Math.max(0, depth - 1);
      else if (c === '"' && depth === 0) return this.text.slice(start, this.pos++);
      this.pos++;
    }
    throw new Failure('a \'"\' is never closed');
  }
}

/** A field value: parts joined by `#`, macros resolved (unknown ones are empty, as BibTeX warns and goes on). */
function value(r: Reader, macros: Map<string, string>): string {
  let out = '';
  for (;;) {
    r.skipSpace();
    const c = r.peek();
    if (c === '{') out += r.braced();
    else if (c === '"') out += r.quoted();
    else {
      const w = r.word();
      if (w === '') throw new Failure(c === '' ? 'the file ends inside an entry' : `unexpected "${c}" where a value should be`);
      const name = w.toLowerCase();
      out += /^\d+$/.test(w) ? w : (macros.get(name) ?? (MONTHS.includes(name) ? name : ''));
    }
    r.skipSpace();
    if (r.peek() !== '#') return out;
    r.pos++;
  }
}

/** `name = value` pairs up to the closing delimiter, which is consumed. */
function fields(r: Reader, close: string, macros: Map<string, string>, into: Record<string, string>): void {
  for (;;) {
    r.skipSpace();
    if (r.peek() === close) {
      r.pos++;
      return;
    }
    if (r.peek() === ',') {
      r.pos++;
      continue;
    }
    if (r.pos >= r.text.length || r.atEntryLine()) throw new Failure(`the entry is never closed with "${close}"`);
    const name = r.word().toLowerCase();
    if (name === '') throw new Failure(`unexpected "${r.peek()}" where a field name should be`);
    r.skipSpace();
    if (r.peek() !== '=') throw new Failure(`field "${name}" has no "="`);
    r.pos++;
    const v = value(r, macros);
    // The first of repeated fields wins, as in BibTeX.
    if (!(name in into)) into[name] = v;
    r.skipSpace();
    const next = r.peek();
    if (next !== ',' && next !== close) throw new Failure(`expected "," or "${close}" after field "${name}"`);
  }
}

/** Parses BibTeX text into entries and problems; never throws. */
export function parseBibtex(text: string): BibFile {
  const r = new Reader(text);
  const macros = new Map<string, string>();
  const entries: BibEntry[] = [];
  const problems: BibProblem[] = [];
  for (;;) {
    const at = text.indexOf('@', r.pos);
    if (at < 0) break;
    r.pos = at + 1;
    const line = r.lineAt(at);
    let key: string | null = null;
    try {
      r.skipSpace();
      const type = r.word().toLowerCase();
      r.skipSpace();
      const open = r.peek();
      // "@" in text between entries (an email address) is a comment, as BibTeX reads it.
      if (type === '' || (open !== '{' && open !== '(')) continue;
      const close = open === '{' ? '}' : ')';
      if (type === 'comment' || type === 'preamble') {
        if (open === '{') r.braced();
        else fields(r, close, macros, {});
        continue;
      }
      r.pos++;
      if (type === 'string') {
        const defined: Record<string, string> = {};
        fields(r, close, macros, defined);
        for (const [name, v] of Object.entries(defined)) macros.set(name, v);
        continue;
      }
      r.skipSpace();
      const start = r.pos;
      while (r.pos < text.length && !/[,\s}")]/.test(text[r.pos] ?? '') && !r.atEntryLine()) r.pos++;
      key = text.slice(start, r.pos);
      r.skipSpace();
      if (key === '') throw new Failure('the entry has no key');
      const found: Record<string, string> = {};
      if (r.peek() === ',') r.pos++;
      fields(r, close, macros, found);
      entries.push({ type, key, line, fields: found });
    } catch (err) {
      problems.push({ key, line, message: err instanceof Failure ? err.message : 'unreadable entry' });
      // Go on with the next line that starts an entry.
      const next = text.indexOf('\n@', Math.max(r.pos, at + 1) - 1);
      r.pos = next < 0 ? text.length : next + 1;
    }
  }
  return { entries, problems };
}

const ARXIV_URL_RE = /arxiv\.org\/(?:abs|pdf)\/([a-z-]+(?:\.[A-Z]{2})?\/\d{7}|\d{4}\.\d{4,5})/gi;
const ARXIV_TEXT_RE = /\barxiv\s*:\s*([a-z-]+(?:\.[A-Z]{2})?\/\d{7}|\d{4}\.\d{4,5})/gi;
const DOI_RE = /\b(10\.\d{4,9}\/[^\s"{}<>]+)/gi;
const DOI_URL_RE = /doi\.org\/(10\.\d{4,9}\/[^\s"{}<>]+)/gi;

function arxivId(text: string): string | null {
  const parsed = parseArxivId(text.replace(/[{}]/g, '').trim());
  return parsed !== null && isArxivPaperId(parsed.id) ? parsed.id : null;
}

function cleanDoi(doi: string): string {
  // A DOI written in TeX may escape its underscores; a sentence may end right after it.
  return doi.replace(/\\_/g, '_').replace(/[.,;)\]]+$/, '').toLowerCase();
}

/** The arXiv ids and DOIs an entry names, from the fields where .bib files put them. */
export function referencesOf(entry: BibEntry): BibReference {
  const f = entry.fields;
  const arxiv = new Set<string>();
  const dois = new Set<string>();
  const prefix = (f.archiveprefix ?? f.eprinttype ?? 'arxiv').trim().toLowerCase();
  if (f.eprint !== undefined && prefix === 'arxiv') {
    const id = arxivId(f.eprint);
    if (id !== null) arxiv.add(id);
  }
  for (const name of ['arxiv', 'arxivid', 'arxiv_id']) {
    const id = f[name] === undefined ? null : arxivId(f[name]);
    if (id !== null) arxiv.add(id);
  }
  for (const name of ['url', 'howpublished', 'journal', 'note', 'eprint', 'pdf', 'booktitle']) {
    const text = f[name];
    if (text === undefined) continue;
    for (const m of text.matchAll(ARXIV_URL_RE)) {
      const id = arxivId(m[1] ?? '');
      if (id !== null) arxiv.add(id);
    }
    for (const m of text.matchAll(ARXIV_TEXT_RE)) {
      const id = arxivId(m[1] ?? '');
      if (id !== null) arxiv.add(id);
    }
    for (const m of text.matchAll(DOI_URL_RE)) dois.add(cleanDoi(m[1] ?? ''));
  }
  if (f.doi !== undefined) for (const m of f.doi.matchAll(DOI_RE)) dois.add(cleanDoi(m[1] ?? ''));
  return { arxivIds: [...arxiv], dois: [...dois].filter((d) => d !== '') };
}
