/**
 * The Following pages: `GET /following` (the feed of what I follow with the
 * reason for each paper, the list of follows with unfollow buttons, a form to
 * follow a keyword search, and the secret RSS address), the follow and
 * unfollow actions that Follow buttons post to, and the RSS feed itself at
 * `/following/feed/<secret>.rss`, opened by its secret alone.
 *
 * Cached pages (category pages) cannot hold a Follow button, so they link to
 * `/following?follow=category:cs.LG`, which asks to confirm with one.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { FollowKind } from '../db/schema.js';
import { renderRss } from '../feeds/syndication.js';
import {
  feedTokenOf,
  feedTokenOwner,
  follow,
  followsOf,
  FOLLOW_KINDS,
  isFollowing,
  KEYWORD_LENGTH,
  rotateFeedToken,
  storedTarget,
  unfollow,
  type Follow,
  type FollowProblem,
  type FollowTarget,
} from '../people/follows.js';
import { followingFeed, FOLLOWING_WINDOW_DAYS, parseFeedCursor, type FollowingItem, type FollowReason } from '../people/following-feed.js';
import { csrfField, requireUser, requireWrite, safeNext } from './auth.js';
import { paperCard } from './card.js';
import { paperFeedItem } from './syndication-routes.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { authorPath } from './paper-page.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

export const FOLLOWING_PAGE_SIZE = 25;
export const FOLLOWING_FEED_ITEMS = 50;
const MAX_TARGET = 1000;

const KindField = z.enum(['author', 'category', 'user', 'keyword'], { error: 'kind must be author, category, user or keyword' });
const FollowForm = z.object({
  kind: KindField,
  target: z.string({ error: 'Say what to follow.' }).max(MAX_TARGET, `That is longer than ${MAX_TARGET} characters.`),
  next: z.string().max(2000).optional(),
});
const PageQuery = z.object({
  before: z.string().max(40).optional(),
  follow: z.string().max(MAX_TARGET + 20).optional(),
});

const KIND_HEADINGS: Record<FollowKind, string> = {
  author: 'Authors',
  category: 'Categories',
  user: 'People',
  keyword: 'Keyword searches',
};

/** How the confirm prompt names the papers a follow brings: "New papers in cs.LG". */
const CONFIRM_WHAT: Record<FollowKind, string> = { author: 'by', category: 'in', user: 'from', keyword: 'matching' };

/** Where a followed thing lives on this site. */
function followHref(f: Follow): string {
  switch (f.kind) {
    case 'author':
      return authorPath(f.target);
    case 'category':
      return `/c/${encodeURIComponent(f.target)}`;
    case 'user':
      return `/u/${encodeURIComponent(f.label)}`;
    case 'keyword':
      return `/search?q=${encodeURIComponent(f.target)}`;
  }
}

/** `?follow=category:cs.LG` as a follow target; undefined when it names no kind. */
function followParam(text: string): FollowTarget | undefined {
  const colon = text.indexOf(':');
  const kind = KindField.safeParse(text.slice(0, colon));
  return colon < 1 || !kind.success ? undefined : { kind: kind.data, target: text.slice(colon + 1) };
}

function reasonLine(reasons: readonly FollowReason[]): SafeHtml {
  return html`<p class="why small"><strong>Why:</strong> ${reasons.map((r, i) => html`${i > 0 ? '; ' : ''}<span>${r.text}</span>`)}</p>`;
}

function feedSection(items: readonly FollowingItem[], next: string | null, hasFollows: boolean, paged: boolean): SafeHtml {
  const empty = !hasFollows
    ? html`<div class="empty"><p>You follow nothing yet. Follow authors from their pages, people from their profiles, categories from their pages, or a keyword search below.</p></div>`
    : html`<div class="empty"><p>No ${paged ? 'older ' : ''}papers from what you follow in the last ${FOLLOWING_WINDOW_DAYS} days.</p></div>`;
  return html`<section aria-labelledby="feed-h"><h2 id="feed-h">New papers</h2>
${
  items.length === 0
    ? empty
    : html`<ol class="following-feed" aria-label="Papers from what you follow">${items.map(
        (item) => html`<li class="following-item">${reasonLine(item.reasons)}<ol class="cards">${paperCard(item.entry, { heading: 3 })}</ol></li>`,
      )}</ol>`
}
${
  paged || next !== null
    ? html`<nav class="pager" aria-label="Feed pages">${paged ? html`<a href="/following">← Newest</a>` : html`<span></span>`}${
        next !== null ? html`<a rel="next" href="/following?before=${encodeURIComponent(next)}">Older papers →</a>` : html`<span></span>`
      }</nav>`
    : ''
}
</section>`;
}

