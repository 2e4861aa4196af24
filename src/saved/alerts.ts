/**
 * Saved-search email alerts: one transactional email per person per check
 * run that found something, listing the new matches of every search they
 * turned the alert on for, with a link to /saved and a one-click link per
 * search that turns its alert off (a page with a button: opening the link,
 * or a mail scanner prefetching it, changes nothing).
 *
 * Only confirmed addresses are mailed (anyone can sign up with a stranger's
 * address), and never a suppressed one. The matches are marked alerted
 * before the message goes to the outbox: a crash in between loses that
 * alert rather than sending it twice (the matches stay on /saved and in the
 * feed either way).
 */
import type { AppContext } from '../context.js';
import { mailerFor } from '../mail/mailer.js';
import { isSuppressed } from '../subscriptions/bounces.js';
import { paperPath } from '../web/card.js';

/** Matches older than this are not mailed (an alert turned on late, a long outage). */
export const ALERT_MAX_AGE_MS = 7 * 86_400_000;
/** Papers listed per search in one email. */
export const ALERT_PAPERS_PER_SEARCH = 10;
const ALERT_MAX_MATCHES = 500;

export interface AlertOutcome {
  sent: boolean;
  reason?: string;
  papers?: number;
}

/** Mails `userId` the new matches of their alerted searches that no alert carried yet. */
export async function sendSavedSearchAlert(ctx: AppContext, userId: number, now = new Date()): Promise<AlertOutcome> {
  const db = ctx.database.db;
  const user = await db.selectFrom('users').select(['email', 'username', 'email_verified_at', 'banned_at']).where('id', '=', userId).executeTakeFirst();
  if (user === undefined) return { sent: false, reason: 'no such user' };
  if (user.email_verified_at === null) return { sent: false, reason: 'address not confirmed' };
  if (user.banned_at !== null) return { sent: false, reason: 'banned' };
  if (await isSuppressed(ctx.database, user.email)) return { sent: false, reason: 'address suppressed' };
  const rows = await db
    .selectFrom('saved_search_matches as m')
    .innerJoin('saved_searches as s', 's.id', 'm.saved_search_id')
    .innerJoin('papers as p', 'p.id', 'm.paper_id')
    .select(['s.id as search_id', 's.name', 's.alert_token', 'm.paper_id', 'p.arxiv_id', 'p.title_text', 'p.authors_text'])
    .where('s.user_id', '=', userId)
    .where('s.email_alert', '=', 1)
    .where('m.alerted_at', 'is', null)
    .where('m.matched_at', '>=', new Date(now.getTime() - ALERT_MAX_AGE_MS).toISOString())
    .orderBy('s.id')
    .orderBy('m.score', 'desc')
    .orderBy('m.paper_id', 'desc')
    .limit(ALERT_MAX_MATCHES)
    .execute();
  if (rows.length === 0) return { sent: false, reason: 'nothing new' };

  // Claim them: a concurrent or repeated run of this job finds them alerted and sends nothing.
  const claimed = new Set<string>();
  const alertedAt = now.toISOString();
  const bySearch = new Map<number, number[]>();
  for (const r of rows) bySearch.set(Number(r.search_id), [...(bySearch.get(Number(r.search_id)) ?? []), Number(r.paper_id)]);
  for (const [searchId, paperIds] of bySearch) {
    const updated = await db
      .updateTable('saved_search_matches')
      .set({ alerted_at: alertedAt })
      .where('saved_search_id', '=', searchId)
      .where('paper_id', 'in', paperIds)
      .where('alerted_at', 'is', null)
      .returning('paper_id')
      .execute();
    for (const u of updated) claimed.add(`${searchId}:${Number(u.paper_id)}`);
  }
  const mine = rows.filter((r) => claimed.has(`${Number(r.search_id)}:${Number(r.paper_id)}`));
  if (mine.length === 0) return { sent: false, reason: 'nothing new' };

  const base = ctx.config.baseUrl;
  const sections: string[] = [];
  const searches = new Map<number, typeof mine>();
  for (const r of mine) searches.set(Number(r.search_id), [...(searches.get(Number(r.search_id)) ?? []), r]);
  for (const [searchId, list] of searches) {
    const first = list[0];
    if (first === undefined) continue;
    const shown = list.slice(0, ALERT_PAPERS_PER_SEARCH);
    const lines = shown.map((r) => `- ${r.title_text}\n  ${r.authors_text.length > 160 ? `${r.authors_text.slice(0, 159)}…` : r.authors_text}\n  ${base}${paperPath(r.arxiv_id)}`);
    if (list.length > shown.length) lines.push(`- and ${list.length - shown.length} more: ${base}/saved/${searchId}`);
    sections.push(
      `${first.name} (${list.length} new)\n${base}/saved/${searchId}\n\n${lines.join('\n')}\n\nTurn this alert off: ${base}/saved/alert-off/${first.alert_token}`,
    );
  }
  const total = mine.length;
  const subject =
    searches.size === 1
      ? `${total} new ${total === 1 ? 'paper' : 'papers'} for “${mine[0]?.name ?? ''}”`
      : `${total} new papers for ${searches.size} of your saved searches`;
  await mailerFor(ctx).send({
    to: user.email,
    kind: 'saved-search-alert',
    subject,
    text: `Hello ${user.username},

New papers match your saved searches on Paperboy.

${sections.join('\n\n---\n\n')}

All your saved searches: ${base}/saved
You get this email because you turned on alerts for these searches; change them at ${base}/saved.
`,
  });
  return { sent: true, papers: total };
}
