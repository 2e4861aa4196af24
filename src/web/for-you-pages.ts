/**
 * The For you pages: `GET /for-you` (recent papers ranked for the signed-in
 * person, each with its reason and a "Not interested" button; signed out, a
 * prompt to sign in), the "not interested" and "show again" actions, the
 * secret RSS and Atom feeds of the list at `/for-you/feed/<secret>.rss|.atom`,
 * and `/settings/muted` (muted keywords, and the papers marked not
 * interested with "Show again").
 *
 * Every action is a plain form post with a CSRF token that redirects back,
 * so it all works without JavaScript. The feed's secret is the Following
 * feed's (feed_tokens): one secret per person opens both of their feeds, and
 * making a new one ends both old addresses.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { paperIdOf } from '../community/upvotes.js';
import type { AppContext } from '../context.js';
import { renderAtom, renderRss, type SyndicationFeed } from '../feeds/syndication.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { feedTokenOf, feedTokenOwner, rotateFeedToken } from '../people/follows.js';
import { forYou, type ForYouItem, type ForYouResult } from '../personal/for-you.js';
import { MAX_MUTED_KEYWORDS, MUTED_KEYWORD_LENGTH, muteKeyword, mutedKeywordsOf, unmuteKeyword } from '../personal/muted.js';
import { clearNotInterested, markNotInterested, notInterestedPapers, personalFilter, type PersonalFilter } from '../personal/not-interested.js';
import { csrfField, requireUser, requireWrite, safeNext } from './auth.js';
import { paperCard, paperPath } from './card.js';
import { paperFeedItem } from './syndication-routes.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

export const FOR_YOU_PAGE_SIZE = 30;
export const FOR_YOU_FEED_ITEMS = 50;

const PaperForm = z.object({
  paper: z.string({ error: 'Say which paper.' }).max(100),
  next: z.string().max(2000).optional(),
});
const KeywordForm = z.object({ keyword: z.string({ error: 'Type a keyword.' }).max(1000) });
const PageQuery = z.object({ dismissed: z.string().max(100).optional() });

/** Where to go after an action: `next` when it is a path on this site, else `fallback`. */
function returnTo(next: string | undefined, fallback: string): string {
  return next !== undefined && safeNext(next) === next ? next : fallback;
}

function reasonLine(item: ForYouItem): SafeHtml {
  const [first, ...rest] = item.reasons;
  if (first === undefined) return html``;
  return html`<p class="why small"><strong>Why:</strong> <span class="reason">${first.text}</span>${
    rest.length > 0 ? html` <span class="muted">(also: ${rest.map((r, i) => html`${i > 0 ? '; ' : ''}${r.text}`)})</span>` : ''
  }</p>`;
}

function dismissForm(csrf: SafeHtml, arxivId: string, title: string, next: string): SafeHtml {
  return html`<form method="post" action="/for-you/not-interested" class="inline-form not-interested">${csrf}
<input type="hidden" name="paper" value="${arxivId}"><input type="hidden" name="next" value="${next}">
<button type="submit" class="secondary small" aria-label="Not interested in ${title}">Not interested</button></form>`;
}

function showAgainForm(csrf: SafeHtml, arxivId: string, title: string, next: string): SafeHtml {
  return html`<form method="post" action="/for-you/show-again" class="inline-form">${csrf}
<input type="hidden" name="paper" value="${arxivId}"><input type="hidden" name="next" value="${next}">
<button type="submit" class="secondary" aria-label="Show ${title} again">Show again</button></form>`;
}

const SEMANTIC_NOTES: Record<ForYouResult['semantic'], string> = {
  ready: '',
  'no-model':
    'Ranking by meaning is not ready yet: this instance has no embedding model so far (the embed job builds one). Until then papers are picked from what you follow and from the authors and categories of papers you upvoted or saved.',
  'no-vectors': 'Ranking by meaning is not ready for your papers yet (they are still being embedded); for now papers are picked from what you follow and from their authors and categories.',
};

function emptyState(result: ForYouResult): SafeHtml {
  const { signals } = result;
  if (signals.positives === 0 && !signals.follows) {
    return html`<div class="empty"><p>Nothing to go on yet. Upvote papers you like, save them to <a href="/collections/mine">collections</a>, or
<a href="/following">follow</a> authors, categories and people: For you then picks recent papers like them, and says why.</p>
<p>Meanwhile, see what is <a href="/papers/trending">trending</a>.</p></div>`;
  }
  return html`<div class="empty"><p>No recent papers (last ${result.windowDays} days) match what you like and follow yet. Check back after the next announcements.</p></div>`;
}