function unfollowForm(csrf: SafeHtml, f: Follow): SafeHtml {
  return html`<form method="post" action="/following/remove" class="inline-form">${csrf}
<input type="hidden" name="kind" value="${f.kind}"><input type="hidden" name="target" value="${f.target}"><input type="hidden" name="next" value="/following">
<button type="submit" class="secondary" aria-label="Unfollow ${f.label}">Unfollow</button></form>`;
}

function followsSection(csrf: SafeHtml, follows: readonly Follow[], keyword: string, keywordProblem: boolean): SafeHtml {
  const groups = FOLLOW_KINDS.map((kind) => ({ kind, list: follows.filter((f) => f.kind === kind) })).filter((g) => g.list.length > 0);
  return html`<section aria-labelledby="follows-h"><h2 id="follows-h">What you follow</h2>
${follows.length === 0 ? html`<p class="muted">Nothing yet.</p>` : ''}
${groups.map(
  (g) => html`<h3>${KIND_HEADINGS[g.kind]}</h3>
<ul class="plain-list follows">${g.list.map((f) => html`<li><a href="${followHref(f)}">${f.label}</a> ${unfollowForm(csrf, f)}</li>`)}</ul>`,
)}
<form method="post" action="/following" class="follow-keyword">${csrf}
<input type="hidden" name="kind" value="keyword"><input type="hidden" name="next" value="/following">
<p class="field"><label for="f-keyword">Follow a keyword search</label>
<input id="f-keyword" name="target" type="search" value="${keyword}" minlength="${KEYWORD_LENGTH.min}" maxlength="${KEYWORD_LENGTH.max}" required
 placeholder='e.g. diffusion, "graph neural network", author:hinton'${keywordProblem ? html` aria-invalid="true" aria-describedby="following-problem"` : ''}>
<span class="field-hint">In the <a href="/search">search</a> syntax; new papers that match it appear above.</span></p>
<button type="submit">Follow search</button>
</form>
</section>`;
}

function rssSection(ctx: AppContext, csrf: SafeHtml, token: string | undefined): SafeHtml {
  const url = token === undefined ? undefined : `${ctx.config.baseUrl}/following/feed/${token}.rss`;
  return html`<section aria-labelledby="feed-rss-h" id="feed"><h2 id="feed-rss-h">In a feed reader</h2>
${
  url === undefined
    ? html`<p>Read these papers in any feed reader through a secret RSS address that works without signing in.</p>`
    : html`<p>Your secret RSS address. Anyone who has it can read this feed (not your account), so keep it to yourself.</p>
<p class="field"><label for="f-feed-url">Secret feed address</label>
<input id="f-feed-url" type="text" readonly value="${url}" size="60"></p>`
}
<form method="post" action="/following/feed-token" class="inline-form">${csrf}
<button type="submit"${url === undefined ? '' : html` class="secondary"`}>${url === undefined ? 'Create a secret feed address' : 'Make a new address (the old one stops working)'}</button>
</form>
</section>`;
}

interface PageState {
  problem?: FollowProblem;
  /** The keyword search typed, re-shown after a refusal. */
  keyword?: string;
}

/** Renders /following for the signed-in viewer. */
async function sendFollowingPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status: number, state: PageState): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) return reply.redirect('/login?next=%2Ffollowing', 303);
  const query = PageQuery.safeParse(req.method === 'GET' ? (req.query ?? {}) : {});
  const problems: string[] = [];
  let before: ReturnType<typeof parseFeedCursor>;
  let toConfirm: FollowTarget | undefined;
  if (!query.success) problems.push('The address is malformed.');
  else {
    if (query.data.before !== undefined) {
      before = parseFeedCursor(query.data.before);
      if (before === undefined) problems.push(`"${query.data.before}" is not a feed position; start again from the newest papers.`);
    }
    if (query.data.follow !== undefined) {
      toConfirm = followParam(query.data.follow);
      if (toConfirm === undefined) problems.push(`"${query.data.follow}" names nothing to follow: use e.g. category:cs.LG.`);
    }
  }
  if (problems.length > 0 && status === 200) status = 400;
  const csrf = csrfField(ctx, req, reply);
  const [follows, page, token] = await Promise.all([
    followsOf(ctx.database, viewer.id),
    followingFeed(ctx.database, viewer.id, { before, limit: FOLLOWING_PAGE_SIZE }),
    feedTokenOf(ctx.database, viewer.id),
  ]);
  let confirm: SafeHtml | string = '';
  if (toConfirm !== undefined) {
    const stored = await storedTarget(ctx.database, toConfirm);
    const already = stored !== undefined && (await isFollowing(ctx.database, viewer.id, { kind: toConfirm.kind, target: stored }));
    confirm = already
      ? notice(html`You follow ${toConfirm.target} already.`)
      : html`<section class="notice" aria-labelledby="confirm-h"><h2 id="confirm-h">Follow ${toConfirm.target}?</h2>
<p>New papers ${CONFIRM_WHAT[toConfirm.kind]} ${toConfirm.target} will appear in your Following feed.</p>
<form method="post" action="/following" class="inline-form">${csrf}
<input type="hidden" name="kind" value="${toConfirm.kind}"><input type="hidden" name="target" value="${toConfirm.target}"><input type="hidden" name="next" value="/following">
<button type="submit">Follow ${toConfirm.target}</button></form></section>`;
  }
  const problem = state.problem?.message ?? (problems.length > 0 ? problems.join(' ') : undefined);
  const body = html`<h1>Following</h1>
${problem === undefined ? '' : html`<div class="notice error" role="alert" id="following-problem"><p>${problem}</p></div>`}
${confirm}
<div class="following-layout">
${feedSection(page.items, page.next, follows.length > 0, before !== undefined)}
<aside aria-label="Your follows">
${followsSection(csrf, follows, state.keyword ?? '', state.keyword !== undefined && state.problem !== undefined)}
${rssSection(ctx, csrf, token)}
</aside>
</div>`;
  return sendPrivatePage(reply, status, layout({ title: 'Following · Paperboy', math: true }, body));
}

