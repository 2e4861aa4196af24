/**
 * Author names: arXiv's free-text author lists, OAI/Kaggle pre-split parts and
 * Atom display names, all turned into the same `ParsedAuthor` shape.
 *
 * The list parser follows arXiv's own `parse_author_affil` (arxiv-base
 * `arxiv/authors/__init__.py`): split on `,`, `:`, ` and `, ` & `; attach a
 * parenthesised block to the name before it; resolve numbered affiliations
 * against a trailing `((1) X, (2) Y)` legend; copy an affiliation back to the
 * preceding authors that have none (`A, B (MIT)` means both are at MIT); keep a
 * collaboration whole; drop "et al". The keyname is the last word plus any
 * surname particles before it (`van der Berg`).
 */
import { collapseWhitespace, hasTex, texToPlain } from './tex.js';

export interface ParsedAuthor {
  /** Display name: "Forenames Keyname Suffix". */
  name: string;
  /** Surname with particles (`van der Berg`), or a collaboration's whole name. */
  keyname: string;
  forenames: string | null;
  suffix: string | null;
  affiliations: string[];
}

export interface AuthorParts {
  keyname: string;
  forenames?: string | null;
  suffix?: string | null;
  affiliations?: string[] | null;
}

// arXiv's PREFIX_MATCH plus the common Romance/Dutch/German particles it lacks.
const PARTICLES: ReadonlySet<string> = new Set([
  'van', 'der', 'de', 'la', 'von', 'del', 'della', 'da', 'mac', 'ter', 'dem', 'di', 'vaziri',
  'le', 'dos', 'das', 'du', 'den', 'des', 'ten', 'zu', 'dei', 'degli', "van't",
]);
const SUFFIX_RE = /^(?:[JjSs][Rr]\.?|II|III|IV)$/;
const AND_RE = /,?\s+(?:and|&)\s+/g;
const SEPARATOR_RE = /\s*[,:;]\s*/;
const DOT_LETTER_RE = /\.(?=\p{L})/gu;
const SPACED_HYPHEN_RE = /\.\s+-(?=\p{L})/gu;
const ET_AL_RE = /^(?:et\.?\s*al\.?|others)$/i;
const TRAILING_ET_AL_RE = /\s+et\.?\s*al\.?$/i;
const COLLAB_RE = /\b(?:collaborations?|consortium|group|team)\b/i;
const COLLAB_LEAD_RE = /^(?:for|on behalf of)\s+/i;
const NUMERIC_REFS_RE = /^[\d,\s]+$/;
const REF_AND_RE = /\s+(?:and|&)\s+/gi;
const LEGEND_PAREN_RE = /^\(\s*\d+\s*\)/;
const LEGEND_PAREN_SPLIT_RE = /\(\s*(\d+)\s*\)/;
const LEGEND_BARE_RE = /^\d+\s+\D/;
const LEGEND_BARE_SPLIT_RE = /(?:^|[;,])\s*(\d+)\s+(?=\D)/;
const AFFIL_TRAIL_RE = /[.,;\s]+$/;
const CONTINUATION_RE = /^\s*(\p{Lu}[\p{L}\p{M}'’-]*)(?=\s*(?:$|[,:;&(]|and\s))/u;
const MATH_MARK_RE = /\$\^\{?[^${}]{0,40}\}?\$/g;

interface Token {
  paren: boolean;
  text: string;
}

interface Draft {
  /** The name as written, for re-parsing when it turns out to continue after a parenthesis. */
  raw: string;
  author: ParsedAuthor;
  collaboration: boolean;
  parens: number;
  numeric: boolean;
}

/** Parses an arXiv author list ("A. One, B. Two (MIT) and C. Three"); never throws. */
export function parseAuthorList(text: string): ParsedAuthor[] {
  if (typeof text !== 'string') return [];
  let line = text;
  // `A. Smith$^{1}$` marks affiliations with superscripts; as text they would glue digits to the surname.
  if (line.includes('$^')) line = line.replace(MATH_MARK_RE, ' ');
  if (hasTex(line)) line = texToPlain(line);
  else line = collapseWhitespace(line);
  if (line.length === 0) return [];

  const tokens = tokenize(line);
  const legend = findLegend(tokens);
  const drafts: Draft[] = [];
  let last: Draft | null = null;
  let afterParen = false;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t] as Token;
    if (token.paren) {
      if (legend !== null && t === legend.index) continue;
      if (last !== null) attachParen(last, token.text, legend?.map ?? null);
      afterParen = last !== null;
      continue;
    }
    let body = token.text;
    let continued: Draft | null = null;
    if (afterParen && last !== null) {
      // `Zhe (Rita) Liang`: a lone surname right after the parenthesis finishes the name before it.
      const m = CONTINUATION_RE.exec(body);
      continued = m ? makeDraft(`${last.raw} ${m[1]}`) : null;
      if (m && continued !== null && drafts[drafts.length - 1] === last) {
        drafts[drafts.length - 1] = continued;
        body = body.slice(m[0].length);
      } else {
        continued = null;
      }
    }
    afterParen = false;
    last = continued;
    for (const piece of body.replace(AND_RE, ',').split(SEPARATOR_RE)) {
      const name = piece.trim();
      if (name.length === 0 || ET_AL_RE.test(name)) continue;
      const prev = drafts[drafts.length - 1];
      // `Smith, Jr.`: arXiv recombines a suffix cut off by its comma.
      if (SUFFIX_RE.test(name) && prev !== undefined && last !== null && !prev.collaboration && prev.author.suffix === null) {
        prev.author.suffix = name;
        prev.author.name = displayName(prev.author.forenames, prev.author.keyname, name);
        continue;
      }
      const draft = makeDraft(name);
      if (draft === null) continue;
      drafts.push(draft);
      last = draft;
    }
  }
  backPropagate(drafts);
  return drafts.map((d) => d.author);
}