function feedSection(ctx: AppContext, csrf: SafeHtml, token: string | undefined): SafeHtml {
  const base = token === undefined ? undefined : `${ctx.config.baseUrl}/for-you/feed/${token}`;
  return html`<section aria-labelledby="fy-feed-h" id="feed"><h2 id="fy-feed-h">In a feed reader</h2>
${
  base === undefined
    ? html`<p>Read For you in any feed reader through a secret address that works without signing in.</p>`
    : html`<p>Your secret addresses. Anyone who has one can read this list (not your account), so keep them to yourself. The same secret opens your <a href="/following#feed">Following feed</a>.</p>
<p class="field"><label for="fy-rss">RSS</label><input id="fy-rss" type="text" readonly value="${base}.rss" size="60"></p>
<p class="field"><label for="fy-atom">Atom</label><input id="fy-atom" type="text" readonly value="${base}.atom" size="60"></p>`
}
<form method="post" action="/for-you/feed-token" class="inline-form">${csrf}
<button type="submit"${base === undefined ? '' : html` class="secondary"`}>${base === undefined ? 'Create a secret feed address' : 'Make a new address (the old ones stop working)'}</button>
</form>
</section>`;
}

async function sendForYouPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) {
    const body = html`<h1>For you</h1>
<div class="notice"><p>For you picks recent papers for you from what you upvote, save and follow, and says why each one is there.</p>
<p><a href="/login?next=%2Ffor-you">Log in</a> or <a href="/signup">sign up</a> to see yours.</p></div>`;
    return sendPrivatePage(reply, 200, layout({ title: 'For you · Paperboy', section: 'for-you' }, body));
  }
  const query = PageQuery.safeParse(req.query ?? {});
  const csrf = csrfField(ctx, req, reply);
  const [result, token] = await Promise.all([forYou(ctx.database, viewer.id, { limit: FOR_YOU_PAGE_SIZE, interactive: true }), feedTokenOf(ctx.database, viewer.id)]);
  let undo: SafeHtml | string = '';
  const dismissed = query.success && query.data.dismissed !== undefined ? parseArxivId(query.data.dismissed)?.id : undefined;
  if (dismissed !== undefined) {
    undo = html`<div class="notice" role="status"><p>Got it: you will not see that paper in your feeds, search results or digest again, and For you shows fewer like it.</p>
${showAgainForm(csrf, dismissed, dismissed, '/for-you')}</div>`;
  }
  const note = SEMANTIC_NOTES[result.semantic];
  const body = html`<h1>For you</h1>
${undo}
${note === '' ? '' : html`<p class="notice small" role="note">${note}</p>`}
<p class="muted small">Recent papers (last ${result.windowDays} days up to ${result.referenceDay}) picked from what you upvote, save, wrote and follow.
<a href="/settings/muted">Muted keywords and papers you are not interested in</a>.</p>
${
  result.items.length === 0
    ? emptyState(result)
    : html`<ol class="following-feed for-you" aria-label="Papers for you">${result.items.map(
        (item) => html`<li class="following-item">${reasonLine(item)}<ol class="cards">${paperCard(item.entry, { heading: 3 })}</ol>
${dismissForm(csrf, item.entry.paper.arxivId, item.entry.paper.titleText, '/for-you')}</li>`,
      )}</ol>`
}
${feedSection(ctx, csrf, token)}`;
  return sendPrivatePage(
    reply,
    200,
    layout(
      {
        title: 'For you · Paperboy',
        section: 'for-you',
        math: true,
        alternates:
          token === undefined
            ? []
            : [
                { title: 'For you (RSS)', href: `/for-you/feed/${token}.rss`, type: 'application/rss+xml' },
                { title: 'For you (Atom)', href: `/for-you/feed/${token}.atom`, type: 'application/atom+xml' },
              ],
      },
      body,
    ),
  );
}

