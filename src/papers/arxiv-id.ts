/**
 * arXiv identifiers: parsing the many ways an id is written (bare, `arXiv:`,
 * abs/pdf URLs, OAI identifiers) into arXiv's canonical form without version.
 *
 * Schemes (https://info.arxiv.org/help/arxiv_identifier.html):
 * - new style since April 2007: `YYMM.NNNN` until 1412, `YYMM.NNNNN` from 1501;
 * - old style until March 2007: `archive/YYMMNNN`, where the archive may carry
 *   a subject class (`math.AG/0601001`) that is not part of the id.
 */

export interface ParsedArxivId {
  /** Canonical id without version: `2106.09685`, `hep-th/9901001`, or an external `ns:local` id. */
  id: string;
  /** Version from a `vN` suffix, or null when none was given. */
  version: number | null;
}

// Prefixes are stripped before the id itself is matched, so one id grammar serves every form.
const PREFIX_RE =
  /^(?:arxiv:|oai:arxiv\.org:|(?:https?:\/\/)?(?:www\.|export\.)?arxiv\.org\/(?:abs|pdf|html)\/)/i;
const NEW_RE = /^(\d{2})(\d{2})\.(\d{4,5})(?:[vV]([1-9]\d{0,4}))?$/;
const OLD_RE = /^([a-zA-Z]+(?:-[a-zA-Z]+)?)(?:\.[a-zA-Z-]+)?\/(\d{2})(\d{2})(\d{3})(?:[vV]([1-9]\d{0,4}))?$/;
const OLD_STYLE_RE = /^[a-z]+(?:-[a-z]+)?\/\d{7}$/;
const EXTERNAL_RE = /^([a-z][a-z0-9-]{0,31}):([A-Za-z0-9._-]{1,128})$/;
const PDF_SUFFIX_RE = /\.pdf$/i;
const TRAILING_SLASH_RE = /\/+$/;

/** Parses an arXiv id in any common notation; null when it is not one. */
export function parseArxivId(input: string): ParsedArxivId | null {
  if (typeof input !== 'string') return null;
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 300) return null;
  const prefix = PREFIX_RE.exec(trimmed);
  if (prefix) {
    let rest = trimmed.slice(prefix[0].length).replace(TRAILING_SLASH_RE, '');
    // Only URLs name files; `arXiv:2106.09685.pdf` is not an id.
    if (prefix[0].includes('/')) rest = rest.replace(PDF_SUFFIX_RE, '');
    // An `arxiv:`/`oai:` prefix reserves the namespace: a malformed id is not an external one.
    return parseBare(rest);
  }
  const bare = parseBare(trimmed);
  if (bare) return bare;
  if (EXTERNAL_RE.test(trimmed)) return { id: trimmed, version: null };
  return null;
}

/** True for an old-style canonical id such as `hep-th/9901001`. */
export function isOldStyleId(id: string): boolean {
  return OLD_STYLE_RE.test(id);
}

function parseBare(s: string): ParsedArxivId | null {
  let m = NEW_RE.exec(s);
  if (m) {
    const yy = Number(m[1]);
    const mm = Number(m[2]);
    const num = m[3] ?? '';
    if (mm < 1 || mm > 12) return null;
    // The scheme began in 0704; before that only old-style ids exist.
    if (yy < 7 || (yy === 7 && mm < 4)) return null;
    // The sequence number grew to five digits in January 2015.
    const fiveDigits = yy >= 15;
    if (num.length !== (fiveDigits ? 5 : 4)) return null;
    return { id: `${m[1]}${m[2]}.${num}`, version: m[4] ? Number(m[4]) : null };
  }
  m = OLD_RE.exec(s);
  if (m) {
    const mm = Number(m[3]);
    if (mm < 1 || mm > 12) return null;
    const archive = (m[1] ?? '').toLowerCase();
    return { id: `${archive}/${m[2]}${m[3]}${m[4]}`, version: m[5] ? Number(m[5]) : null };
  }
  return null;
}
