/**
 * Dates as arXiv's sources write them, to ISO 8601 UTC with milliseconds.
 *
 * Explicit grammars instead of `Date.parse`, whose handling of free text
 * differs between engines and would silently accept garbage.
 */

// `Mon, 2 Apr 2007 19:18:42 GMT`, optionally followed by an .abs size note `(377kb,D)`.
// The weekday is not checked: arXiv's own records carry wrong ones (`Thu, 7 Mar 2021`).
const RFC_RE =
  /^(?:[A-Za-z]{3,9},?\s+)?(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4}|\d{2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(GMT|UTC|UT|Z|[ECMP][SD]T|[+-]\d{4}))?)?(?:\s+\(.*\))?$/;
// `2007-04-02`, `2017-12-14T13:00:41Z`, `2016-10-09T00:00:00-04:00`, `2007-04-01 16:37:36`.
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

const CANONICAL_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const MONTHS: ReadonlyMap<string, number> = new Map([
  ['jan', 1], ['feb', 2], ['mar', 3], ['apr', 4], ['may', 5], ['jun', 6],
  ['jul', 7], ['aug', 8], ['sep', 9], ['oct', 10], ['nov', 11], ['dec', 12],
]);

// North American zone names appear in old mailings; everything else is GMT.
const ZONES: ReadonlyMap<string, number> = new Map([
  ['GMT', 0], ['UTC', 0], ['UT', 0], ['Z', 0],
  ['EST', -300], ['EDT', -240], ['CST', -360], ['CDT', -300],
  ['MST', -420], ['MDT', -360], ['PST', -480], ['PDT', -420],
]);

/** Parses an arXiv date (RFC 2822-ish, ISO, db-export) to `YYYY-MM-DDTHH:MM:SS.sssZ`; null when not a date. */
export function parseArxivDate(s: string): string | null {
  if (typeof s !== 'string') return null;
  const t = s.trim();
  if (t.length < 8 || t.length > 200) return null;
  const c = t.charCodeAt(0);
  return c >= 48 && c <= 57 && t.charCodeAt(4) === 45 /* - */ ? parseIso(t) : parseRfc(t);
}

/** A two-digit year as arXiv mailings write it: arXiv began in 1991, so 91–99 are 19xx. */
export function expandYear(yy: number): number {
  return yy >= 91 ? 1900 + yy : 2000 + yy;
}

function parseIso(t: string): string | null {
  // Already canonical (what the pipeline itself produces): validate and hand back the same string.
  if (t.length === 24 && CANONICAL_RE.test(t)) {
    const y = Number(t.slice(0, 4));
    const mo = Number(t.slice(5, 7));
    const d = Number(t.slice(8, 10));
    const ok = y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo) &&
      Number(t.slice(11, 13)) <= 23 && Number(t.slice(14, 16)) <= 59 && Number(t.slice(17, 19)) <= 59;
    return ok ? t : null;
  }
  const m = ISO_RE.exec(t);
  if (!m) return null;
  const frac = m[7] ?? '';
  const ms = frac.length === 0 ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  return build(Number(m[1]), Number(m[2]), Number(m[3]), num(m[4]), num(m[5]), num(m[6]), ms, isoOffset(m[8]));
}

function parseRfc(t: string): string | null {
  const m = RFC_RE.exec(t);
  if (!m) return null;
  const month = MONTHS.get((m[2] ?? '').slice(0, 3).toLowerCase());
  if (month === undefined) return null;
  const y = m[3] ?? '';
  const year = y.length === 2 ? expandYear(Number(y)) : Number(y);
  const zone = m[7];
  let offset = 0;
  if (zone !== undefined) {
    if (zone[0] === '+' || zone[0] === '-') {
      const sign = zone[0] === '-' ? -1 : 1;
      offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
    } else {
      offset = ZONES.get(zone) ?? 0;
    }
  }
  return build(year, month, Number(m[1]), num(m[4]), num(m[5]), num(m[6]), 0, offset);
}

function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number(s);
}

function isoOffset(z: string | undefined): number {
  if (z === undefined || z === 'Z' || z === 'z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

/** Validates the fields (no rollover of 31 Feb) and renders UTC; offset is minutes east of UTC. */
function build(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offset: number): string | null {
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  if (Math.abs(offset) > 18 * 60) return null;
  if (d > daysInMonth(y, mo)) return null;
  const day = Date.UTC(y, mo - 1, d);
  // A leap second becomes the next second's first instant rather than a parse failure.
  const time = day + ((h * 60 + mi - offset) * 60 + s) * 1000 + ms;
  if (!Number.isFinite(time)) return null;
  return new Date(time).toISOString();
}
