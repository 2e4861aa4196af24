/**
 * Muted keywords: words or phrases whose papers a signed-in person never sees
 * in feeds, search results, For you or their digest. A keyword matches the
 * plain text of the title and abstract as a whole word or phrase,
 * case-insensitively, never inside a longer word: "GAN" leaves "organ" (and
 * "GANs": mute the plural too). It is the rule of the digest's own muted
 * keywords, so one word mutes the same papers everywhere.
 */
import type { Database } from '../db/connection.js';
import { keywordPattern } from '../digests/content.js';

/** How many muted keywords one person may have. */
export const MAX_MUTED_KEYWORDS = 100;
export const MUTED_KEYWORD_LENGTH = { min: 2, max: 100 } as const;

export interface MutedKeyword {
  keyword: string;
  createdAt: string;
}

/** Why a keyword was refused; `status` is the HTTP status that says so. */
export interface MuteProblem {
  status: 400 | 409;
  message: string;
}

/** Trimmed with inner whitespace folded: how a keyword is kept and compared. */
export function tidyKeyword(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** The key two spellings of one keyword share. */
export function keywordKey(text: string): string {
  return tidyKeyword(text).toLowerCase();
}

/** What is wrong with `keyword` as a mute, or null. */
export function keywordProblem(keyword: string): string | null {
  const tidy = tidyKeyword(keyword);
  if (tidy.length < MUTED_KEYWORD_LENGTH.min || tidy.length > MUTED_KEYWORD_LENGTH.max) {
    return `A muted keyword has ${MUTED_KEYWORD_LENGTH.min} to ${MUTED_KEYWORD_LENGTH.max} characters.`;
  }
  if (!/[\p{L}\p{N}]/u.test(tidy)) return 'A muted keyword needs at least one letter or digit.';
  return null;
}

/** `userId`'s muted keywords, oldest first. */
export async function mutedKeywordsOf(database: Database, userId: number): Promise<MutedKeyword[]> {
  const rows = await database.db
    .selectFrom('muted_keywords')
    .select(['keyword', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('keyword_key')
    .execute();
  return rows.map((r) => ({ keyword: r.keyword, createdAt: r.created_at }));
}

export type MuteResult = { ok: true; keyword: MutedKeyword; created: boolean } | ({ ok: false } & MuteProblem);

/** Mutes `keyword` for `userId`; muting one already muted (in any spelling) changes nothing. */
export async function muteKeyword(database: Database, userId: number, keyword: string): Promise<MuteResult> {
  const problem = keywordProblem(keyword);
  if (problem !== null) return { ok: false, status: 400, message: problem };
  const tidy = tidyKeyword(keyword);
  const key = keywordKey(tidy);
  return database.db.transaction().execute(async (trx): Promise<MuteResult> => {
    const existing = await trx
      .selectFrom('muted_keywords')
      .select(['keyword', 'created_at'])
      .where('user_id', '=', userId)
      .where('keyword_key', '=', key)
      .executeTakeFirst();
    if (existing !== undefined) return { ok: true, keyword: { keyword: existing.keyword, createdAt: existing.created_at }, created: false };
    const count = await trx
      .selectFrom('muted_keywords')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_MUTED_KEYWORDS) {
      return { ok: false, status: 409, message: `You mute ${MAX_MUTED_KEYWORDS} keywords already, the most one person may; unmute some first.` };
    }
    const createdAt = new Date().toISOString();
    // Two tabs muting the same word at once: the second insert does nothing.
    await trx
      .insertInto('muted_keywords')
      .values({ user_id: userId, keyword_key: key, keyword: tidy, created_at: createdAt })
      .onConflict((oc) => oc.columns(['user_id', 'keyword_key']).doNothing())
      .execute();
    return { ok: true, keyword: { keyword: tidy, createdAt }, created: true };
  });
}

/** Unmutes `keyword` (any spelling); true if it was muted. */
export async function unmuteKeyword(database: Database, userId: number, keyword: string): Promise<boolean> {
  const result = await database.db
    .deleteFrom('muted_keywords')
    .where('user_id', '=', userId)
    .where('keyword_key', '=', keywordKey(keyword))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** A test of a paper's plain title and abstract against a list of keywords. */
export type KeywordMatcher = (text: string) => string | undefined;

/** Matches text against `keywords`, answering the first keyword found (or undefined). */
export function keywordMatcher(keywords: readonly string[]): KeywordMatcher {
  const patterns = keywords.filter((k) => tidyKeyword(k) !== '').map((k) => ({ keyword: k, pattern: keywordPattern(k) }));
  return (text) => patterns.find((p) => p.pattern.test(text))?.keyword;
}

/** The text a muted keyword is looked for in. */
export function mutableText(paper: { titleText: string; abstractText: string }): string {
  return `${paper.titleText}\n${paper.abstractText}`;
}