/** An author from OAI/Kaggle parts (keyname, forenames, suffix); TeX converted, never throws. */
export function authorFromParts(parts: AuthorParts): ParsedAuthor {
  const keyname = clean(parts?.keyname);
  const forenames = clean(parts?.forenames).replace(SPACED_HYPHEN_RE, '.-');
  const suffix = clean(parts?.suffix);
  const affiliations = cleanAffiliations(parts?.affiliations);
  if (keyname.length === 0) {
    // Some records carry a single name in the forenames slot; it is the keyname then.
    const split = splitName(forenames);
    if (suffix) {
      split.suffix = suffix;
      split.name = displayName(split.forenames, split.keyname, suffix);
    }
    split.affiliations = affiliations;
    return split;
  }
  return {
    name: displayName(forenames || null, keyname, suffix || null),
    keyname,
    forenames: forenames || null,
    suffix: suffix || null,
    affiliations,
  };
}

/** An author from a display name ("Carlos Balázs", "Smith, John", "John Smith Jr."); never throws. */
export function authorFromName(name: string, affiliations?: string[] | null): ParsedAuthor {
  let s = clean(name);
  let suffix: string | null = null;
  const comma = s.indexOf(',');
  if (comma !== -1) {
    const before = s.slice(0, comma).trim();
    const after = s.slice(comma + 1).trim();
    if (SUFFIX_RE.test(after)) {
      s = before;
      suffix = after;
    } else if (after.length > 0 && before.length > 0 && !after.includes(',')) {
      // "Surname, Forenames" as bibliographies write it.
      const words = after.replace(DOT_LETTER_RE, '. ').split(' ');
      const suf = words.length > 1 && SUFFIX_RE.test(words[words.length - 1] as string) ? (words.pop() as string) : null;
      const forenames = words.join(' ');
      return {
        name: displayName(forenames, before, suf),
        keyname: before,
        forenames,
        suffix: suf,
        affiliations: cleanAffiliations(affiliations),
      };
    }
  }
  const author = splitName(s);
  if (suffix !== null && author.suffix === null) {
    author.suffix = suffix;
    author.name = displayName(author.forenames, author.keyname, suffix);
  }
  author.affiliations = cleanAffiliations(affiliations);
  return author;
}

function clean(s: string | null | undefined): string {
  if (typeof s !== 'string' || s.length === 0) return '';
  return hasTex(s) ? texToPlain(s) : collapseWhitespace(s);
}

function cleanAffiliations(list: string[] | null | undefined): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const a of list) {
    const c = clean(a);
    if (c.length > 0 && !out.includes(c)) out.push(c);
  }
  return out;
}

function displayName(forenames: string | null, keyname: string, suffix: string | null): string {
  let name = keyname;
  if (forenames) name = `${forenames} ${name}`;
  if (suffix) name = `${name} ${suffix}`;
  return name;
}

/** Splits a display name into forenames, keyname (with particles) and suffix. */
function splitName(raw: string): ParsedAuthor {
  const s = stripEtAl(raw.includes('.') ? raw.replace(DOT_LETTER_RE, '. ') : raw).trim();
  const words = s.length === 0 ? [] : s.split(' ');
  let suffix: string | null = null;
  if (words.length >= 2 && SUFFIX_RE.test(words[words.length - 1] as string)) suffix = words.pop() as string;
  if (words.length <= 1) {
    const keyname = words[0] ?? '';
    return { name: displayName(null, keyname, suffix), keyname, forenames: null, suffix, affiliations: [] };
  }
  let k = words.length - 1;
  // Extend the surname over particles, always leaving at least one forename.
  while (k > 1 && PARTICLES.has((words[k - 1] as string).toLowerCase())) k--;
  const keyname = words.slice(k).join(' ');
  const forenames = words.slice(0, k).join(' ');
  return { name: displayName(forenames, keyname, suffix), keyname, forenames, suffix, affiliations: [] };
}

