/**
 * A digest recipient linked to an account: the account's muted keywords and
 * "not interested" papers apply on top of the subscription's own muted
 * keywords, and (unless the subscriber turned it off) the digest gets a
 * "For you" section of up to DIGEST_FOR_YOU papers with their reasons, from
 * For you as of the end of the digest's period. Both are frozen into the
 * delivery's selection when the run is built, like the rest of it.
 *
 * Cost: a linked recipient's selection is their own (two small queries), and
 * their For you section is one For you ranking (tens of milliseconds with
 * vectors); unlinked recipients cost what they did.
 */
import type { Database } from '../db/connection.js';
import { digestPapers, type DigestContent, type DigestSelection, type DigestSelector, type ForYouPick } from '../digests/content.js';
import type { Preferences } from '../subscriptions/preferences.js';
import { forYou } from './for-you.js';
import { mutedKeywordsOf } from './muted.js';
import { dismissedAmong } from './not-interested.js';

/** Most papers in a digest's "For you" section. */
export const DIGEST_FOR_YOU = 5;

/** The recipient's account and whether they want the section. */
export interface DigestRecipient {
  userId: number | null;
  forYou: boolean;
}

/** Windows For you tries for a digest: a daily digest wants the last few days first. */
const DIGEST_WINDOWS: Record<DigestContent['cadence'], number[]> = { daily: [3, 7, 30], weekly: [7, 30] };

/** A recipient's selection, with the account's mutes and "For you" section when linked; null when there is nothing to send. */
export async function recipientSelection(
  database: Database,
  selector: DigestSelector,
  prefs: Preferences,
  recipient: DigestRecipient,
  now: number = Date.now(),
): Promise<DigestSelection | null> {
  if (recipient.userId === null) return selector.select(prefs);
  const userId = recipient.userId;
  const { content } = selector;
  const [muted, dismissed] = await Promise.all([mutedKeywordsOf(database, userId), dismissedAmong(database, userId, content.papers.map((p) => p.id))]);
  const base = selector.select(prefs, { mutedKeywords: muted.map((m) => m.keyword), dismissed });
  if (!recipient.forYou) return base;
  const shown = new Set([...(base?.trending ?? []), ...(base?.keywords ?? [])].flatMap((i) => content.papers[i]?.id ?? []));
  const reference = Math.min(now, Date.parse(`${content.to}T23:59:59.999Z`));
  const picked = await forYou(database, userId, { limit: DIGEST_FOR_YOU, now: reference, exclude: shown, windows: DIGEST_WINDOWS[content.cadence] });
  if (picked.items.length === 0) return base;
  const papers = new Map((await digestPapers(database, picked.items.map((i) => i.entry.paper.id))).map((p) => [p.id, p]));
  const section = picked.items.flatMap((i): ForYouPick[] => {
    const paper = papers.get(i.entry.paper.id);
    return paper === undefined ? [] : [{ paper, reason: i.reasons[0]?.text ?? '' }];
  });
  if (section.length === 0) return base;
  return { trending: base?.trending ?? [], keywords: base?.keywords ?? [], forYou: section };
}

/** Turns subscriber `subscriberId`'s "For you" section on or off. */
export async function setDigestForYou(database: Database, subscriberId: number, on: boolean): Promise<void> {
  await database.db.updateTable('subscribers').set({ for_you: on ? 1 : 0, updated_at: new Date().toISOString() }).where('id', '=', subscriberId).execute();
}
