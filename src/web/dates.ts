/** Dates as pages show them: English, in UTC like arXiv's announcement days. */

const LONG_DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const LONG_MONTH = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const SHORT_DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

function asDate(dayOrIso: string): Date {
  return new Date(dayOrIso.length === 10 ? `${dayOrIso}T00:00:00Z` : dayOrIso);
}

/** "Tuesday, 3 April 2007". */
export function longDay(dayOrIso: string): string {
  return LONG_DAY.format(asDate(dayOrIso));
}

/** "April 2007". */
export function longMonth(dayOrIso: string): string {
  return LONG_MONTH.format(asDate(dayOrIso));
}

/** "3 Apr 2007", or the input unchanged when it is not a date. */
export function shortDay(dayOrIso: string): string {
  const date = asDate(dayOrIso);
  return Number.isNaN(date.getTime()) ? dayOrIso : SHORT_DAY.format(date);
}