/** Drops a trailing "et al"; the end check avoids running the regex on every name. */
function stripEtAl(s: string): string {
  const end = s.charCodeAt(s.length - 1) === 46 /* . */ ? s.length - 1 : s.length;
  const tail = s.slice(Math.max(0, end - 2), end).toLowerCase();
  return tail === 'al' ? s.replace(TRAILING_ET_AL_RE, '') : s;
}

function makeDraft(raw: string): Draft | null {
  const name = stripEtAl(raw).trim();
  if (name.length === 0) return null;
  if (COLLAB_RE.test(name) && name.includes(' ')) {
    const keyname = name.replace(COLLAB_LEAD_RE, '');
    return {
      raw: name,
      author: { name: keyname, keyname, forenames: null, suffix: null, affiliations: [] },
      collaboration: true,
      parens: 0,
      numeric: false,
    };
  }
  const author = splitName(name);
  if (author.keyname.length === 0) return null;
  return { raw: name, author, collaboration: false, parens: 0, numeric: false };
}

/** Splits the line into name runs and depth-1 parenthesised blocks (text kept without the outer parens). */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 40 /* ( */) {
      if (depth === 0) {
        if (i > start) tokens.push({ paren: false, text: line.slice(start, i) });
        start = i + 1;
      }
      depth++;
    } else if (c === 41 /* ) */ && depth > 0) {
      depth--;
      if (depth === 0) {
        tokens.push({ paren: true, text: line.slice(start, i).trim() });
        start = i + 1;
      }
    }
  }
  if (start < line.length) tokens.push({ paren: depth > 0, text: line.slice(start).trim() });
  return tokens;
}

/** Finds the enumerated-affiliation legend: `((1) MIT, (2) CERN)` or, after numbered authors, `(1 MIT; 2 CERN)`. */
function findLegend(tokens: Token[]): { index: number; map: Map<string, string> } | null {
  for (let t = tokens.length - 1; t >= 0; t--) {
    const token = tokens[t] as Token;
    if (!token.paren) {
      if (token.text.trim().length === 0) continue;
      return null;
    }
    let parts: string[] | null = null;
    if (LEGEND_PAREN_RE.test(token.text)) parts = token.text.split(LEGEND_PAREN_SPLIT_RE);
    else if (LEGEND_BARE_RE.test(token.text) && hasNumericRefs(tokens, t)) parts = token.text.split(LEGEND_BARE_SPLIT_RE);
    if (parts === null) return null;
    const map = new Map<string, string>();
    // split() with a capture group alternates text, number, text, number, text…
    for (let p = 1; p + 1 < parts.length; p += 2) {
      const affil = (parts[p + 1] as string).replace(AFFIL_TRAIL_RE, '').trim();
      if (affil.length > 0) map.set(parts[p] as string, affil);
    }
    return { index: t, map };
  }
  return null;
}

function hasNumericRefs(tokens: Token[], before: number): boolean {
  for (let t = 0; t < before; t++) {
    const token = tokens[t] as Token;
    if (token.paren && NUMERIC_REFS_RE.test(token.text.replace(REF_AND_RE, ','))) return true;
  }
  return false;
}

function attachParen(draft: Draft, text: string, legend: Map<string, string> | null): void {
  draft.parens++;
  const refs = text.replace(REF_AND_RE, ',');
  if (NUMERIC_REFS_RE.test(refs)) {
    draft.numeric = true;
    if (legend === null) return;
    for (const ref of refs.split(',')) {
      const affil = legend.get(ref.trim());
      if (affil !== undefined && !draft.author.affiliations.includes(affil)) draft.author.affiliations.push(affil);
    }
    return;
  }
  // A second block after numbered refs is an unparsed legend, not an affiliation.
  if (draft.numeric && LEGEND_BARE_RE.test(text)) return;
  const affil = collapseWhitespace(text);
  if (affil.length > 0 && !draft.author.affiliations.includes(affil)) draft.author.affiliations.push(affil);
}

/** arXiv's back-propagation: an author without affiliation takes the next affiliated author's. */
function backPropagate(drafts: Draft[]): void {
  let lastAffils: string[] | null = null;
  for (let d = drafts.length - 1; d >= 0; d--) {
    const draft = drafts[d] as Draft;
    // Collaborations, and authors whose own refs did not resolve, keep what they have.
    if (draft.collaboration) continue;
    if (draft.author.affiliations.length > 0) lastAffils = draft.author.affiliations;
    else if (lastAffils !== null && draft.parens === 0) draft.author.affiliations = lastAffils.slice();
  }
}
