/**
 * arXiv's announcement schedule (https://info.arxiv.org/help/availability.html):
 * submissions close at 14:00 America/New_York Monday–Friday and the batch
 * closed on day D is announced at 20:00 New York time on D for Monday–Thursday
 * cutoffs and on Sunday for the Friday cutoff. arXiv stamps a mailing with the
 * UTC date of that 20:00 announcement, which is always the next calendar day.
 * Holidays are ignored, so the estimate can be early around them.
 */
import { expandYear, parseArxivDate } from './dates.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const CUTOFF_MINUTES = 14 * 60;
const YYMMDD_RE = /^(\d{2})(\d{2})(\d{2})$/;

// Intl formatters are costly to build; one is shared by every call.
const nyFormatter = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

// New York's UTC offset changes only on whole UTC hours, so it is cached per hour.
const offsetByHour = new Map<number, number>();

/** Minutes east of UTC in New York at instant `ms`. */
function newYorkOffset(ms: number): number {
  const hour = Math.floor(ms / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const at = hour * HOUR_MS;
    let y = 0, mo = 0, d = 0, h = 0, mi = 0;
    for (const part of nyFormatter.formatToParts(new Date(at))) {
      switch (part.type) {
        case 'year': y = Number(part.value); break;
        case 'month': mo = Number(part.value); break;
        case 'day': d = Number(part.value); break;
        case 'hour': h = Number(part.value); break;
        case 'minute': mi = Number(part.value); break;
        default: break;
      }
    }
    offset = Math.round((Date.UTC(y, mo - 1, d, h, mi) - at) / 60_000);
    // Imports walk time roughly in order; a bounded cache stays small without an LRU.
    if (offsetByHour.size > 100_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

function toMs(iso: string, what: string): number {
  const parsed = parseArxivDate(iso);
  if (parsed === null) throw new RangeError(`${what}: not a date: ${JSON.stringify(String(iso).slice(0, 80))}`);
  return Date.parse(parsed);
}

/** Estimated announcement date (UTC `YYYY-MM-DD`) of a submission; throws RangeError on a non-date. */
export function estimateAnnouncedOn(submittedAtIso: string): string {
  const ms = toMs(submittedAtIso, 'estimateAnnouncedOn');
  // Shifting by the offset turns New York wall-clock time into fields readable with getUTC*.
  const local = new Date(ms + newYorkOffset(ms) * 60_000);
  const weekday = local.getUTCDay(); // 0 = Sunday
  const minutes = local.getUTCHours() * 60 + local.getUTCMinutes();
  const localDay = Math.floor(local.getTime() / DAY_MS);
  let cutoffDay: number;
  let cutoffWeekday: number;
  if (weekday >= 1 && weekday <= 5 && minutes < CUTOFF_MINUTES) {
    cutoffDay = localDay;
    cutoffWeekday = weekday;
  } else {
    // The next weekday: Friday and Saturday afternoons roll to Monday.
    const ahead = weekday === 5 ? 3 : weekday === 6 ? 2 : 1;
    cutoffDay = localDay + ahead;
    cutoffWeekday = (weekday + ahead) % 7;
  }
  const announceDay = cutoffWeekday === 5 ? cutoffDay + 2 : cutoffDay;
  // 20:00 New York is 00:00 or 01:00 UTC the next day.
  return new Date((announceDay + 1) * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC date (`YYYY-MM-DD`) of a mailing's Date header; throws RangeError on a non-date. */
export function mailingDateOn(dateHeaderIso: string): string {
  return new Date(toMs(dateHeaderIso, 'mailingDateOn')).toISOString().slice(0, 10);
}

/** `110203` → `2011-02-03`: arXiv mail ids are YYMMDD; throws RangeError otherwise. */
export function mailIdToDate(mailId: string): string {
  const m = YYMMDD_RE.exec(typeof mailId === 'string' ? mailId.trim() : '');
  if (m) {
    const year = expandYear(Number(m[1]));
    const iso = `${year}-${m[2]}-${m[3]}`;
    if (parseArxivDate(iso) !== null) return iso;
  }
  throw new RangeError(`mailIdToDate: not a YYMMDD mail id: ${JSON.stringify(String(mailId).slice(0, 40))}`);
}
