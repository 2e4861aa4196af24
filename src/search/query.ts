/**
 * The search box's query language: bare terms, "quoted phrases", `-exclusions`,
 * `author:` / `title:` / `abstract:` field terms and `cat:` category filters.
 * Parsing never fails: anything malformed degrades to plain terms. Rendering to
 * an FTS5 MATCH expression quotes every term, so user input can never reach
 * FTS5's own syntax (NEAR, column filters, prefix `*`, `^`).
 */

/** Which FTS5 column a term is restricted to (`all` = any column). */
export type TermField = 'all' | 'title' | 'author' | 'abstract';

/** One text term: a single word or a quoted phrase, possibly excluded. */
export interface TermNode {
  kind: 'term';
  /** The text as typed (without quotes). */
  text: string;
  phrase: boolean;
  negated: boolean;
  field: TermField;
}

/** A `cat:` filter: an exact category (`cs.LG`) or a whole archive (`cs`). */
export interface CategoryNode {
  kind: 'category';
  value: string;
  negated: boolean;
}

export type QueryNode = TermNode | CategoryNode;

/** A parsed query: the nodes in the order they were typed. */
export interface ParsedQuery {
  nodes: QueryNode[];
}

/** `all`: every positive term must match (the search box); `any`: terms are OR'ed (natural-language retrieval benchmarks). */
export type MatchMode = 'all' | 'any';

/** A MATCH expression, or the reason there is nothing to search for. */
export type RenderedMatch = { ok: true; match: string } | { ok: false; reason: string };

/** The message shown when a query has no positive text term. */
export const NO_SEARCHABLE_TERMS = 'no searchable terms';

const FIELDS: Readonly<Record<string, TermField | 'cat'>> = {
  author: 'author',
  authors: 'author',
  au: 'author',
  title: 'title',
  ti: 'title',
  abstract: 'abstract',
  abs: 'abstract',
  cat: 'cat',
};

const COLUMNS: Readonly<Record<Exclude<TermField, 'all'>, string>> = {
  title: 'title_text',
  author: 'authors_text',
  abstract: 'abstract_text',
};

const CATEGORY_RE = /^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$/;

const isSpace = (c: string): boolean => /\s/u.test(c);

/** Parses the search box text. Never throws; malformed syntax becomes plain terms. */
export function parseQuery(input: string): ParsedQuery {
  const nodes: QueryNode[] = [];
  let s = input.normalize('NFC');
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && isSpace(s[i] ?? '')) i++;
    if (i >= n) break;
    const start = i;
    let negated = false;
    if (s[i] === '-') {
      negated = true;
      i++;
    }
    // An optional `field:` prefix, recognised only for known fields.
    let field: TermField | 'cat' | undefined;
    const fm = /^([A-Za-z]+):/.exec(s.slice(i, i + 12));
    if (fm?.[1] !== undefined) {
      const f = FIELDS[fm[1].toLowerCase()];
      if (f !== undefined) {
        field = f;
        i += fm[0].length;
      }
    }
    let text: string;
    let phrase = false;
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close === -1) {
        // Unbalanced quote: blank it out and read this word again as plain text,
        // so `author:"van der` becomes the words author, van, der.
        s = `${s.slice(0, i)} ${s.slice(i + 1)}`;
        i = start;
        let j = i;
        while (j < n && !isSpace(s[j] ?? '')) j++;
        nodes.push(...plainTerm(s.slice(i, j), false));
        i = j;
        continue;
      }
      text = s.slice(i + 1, close);
      phrase = true;
      i = close + 1;
    } else {
      let j = i;
      while (j < n && !isSpace(s[j] ?? '')) j++;
      text = s.slice(i, j);
      i = j;
    }
    if (text.trim() === '') {
      // Lone `-`, empty field (`author:`), empty quotes: keep whatever word was typed.
      const typed = s.slice(start, i).replace(/^-/, '');
      nodes.push(...plainTerm(typed.replaceAll('"', ''), false));
      continue;
    }
    if (field === 'cat') {
      const value = text.trim();
      if (!phrase && CATEGORY_RE.test(value)) nodes.push({ kind: 'category', value, negated });
      else {
        // Not a category name: search for what was typed instead.
        nodes.push(...plainTerm('cat', negated), { kind: 'term', text, phrase, negated, field: 'all' });
      }
      continue;
    }
    nodes.push({ kind: 'term', text, phrase, negated, field: field ?? 'all' });
  }
  return { nodes: nodes.filter((node) => node.kind === 'category' || tokens(node.text).length > 0) };
}

function plainTerm(text: string, negated: boolean): TermNode[] {
  return text.trim() === '' ? [] : [{ kind: 'term', text, phrase: false, negated, field: 'all' }];
}

/**
 * The words FTS5's unicode61 tokenizer would find in `text`: runs of letters,
 * digits and private-use characters (its default token categories). Everything
 * else is a separator, so quoting the words joined by spaces gives the same
 * phrase the tokenizer would, and never an empty one.
 */
export function tokens(text: string): string[] {
  return text.normalize('NFC').match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
}

/** A small English stop-word list for `any` mode: words that only add noise to an OR query. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been being but by can could did do does for from had has have how i if in into is it its ' +
    'may might more most no nor not of on or our over such than that the their them then there these they this ' +
    'those through to under up was we were what when where which while who whom why will with would you'
  ).split(' '),
);

/** One FTS5 phrase string: the words double-quoted (quotes cannot occur in words, but are doubled anyway). */
function quote(words: string[]): string {
  return `"${words.join(' ').replaceAll('"', '""')}"`;
}

function renderTerm(term: TermNode, words: string[]): string {
  const phrase = quote(words);
  return term.field === 'all' ? phrase : `${COLUMNS[term.field]} : ${phrase}`;
}

/**
 * Renders the text terms as a safe FTS5 MATCH expression. In `all` mode the
 * positive terms are AND'ed; in `any` mode bare words are OR'ed with stop words
 * removed. Exclusions become NOT. FTS5 cannot evaluate a pure negation, so a
 * query without a positive term is reported instead of rendered.
 */
export function renderMatch(query: ParsedQuery, mode: MatchMode = 'all'): RenderedMatch {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const node of query.nodes) {
    if (node.kind !== 'term') continue;
    const words = tokens(node.text);
    if (mode === 'any' && !node.phrase && !node.negated && node.field === 'all') {
      // Natural-language queries: each word is its own optional term.
      for (const w of words) if (!STOP_WORDS.has(w.toLowerCase())) positive.push(quote([w]));
      continue;
    }
    if (words.length === 0) continue;
    if (node.negated) negative.push(renderTerm(node, words));
    else positive.push(renderTerm(node, words));
  }
  if (positive.length === 0) return { ok: false, reason: NO_SEARCHABLE_TERMS };
  const joined = positive.length === 1 ? positive[0] : `(${positive.join(mode === 'any' ? ' OR ' : ' AND ')})`;
  return { ok: true, match: [joined, ...negative.map((t) => `NOT ${t}`)].join(' ') };
}

/** The `cat:` filters of a query: categories and archives to include and to exclude. */
export function categoryFilters(query: ParsedQuery): { include: string[]; exclude: string[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const node of query.nodes) if (node.kind === 'category') (node.negated ? exclude : include).push(node.value);
  return { include, exclude };
}