async function sendMutedPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status = 200, problem?: string, typed = ''): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) return reply.redirect('/login?next=%2Fsettings%2Fmuted', 303);
  const csrf = csrfField(ctx, req, reply);
  const [muted, dismissed] = await Promise.all([mutedKeywordsOf(ctx.database, viewer.id), notInterestedPapers(ctx.database, viewer.id)]);
  const body = html`<h1>Muted keywords and papers</h1>
${problem === undefined ? '' : html`<div class="notice error" role="alert" id="muted-problem"><p>${problem}</p></div>`}
<p>Papers that mention a muted keyword in their title or abstract, and papers you marked "not interested", leave your daily, weekly, monthly,
trending and category feeds, your search results, your Following and For you lists, and your email digest. Other people still see them.</p>
<section aria-labelledby="muted-h"><h2 id="muted-h">Muted keywords</h2>
${
  muted.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<ul class="plain-list muted-keywords">${muted.map(
        (m) => html`<li><span class="chip">${m.keyword}</span>
<form method="post" action="/settings/muted/remove" class="inline-form">${csrf}<input type="hidden" name="keyword" value="${m.keyword}">
<button type="submit" class="secondary" aria-label="Unmute ${m.keyword}">Unmute</button></form></li>`,
      )}</ul>`
}
<form method="post" action="/settings/muted" class="account-form">${csrf}
<p class="field"><label for="mute-keyword">Mute a word or phrase</label>
<input id="mute-keyword" name="keyword" type="text" value="${typed}" minlength="${MUTED_KEYWORD_LENGTH.min}" maxlength="${MUTED_KEYWORD_LENGTH.max}" required
 placeholder="e.g. survey, large language model"${problem === undefined ? '' : html` aria-invalid="true" aria-describedby="muted-problem"`}>