/** Where to go after a follow form: `next` when it is a path on this site, else /following. */
function returnTo(next: string | undefined): string {
  return next !== undefined && safeNext(next) === next ? next : '/following';
}

const FEED_FILE = /^([A-Za-z0-9_-]{43})\.rss$/;

/** Registers /following, its actions and the secret RSS feed. */
export function followingRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };

    app.get('/following', { preHandler: requireUser }, (req, reply) => sendFollowingPage(ctx, req, reply, 200, {}));

    app.post('/following', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      // requireWrite ran first; this only narrows the type.
      if (viewer === undefined) return reply.redirect('/login?next=%2Ffollowing', 303);
      const form = FollowForm.safeParse(req.body ?? {});
      if (!form.success) {
        return sendFollowingPage(ctx, req, reply, 400, { problem: { status: 400, message: form.error.issues[0]?.message ?? 'Say what to follow.' } });
      }
      const result = await follow(ctx.database, viewer.id, form.data);
      if (!result.ok) {
        const { ok: _ok, ...problem } = result;
        return sendFollowingPage(ctx, req, reply, problem.status, { problem, keyword: form.data.kind === 'keyword' ? form.data.target : undefined });
      }
      return reply.redirect(returnTo(form.data.next), 303);
    });

    app.post('/following/remove', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply.redirect('/login?next=%2Ffollowing', 303);
      const form = FollowForm.safeParse(req.body ?? {});
      if (!form.success) {
        return sendFollowingPage(ctx, req, reply, 400, { problem: { status: 400, message: form.error.issues[0]?.message ?? 'Say what to unfollow.' } });
      }
      // Unfollowing what is not followed changes nothing: the page then shows it unfollowed, as asked.
      await unfollow(ctx.database, viewer.id, form.data);
      return reply.redirect(returnTo(form.data.next), 303);
    });

    app.post('/following/feed-token', write, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply.redirect('/login?next=%2Ffollowing', 303);
      await rotateFeedToken(ctx.database, viewer.id);
      return reply.redirect('/following#feed', 303);
    });

    // No session: feed readers have none. The secret in the address is the credential.
    app.get<{ Params: { file: string } }>('/following/feed/:file', { config: rateLimit(ctx.config, 'searchFeed') }, async (req, reply) => {
      const token = FEED_FILE.exec(req.params.file)?.[1];
      const owner = token === undefined ? undefined : await feedTokenOwner(ctx.database, token);
      if (owner === undefined) return sendError(req, reply, 404, 'There is no feed at this address. Its owner may have made a new one on their Following page.');
      const page = await followingFeed(ctx.database, owner, { limit: FOLLOWING_FEED_ITEMS });
      const items = page.items.map((i) => paperFeedItem(ctx.config.baseUrl, i.entry, i.reasons));
      const base = ctx.config.baseUrl;
      const rss = renderRss({
        title: 'Paperboy: papers you follow',
        description: `New papers from the authors, categories, people and searches you follow on Paperboy (last ${FOLLOWING_WINDOW_DAYS} days).`,
        selfUrl: `${base}/following/feed/${token}.rss`,
        htmlUrl: `${base}/following`,
        id: `${base}/following/feed/${token}.rss`,
        updated: items.reduce((a, i) => (i.updated > a ? i.updated : a), new Date(0)),
        items,
      });
      return reply.type('application/rss+xml; charset=utf-8').header('cache-control', 'private').header('x-robots-tag', 'noindex').send(rss);
    });
  };
}
