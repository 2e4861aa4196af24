/**
 * Feed periods: a day (`2026-11-24`), an ISO week (`2026-W48`) or a month
 * (`2026-11`), each an inclusive range of days. Parsing is strict so a bad
 * path or query parameter is a 400/404, never a silently different period.
 */

export type PeriodKind = 'date' | 'week' | 'month';

export interface Period {
  kind: PeriodKind;
  /** The canonical text: `2026-11-24`, `2026-W48` or `2026-11`. */
  id: string;
  /** First and last day, inclusive, YYYY-MM-DD. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEK_RE = /^(\d{4})-W(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function utcMs(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day);
}

/** Adds whole days to a YYYY-MM-DD day. */
export function addDays(day: string, days: number): string {
  return isoDay(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS);
}

/** Whether the text is a real calendar day in YYYY-MM-DD form. */
export function isDay(text: string): boolean {
  const m = DATE_RE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return y >= 1900 && isoDay(utcMs(y, mo, d)) === text;
}

/** Monday of ISO week 1 of an ISO week-numbering year. */
function isoWeekOneMonday(year: number): number {
  const jan4 = utcMs(year, 1, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * DAY_MS;
}

/** The ISO week (`2026-W48`) a day belongs to. */
export function isoWeekOf(day: string): string {
  const ms = Date.parse(`${day}T00:00:00Z`);
  const weekday = (new Date(ms).getUTCDay() + 6) % 7;
  const thursday = ms + (3 - weekday) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - isoWeekOneMonday(year)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function dayPeriod(day: string): Period {
  return { kind: 'date', id: day, from: day, to: day };
}

/** Parses a period of the given kind, or returns null when the text is not one. */
export function parsePeriod(kind: PeriodKind, text: string): Period | null {
  if (kind === 'date') return isDay(text) ? dayPeriod(text) : null;
  if (kind === 'week') {
    const m = WEEK_RE.exec(text);
    if (!m) return null;
    const [year, week] = [Number(m[1]), Number(m[2])];
    if (year < 1900 || week < 1) return null;
    const monday = isoWeekOneMonday(year) + (week - 1) * 7 * DAY_MS;
    const from = isoDay(monday);
    if (isoWeekOf(from) !== text) return null; // week 53 of a 52-week year
    return { kind, id: text, from, to: isoDay(monday + 6 * DAY_MS) };
  }
  const m = MONTH_RE.exec(text);
  if (!m) return null;
  const [year, month] = [Number(m[1]), Number(m[2])];
  if (year < 1900 || month < 1 || month > 12) return null;
  return { kind, id: text, from: isoDay(utcMs(year, month, 1)), to: isoDay(utcMs(year, month + 1, 0)) };
}

/** The period of the same kind that contains the given day. */
export function periodContaining(kind: PeriodKind, day: string): Period {
  if (kind === 'date') return dayPeriod(day);
  const id = kind === 'week' ? isoWeekOf(day) : day.slice(0, 7);
  const period = parsePeriod(kind, id);
  if (period === null) throw new Error(`no ${kind} contains ${day}`);
  return period;
}