<span class="field-hint">Whole words, any case: "GAN" mutes "GAN" and "gan", not "organ" (mute "GANs" too for the plural). Up to ${MAX_MUTED_KEYWORDS}.</span></p>
<button type="submit">Mute</button>
</form>
</section>
<section aria-labelledby="dismissed-h"><h2 id="dismissed-h">Not interested</h2>
${
  dismissed.length === 0
    ? html`<p class="muted">No papers. Use "Not interested" on <a href="/for-you">For you</a> to hide one.</p>`
    : html`<ul class="plain-list dismissed">${dismissed.map(
        (d) => html`<li><a href="${paperPath(d.entry.paper.arxivId)}">${d.entry.paper.titleText}</a> <span class="muted small">since ${d.at.slice(0, 10)}</span>
${showAgainForm(csrf, d.entry.paper.arxivId, d.entry.paper.titleText, '/settings/muted')}</li>`,
      )}</ul>`
}
</section>`;
  return sendPrivatePage(reply, status, layout({ title: 'Muted keywords and papers · Paperboy' }, body));
}

const FEED_FILE = /^([A-Za-z0-9_-]{43})\.(rss|atom)$/;

/**
 * What the signed-in viewer hides (muted keywords, not interested), or null
 * for anonymous requests. Signed-in requests never use the shared page cache
 * (src/web/page-cache.ts), so a page filtered with this is never served to
 * anyone else.
 */
export async function viewerFilter(ctx: AppContext, req: FastifyRequest): Promise<PersonalFilter | null> {
  const viewer = req.auth?.viewer;
  return viewer === undefined ? null : personalFilter(ctx.database, viewer.id);
}

type Filterable = { paper: { id: number; titleText: string; abstractText: string } };

/** `entries` without the papers `filter` hides, and how many it hid. */
export async function applyViewerFilter<T extends Filterable>(filter: PersonalFilter | null, entries: readonly T[]): Promise<{ kept: T[]; hidden: number }> {
  return filter === null ? { kept: [...entries], hidden: 0 } : filter.apply(entries);
}

/** `entries` without the papers the request's signed-in viewer hides. */
export async function hideForViewer<T extends Filterable>(ctx: AppContext, req: FastifyRequest, entries: readonly T[]): Promise<T[]> {
  return (await applyViewerFilter(await viewerFilter(ctx, req), entries)).kept;
}

/** "2 papers hidden …" under a filtered list; nothing when none was. */
export function hiddenNote(hidden: number): SafeHtml | '' {
  if (hidden === 0) return '';
  return html`<p class="muted small hidden-note">${hidden} ${hidden === 1 ? 'paper' : 'papers'} hidden by your muted keywords or “not interested” (<a href="/settings/muted">manage</a>).</p>`;
}

/** Registers /for-you, its actions and feeds, and /settings/muted. */
export function forYouRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };

    app.get('/for-you', (req, reply) => sendForYouPage(ctx, req, reply));

    const paperAction = (dismiss: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
      const viewer = req.auth?.viewer;
      // requireWrite ran first; this only narrows the type.
      if (viewer === undefined) return reply.redirect('/login?next=%2Ffor-you', 303);
      const form = PaperForm.safeParse(req.body ?? {});
      const id = form.success ? parseArxivId(form.data.paper)?.id : undefined;
      if (!form.success || id === undefined) return sendError(req, reply, 400, 'Say which paper (its arXiv id).');
      const paperId = await paperIdOf(ctx.database, id);
      if (paperId === undefined) return sendError(req, reply, 404, `No paper ${id} in this instance.`);
      if (dismiss) await markNotInterested(ctx.database, viewer.id, paperId);
      else await clearNotInterested(ctx.database, viewer.id, paperId);
      const next = returnTo(form.data.next, '/for-you');
      // Back on For you, offer to undo at once.
      return reply.redirect(dismiss && next === '/for-you' ? `/for-you?dismissed=${encodeURIComponent(id)}` : next, 303);
    };
    app.post('/for-you/not-interested', write, paperAction(true));
    app.post('/for-you/show-again', write, paperAction(false));

    app.post('/for-you/feed-token', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply.redirect('/login?next=%2Ffor-you', 303);
      await rotateFeedToken(ctx.database, viewer.id);
      return reply.redirect('/for-you#feed', 303);
    });

    // No session: feed readers have none. The secret in the address is the credential.
    app.get<{ Params: { file: string } }>('/for-you/feed/:file', { config: rateLimit(ctx.config, 'searchFeed') }, async (req, reply) => {
      const match = FEED_FILE.exec(req.params.file);
      const token = match?.[1];
      const owner = token === undefined ? undefined : await feedTokenOwner(ctx.database, token);
      if (owner === undefined || match === null) {
        return sendError(req, reply, 404, 'There is no feed at this address. Its owner may have made a new one on their For you page.');
      }
      const result = await forYou(ctx.database, owner, { limit: FOR_YOU_FEED_ITEMS, interactive: true });
      const items = result.items.map((i) => paperFeedItem(ctx.config.baseUrl, i.entry, i.reasons));
      const base = ctx.config.baseUrl;
      const self = `${base}/for-you/feed/${req.params.file}`;
      const feed: SyndicationFeed = {
        title: 'Paperboy: for you',
        description: 'Recent papers picked for you on Paperboy from what you upvote, save and follow, each with the reason.',
        selfUrl: self,
        htmlUrl: `${base}/for-you`,
        id: self,
        updated: items.reduce((a, i) => (i.updated > a ? i.updated : a), new Date(0)),
        items,
      };
      const atom = match[2] === 'atom';
      return reply
        .type(atom ? 'application/atom+xml; charset=utf-8' : 'application/rss+xml; charset=utf-8')
        .header('cache-control', 'private')
        .header('x-robots-tag', 'noindex')
        .send(atom ? renderAtom(feed) : renderRss(feed));
    });

    app.get('/settings/muted', { preHandler: requireUser }, (req, reply) => sendMutedPage(ctx, req, reply));

    app.post('/settings/muted', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply.redirect('/login?next=%2Fsettings%2Fmuted', 303);
      const form = KeywordForm.safeParse(req.body ?? {});
      if (!form.success) return sendMutedPage(ctx, req, reply, 400, 'Type a keyword to mute.');
      const result = await muteKeyword(ctx.database, viewer.id, form.data.keyword);
      if (!result.ok) return sendMutedPage(ctx, req, reply, result.status, result.message, form.data.keyword);
      return reply.redirect('/settings/muted', 303);
    });

    app.post('/settings/muted/remove', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply.redirect('/login?next=%2Fsettings%2Fmuted', 303);
      const form = KeywordForm.safeParse(req.body ?? {});
      if (!form.success) return sendMutedPage(ctx, req, reply, 400, 'Say which keyword to unmute.');
      // Unmuting what is not muted changes nothing: the page then shows it unmuted, as asked.
      await unmuteKeyword(ctx.database, viewer.id, form.data.keyword);
      return reply.redirect('/settings/muted', 303);
    });
  };
}
