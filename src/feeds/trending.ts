/**
 * The trending score: Hacker-News-style gravity over recently featured papers.
 *
 *   score = (upvotes + COMMENT_WEIGHT · comments + 1) / (ageHours + 2) ^ GRAVITY
 *
 * The age runs from the moment the paper was featured to the reference time.
 * The +1 keeps papers with no votes yet ordered by recency instead of tied at
 * zero. See docs/trending.md for the reasoning and worked examples.
 */

export const TRENDING = {
  /** Papers featured within this many days before the reference time compete. */
  windowDays: 7,
  gravity: 1.8,
  /** A comment is worth half an upvote: discussion signals interest, but is easier to inflate. */
  commentWeight: 0.5,
  offsetHours: 2,
} as const;

export interface TrendingInput {
  upvotes: number;
  comments: number;
  /** ISO timestamp of featuring. */
  featuredAt: string;
}

/** The trending score of one paper at `reference` (milliseconds since the epoch). */
export function trendingScore(input: TrendingInput, reference: number): number {
  const points = input.upvotes + TRENDING.commentWeight * input.comments + 1;
  const ageHours = Math.max(0, (reference - Date.parse(input.featuredAt)) / 3_600_000);
  return points / Math.pow(ageHours + TRENDING.offsetHours, TRENDING.gravity);
}

/**
 * The time trending is computed at: now, or the end of the newest featured day
 * when that is older. An instance that has not harvested for a while (offline,
 * or loaded from a dump) still shows what was trending when its feed stopped,
 * instead of an empty list.
 */
export function trendingReference(latestFeaturedDay: string | null, now: number): number {
  if (latestFeaturedDay === null) return now;
  const endOfDay = Date.parse(`${latestFeaturedDay}T23:59:59.999Z`);
  return Math.min(now, endOfDay);
}
