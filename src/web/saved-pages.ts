/**
 * Saved-search pages: the "Save this search" form on the search page
 * ({@link saveSearchForm}), `/saved` (my saved searches, each with its new
 * matches since I last marked it seen), `/saved/:id` (its matches, newest
 * first, keyset pages), `/saved/:id/edit` (name, email alert, webhook with
 * its secret and recent deliveries, feed addresses, delete), the secret RSS
 * and Atom feeds `/saved/feed/<token>.rss|.atom`, and the alert email's
 * "turn this alert off" page `/saved/alert-off/<token>`.
 *
 * "New" means found since the owner last pressed "Mark as seen": opening a
 * page changes nothing (no state change on GET), so a prefetch or a second
 * tab cannot make matches disappear unread.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { entriesByIds } from '../feeds/feed.js';
import { renderAtom, renderRss, type SyndicationFeed, type SyndicationItem } from '../feeds/syndication.js';
import {
  checkInput,
  createSavedSearch,
  decodeMatchCursor,
  deleteSavedSearch,
  encodeMatchCursor,
  markSeen,
  matchesPage,
  MAX_NAME,
  MAX_QUERY,
  ownSavedSearch,
  recentDeliveries,
  rotateSavedFeedToken,
  rotateWebhookSecret,
  savedSearchByAlertToken,
  savedSearchByFeedToken,
  savedSearchesOf,
  turnOffAlert,
  updateSavedSearch,
  type SavedSearch,
} from '../saved/repository.js';
import { MAX_WEBHOOK_URL } from '../saved/webhook-url.js';
import { SIGNATURE_TOLERANCE_S } from '../saved/webhooks.js';
import type { SearchMode } from '../db/schema.js';
import { csrfField, requireUser, requireWrite, signedInId } from './auth.js';
import { paperPath } from './card.js';
import { csrfProtection } from './csrf.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

export const MATCHES_PAGE_SIZE = 25;
export const SAVED_FEED_ITEMS = 50;
const PREVIEW = 3;

const MODE_NAMES: Readonly<Record<SearchMode, string>> = { hybrid: 'hybrid', keyword: 'keyword', semantic: 'by meaning' };

/** The current search, as the search page has it. */
export interface CurrentSearch {
  q: string;
  mode: SearchMode;
  /** The category filter as typed ('' for none). */
  category: string;
  featured: boolean;
}

/**
 * The search page's "Save this search" form for the query on screen: a
 * sign-in link for anonymous visitors (so the page stays cacheable), a small
 * form with its CSRF token for a signed-in browser.
 */
export function saveSearchForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, current: CurrentSearch): SafeHtml {
  if (current.q === '') return html``;
  if (req.auth?.via !== 'session') {
    const next = req.url.length <= 1500 ? req.url : '/search';
    return html`<p class="small saved-search-save"><a href="/login?next=${encodeURIComponent(next)}">Log in to save this search</a> and be told of new papers that match it.</p>`;
  }
  return html`<details class="saved-search-save"><summary>Save this search</summary>
<form method="post" action="/saved">
${csrfField(ctx, req, reply)}
<input type="hidden" name="q" value="${current.q}">
<input type="hidden" name="mode" value="${current.mode}">
<input type="hidden" name="category" value="${current.category}">
${current.featured ? html`<input type="hidden" name="featured" value="1">` : ''}
<p><label for="saved-name">Name <span class="muted small">(optional)</span></label>
<input id="saved-name" name="name" maxlength="${MAX_NAME}" placeholder="${current.q.slice(0, MAX_NAME)}"></p>
<p><input type="checkbox" id="saved-alert" name="emailAlert" value="on"> <label for="saved-alert">Email me new matches</label></p>
<p><button type="submit">Save search</button> <span class="small muted">New papers that match appear on <a href="/saved">your saved searches</a> and in a private feed.</span></p>
</form></details>`;
}

// --- form input ---

const checkbox = z.string().max(10).optional();
const SaveForm = z.object({
  q: z.string({ error: 'The query is empty: type what to search for.' }).max(MAX_QUERY, `The query is longer than ${MAX_QUERY} characters.`),
  name: z.string().max(MAX_NAME, `A name has at most ${MAX_NAME} characters.`).optional(),
  mode: z.enum(['keyword', 'semantic', 'hybrid'], { error: 'The mode must be hybrid, keyword or semantic.' }).optional(),
  category: z.string().max(200, 'The category filter is too long.').optional(),
  featured: checkbox,
  emailAlert: checkbox,
  webhookUrl: z.string().max(MAX_WEBHOOK_URL, `The webhook URL is longer than ${MAX_WEBHOOK_URL} characters.`).optional(),
});
const EditForm = z.object({
  name: z.string({ error: 'Give the saved search a name.' }).max(MAX_NAME, `A name has at most ${MAX_NAME} characters.`),
  emailAlert: checkbox,
  webhookUrl: z.string().max(MAX_WEBHOOK_URL, `The webhook URL is longer than ${MAX_WEBHOOK_URL} characters.`).optional(),
});
const PageQuery = z.object({ before: z.string().max(200).optional() });

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'The form is not valid.';
}

function parseId(raw: string): number | null {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

// --- pieces ---

function searchLink(s: SavedSearch): string {
  const params = new URLSearchParams({ q: s.query });
  if (s.categories[0] !== undefined) params.set('category', s.categories[0]);
  if (s.featuredOnly) params.set('featured', '1');
  if (s.mode !== 'hybrid') params.set('mode', s.mode);
  return `/search?${params.toString()}`;
}

function describe(s: SavedSearch): SafeHtml {
  return html`<code>${s.query}</code> · ${MODE_NAMES[s.mode]}${s.categories.length > 0 ? ` · in ${s.categories.join(', ')}` : ''}${s.featuredOnly ? ' · featured only' : ''}${
    s.emailAlert ? html` · <span class="badge">email alert</span>` : ''
  }${s.webhookUrl !== null ? html` · <span class="badge">webhook</span>` : ''}`;
}

function isNew(s: SavedSearch, matchedAt: string): boolean {
  return s.lastSeenAt === null || matchedAt > s.lastSeenAt;
}

function feedUrls(ctx: AppContext, s: SavedSearch): { rss: string; atom: string } {
  const base = `${ctx.config.baseUrl}/saved/feed/${s.feedToken}`;
  return { rss: `${base}.rss`, atom: `${base}.atom` };
}

// --- pages ---

async function showList(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status = 200, error?: string): Promise<FastifyReply> {
  const mine = await savedSearchesOf(ctx.database, signedInId(req));
  const csrf = csrfField(ctx, req, reply);
  const previews = await Promise.all(mine.map((s) => (s.newCount > 0 ? matchesPage(ctx.database, s.id, { limit: PREVIEW }) : Promise.resolve({ items: [], next: null }))));
  const anyNew = mine.some((s) => s.newCount > 0);
  const body = html`<h1>Saved searches</h1>
${error === undefined ? '' : notice(error, 'alert')}
<p>Save a search from the <a href="/search">search page</a>; papers that newly match it are listed here, in its private feed, and, if you ask, by email or webhook. Checked every 15 minutes.</p>
${
  mine.length === 0
    ? html`<div class="empty"><p>No saved searches yet. Search for something, then press "Save this search".</p></div>`
    : html`${anyNew ? html`<form method="post" action="/saved/seen" class="inline-form">${csrf}<button type="submit" class="secondary">Mark all as seen</button></form>` : ''}
<ul class="saved-searches">${mine.map(
        (s, i) => html`<li class="saved-search${s.newCount > 0 ? ' has-new' : ''}">
<h2><a href="/saved/${s.id}">${s.name}</a>${s.newCount > 0 ? html` <span class="badge new">${s.newCount} new</span>` : ''}</h2>
<p class="small">${describe(s)}</p>
<p class="small muted">${s.matchCount} ${s.matchCount === 1 ? 'match' : 'matches'} so far${s.lastCheckedAt === null ? ' · not checked yet' : html` · checked <time datetime="${s.lastCheckedAt}">${s.lastCheckedAt.slice(0, 16).replace('T', ' ')}</time> UTC`}</p>
${
  (previews[i]?.items.length ?? 0) > 0
    ? html`<ul class="saved-new">${(previews[i]?.items ?? [])
        .filter((m) => isNew(s, m.matchedAt))
        .map((m) => html`<li class="new"><a href="${paperPath(m.arxivId)}">${m.title}</a></li>`)}</ul>`
    : ''
}
<p class="saved-actions small"><a href="${searchLink(s)}">Run this search</a> · <a href="/saved/${s.id}">Matches</a> · <a href="/saved/${s.id}/edit">Edit</a>
<form method="post" action="/saved/${s.id}/delete" class="inline-form">${csrf}<button type="submit" class="secondary">Delete<span class="visually-hidden"> ${s.name}</span></button></form></p>
</li>`,
      )}</ul>`
}`;
  return sendPrivatePage(reply, status, layout({ title: 'Saved searches · Paperboy' }, body));
}

async function showMatches(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, s: SavedSearch): Promise<FastifyReply> {
  const query = PageQuery.safeParse(req.query ?? {});
  const before = query.success && query.data.before !== undefined ? decodeMatchCursor(query.data.before) : null;
  if (!query.success || (query.data.before !== undefined && before === null)) return sendError(req, reply, 400, 'That page link is not valid: start from the first page.');
  const page = await matchesPage(ctx.database, s.id, { limit: MATCHES_PAGE_SIZE, before });
  const feeds = feedUrls(ctx, s);
  const anyNew = page.items.some((m) => isNew(s, m.matchedAt));
  const body = html`<h1>${s.name}</h1>
<p>${describe(s)}</p>
<p class="small"><a href="${searchLink(s)}">Run this search</a> · <a href="/saved/${s.id}/edit">Edit, alerts and webhook</a> · <a href="${feeds.rss}">RSS</a> · <a href="${feeds.atom}">Atom</a> · <a href="/saved">All saved searches</a></p>
${anyNew ? html`<form method="post" action="/saved/${s.id}/seen" class="inline-form">${csrfField(ctx, req, reply)}<button type="submit" class="secondary">Mark as seen</button></form>` : ''}
${
  page.items.length === 0
    ? html`<div class="empty"><p>${before === null ? 'No new papers have matched yet. Papers added after you saved the search are checked every 15 minutes.' : 'No older matches.'}</p></div>`
    : html`<ol class="saved-matches">${page.items.map(
        (m) => html`<li class="${isNew(s, m.matchedAt) ? 'new' : ''}">
<h2 class="tex"><a href="${paperPath(m.arxivId)}">${m.title}</a>${isNew(s, m.matchedAt) ? html` <span class="badge new">new</span>` : ''}</h2>
<p class="authors small">${m.authorsText.length > 300 ? `${m.authorsText.slice(0, 299)}…` : m.authorsText}</p>
<p class="meta small"><span>arXiv:${m.arxivId}</span> <span>matched <time datetime="${m.matchedAt}">${m.matchedAt.slice(0, 16).replace('T', ' ')}</time> UTC</span></p>
</li>`,
      )}</ol>`
}
${page.next === null ? '' : html`<nav class="pager" aria-label="Pages"><a rel="next" href="/saved/${s.id}?before=${encodeMatchCursor(page.next)}">Older matches →</a></nav>`}`;
  return sendPrivatePage(reply, 200, layout({ title: `${s.name} · Saved searches · Paperboy` }, body));
}

async function showEdit(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, s: SavedSearch, status = 200, error?: string, typed?: { name?: string; webhookUrl?: string; emailAlert?: boolean }): Promise<FastifyReply> {
  const csrf = csrfField(ctx, req, reply);
  const deliveries = await recentDeliveries(ctx.database, s.id);
  const feeds = feedUrls(ctx, s);
  const verified = req.auth?.viewer.emailVerified === true;
  const failed = deliveries.filter((d) => d.status === 'failed');
  const body = html`<h1>Edit “${s.name}”</h1>
${error === undefined ? '' : notice(error, 'alert')}
<p>${describe(s)} · <a href="/saved/${s.id}">Matches</a></p>
<form method="post" action="/saved/${s.id}">${csrf}
<p><label for="edit-name">Name</label> <input id="edit-name" name="name" required maxlength="${MAX_NAME}" value="${typed?.name ?? s.name}"></p>
<p><input type="checkbox" id="edit-alert" name="emailAlert" value="on"${(typed?.emailAlert ?? s.emailAlert) ? html` checked` : ''}> <label for="edit-alert">Email me new matches</label>
${verified ? '' : html`<br><span class="small muted">Alerts go out once your email address is confirmed (see <a href="/settings">settings</a>).</span>`}</p>
<p><label for="edit-webhook">Webhook URL <span class="muted small">(optional; Slack incoming webhooks work as they are)</span></label>
<input id="edit-webhook" name="webhookUrl" type="url" maxlength="${MAX_WEBHOOK_URL}" value="${typed?.webhookUrl ?? s.webhookUrl ?? ''}" placeholder="https://hooks.slack.com/services/…"></p>
<p><button type="submit">Save changes</button></p>
</form>
${
  s.webhookSecret === null
    ? ''
    : html`<section aria-labelledby="webhook-h"><h2 id="webhook-h">Webhook</h2>
<p>Each call is a POST of JSON (<code>text</code>, <code>blocks</code> and a <code>paperboy</code> object with the papers), signed with this secret:</p>
<p><code class="secret">${s.webhookSecret}</code></p>
<p class="small">To check a call came from here: take the raw body and the <code>X-Paperboy-Timestamp</code> header, compute HMAC-SHA256 with the secret over <code>timestamp + "." + body</code>, and compare its hex digest (in constant time) with <code>X-Paperboy-Signature</code> after its <code>v1=</code>; refuse timestamps more than ${SIGNATURE_TOLERANCE_S / 60} minutes old. Failed calls are retried with backoff, 5 attempts in all; a 4xx answer (except 408 and 429) is not retried.</p>
<form method="post" action="/saved/${s.id}/webhook-secret" class="inline-form">${csrf}<button type="submit" class="secondary">Make a new secret</button></form>
${failed.length > 0 ? notice(`${failed.length} of the last ${deliveries.length} deliveries failed.`, 'alert') : ''}
${
  deliveries.length === 0
    ? html`<p class="small muted">No deliveries yet.</p>`
    : html`<table class="deliveries"><thead><tr><th>Created</th><th>Papers</th><th>Status</th><th>Attempts</th><th>Last answer</th></tr></thead><tbody>${deliveries.map(
        (d) => html`<tr class="${d.status}"><td><time datetime="${d.createdAt}">${d.createdAt.slice(0, 16).replace('T', ' ')}</time></td><td>${d.paperCount}</td><td>${d.status}</td><td>${d.attempts}</td><td>${
          d.responseStatus === null ? '' : `HTTP ${d.responseStatus} `
        }${d.lastError ?? ''}</td></tr>`,
      )}</tbody></table>`
}
</section>`
}
<section aria-labelledby="feed-h"><h2 id="feed-h">Feeds</h2>
<p class="small">Private addresses: anyone with one can read this search's matches.</p>
<p><a href="${feeds.rss}">${feeds.rss}</a><br><a href="${feeds.atom}">${feeds.atom}</a></p>
<form method="post" action="/saved/${s.id}/feed-token" class="inline-form">${csrf}<button type="submit" class="secondary">Make new feed addresses</button></form>
</section>
<section aria-labelledby="delete-h"><h2 id="delete-h">Delete</h2>
<form method="post" action="/saved/${s.id}/delete">${csrf}<button type="submit" class="secondary">Delete this saved search</button></form></section>`;
  return sendPrivatePage(reply, status, layout({ title: `Edit ${s.name} · Paperboy` }, body));
}

function feedOf(ctx: AppContext, s: SavedSearch, format: 'rss' | 'atom', items: SyndicationItem[]): SyndicationFeed {
  const base = ctx.config.baseUrl;
  const self = `${base}/saved/feed/${s.feedToken}.${format}`;
  return {
    title: `Paperboy: ${s.name}`,
    description: `New papers matching the saved search "${s.query}" on Paperboy.`,
    selfUrl: self,
    htmlUrl: `${base}/saved/${s.id}`,
    // Stable across token rotation: a reader that follows the new address sees the same feed.
    id: `${base}/saved/${s.id}`,
    updated: items.reduce((a, i) => (i.updated > a ? i.updated : a), new Date(s.createdAt)),
    items,
  };
}

async function sendFeed(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, file: string): Promise<FastifyReply> {
  const m = /^([A-Za-z0-9_-]{43})\.(rss|atom)$/.exec(file);
  const s = m?.[1] === undefined ? undefined : await savedSearchByFeedToken(ctx.database, m[1]);
  const format = m?.[2] === 'atom' ? 'atom' : 'rss';
  if (s === undefined) return sendError(req, reply, 404, 'There is no feed at this address. Its owner may have made a new one.');
  const page = await matchesPage(ctx.database, s.id, { limit: SAVED_FEED_ITEMS });
  const papers = new Map((await entriesByIds(ctx.database, page.items.map((i) => i.paperId))).map((e) => [e.paper.id, e.paper]));
  const base = ctx.config.baseUrl;
  const items = page.items.flatMap((match): SyndicationItem[] => {
    const paper = papers.get(match.paperId);
    if (paper === undefined) return [];
    const url = `${base}${paperPath(paper.arxivId)}`;
    const at = new Date(match.matchedAt);
    return [{ id: url, url, title: paper.titleText, summary: paper.abstractText, authors: paper.authors.map((a) => a.name), categories: paper.categories, published: at, updated: at }];
  });
  const feed = feedOf(ctx, s, format, items);
  return reply
    .type(format === 'rss' ? 'application/rss+xml; charset=utf-8' : 'application/atom+xml; charset=utf-8')
    .header('cache-control', 'private')
    .header('x-robots-tag', 'noindex')
    .send(format === 'rss' ? renderRss(feed) : renderAtom(feed));
}

async function showAlertOff(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, token: string, done = false): Promise<FastifyReply> {
  const s = await savedSearchByAlertToken(ctx.database, token);
  if (s === undefined) return sendError(req, reply, 404, 'This link is not valid any more: the saved search may have been deleted.');
  const body = done || !s.emailAlert
    ? html`<h1>Alert off</h1>${notice(html`You will get no more emails for the saved search “${s.name}”. The search itself stays: <a href="/saved">your saved searches</a>.`)}`
    : html`<h1>Turn off this alert?</h1>
<p>Stop the emails about new papers for the saved search “${s.name}”? The search and its matches stay.</p>
<form method="post" action="/saved/alert-off/${token}">${csrfProtection(ctx.config).field(req, reply)}<button type="submit">Turn the alert off</button></form>`;
  return sendPrivatePage(reply, 200, layout({ title: 'Saved search alert · Paperboy' }, body));
}

// --- actions ---

async function create(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const form = SaveForm.safeParse(req.body ?? {});
  if (!form.success) return showList(ctx, req, reply, 400, firstMessage(form.error));
  const f = form.data;
  const checked = checkInput(
    {
      name: f.name,
      query: f.q,
      mode: f.mode,
      categories: (f.category ?? '').split(/[\s,]+/).filter((c) => c !== ''),
      featuredOnly: f.featured !== undefined,
      emailAlert: f.emailAlert !== undefined,
      webhookUrl: f.webhookUrl,
    },
    ctx.config.webhookAllowPrivate,
  );
  if (!checked.ok) return showList(ctx, req, reply, checked.status, checked.message);
  const made = await createSavedSearch(ctx.database, signedInId(req), checked.value);
  if (!made.ok) return showList(ctx, req, reply, made.status, made.message);
  return reply.redirect(`/saved/${made.value.id}`, 303);
}

async function update(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, s: SavedSearch): Promise<FastifyReply> {
  const raw = (req.body ?? {}) as Record<string, unknown>;
  const typed = { name: typeof raw.name === 'string' ? raw.name : undefined, webhookUrl: typeof raw.webhookUrl === 'string' ? raw.webhookUrl : undefined, emailAlert: raw.emailAlert !== undefined };
  const form = EditForm.safeParse(raw);
  if (!form.success) return showEdit(ctx, req, reply, s, 400, firstMessage(form.error), typed);
  const updated = await updateSavedSearch(
    ctx.database,
    s.userId,
    s.id,
    { name: form.data.name, emailAlert: form.data.emailAlert !== undefined, webhookUrl: form.data.webhookUrl ?? '' },
    ctx.config.webhookAllowPrivate,
  );
  if (!updated.ok) return updated.status === 404 ? sendError(req, reply, 404, updated.message) : showEdit(ctx, req, reply, s, updated.status, updated.message, typed);
  return reply.redirect(`/saved/${s.id}/edit`, 303);
}

type Handler = (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, s: SavedSearch) => Promise<FastifyReply>;

/** Wraps a handler of `/saved/:id/...`: only the owner's search is found; anything else is 404. */
function own(ctx: AppContext, handler: Handler) {
  return async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    const id = parseId(req.params.id);
    const s = id === null ? undefined : await ownSavedSearch(ctx.database, signedInId(req), id);
    if (s === undefined) return sendError(req, reply, 404, `You have no saved search ${req.params.id.slice(0, 20)}.`);
    return handler(ctx, req, reply, s);
  };
}

/** Registers the saved-search pages, their form actions and the secret feeds. */
export function savedSearchRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const signedIn = { preHandler: requireUser };

    app.get('/saved', signedIn, (req, reply) => showList(ctx, req, reply));
    app.post('/saved', write, (req, reply) => create(ctx, req, reply));
    app.post('/saved/seen', write, async (req, reply) => {
      await markSeen(ctx.database, signedInId(req), null);
      return reply.redirect('/saved', 303);
    });
    app.get<{ Params: { id: string } }>('/saved/:id', signedIn, own(ctx, showMatches));
    app.get<{ Params: { id: string } }>('/saved/:id/edit', signedIn, own(ctx, (c, req, reply, s) => showEdit(c, req, reply, s)));
    app.post<{ Params: { id: string } }>('/saved/:id', write, own(ctx, update));
    app.post<{ Params: { id: string } }>(
      '/saved/:id/delete',
      write,
      own(ctx, async (c, req, reply, s) => {
        await deleteSavedSearch(c.database, s.userId, s.id);
        return reply.redirect('/saved', 303);
      }),
    );
    app.post<{ Params: { id: string } }>(
      '/saved/:id/seen',
      write,
      own(ctx, async (c, _req, reply, s) => {
        await markSeen(c.database, s.userId, s.id);
        return reply.redirect(`/saved/${s.id}`, 303);
      }),
    );
    app.post<{ Params: { id: string } }>(
      '/saved/:id/feed-token',
      write,
      own(ctx, async (c, _req, reply, s) => {
        await rotateSavedFeedToken(c.database, s.userId, s.id);
        return reply.redirect(`/saved/${s.id}/edit#feed-h`, 303);
      }),
    );
    app.post<{ Params: { id: string } }>(
      '/saved/:id/webhook-secret',
      write,
      own(ctx, async (c, req, reply, s) => {
        if (!(await rotateWebhookSecret(c.database, s.userId, s.id))) return showEdit(c, req, reply, s, 400, 'This saved search has no webhook, so it has no secret.');
        return reply.redirect(`/saved/${s.id}/edit#webhook-h`, 303);
      }),
    );
    // No session: feed readers have none. The secret in the address is the credential.
    app.get<{ Params: { file: string } }>('/saved/feed/:file', { config: rateLimit(ctx.config, 'searchFeed') }, (req, reply) => sendFeed(ctx, req, reply, req.params.file));
    // The alert email's link: a page with a button, then a POST with the link's secret and a CSRF token (no sign-in needed).
    app.get<{ Params: { token: string } }>('/saved/alert-off/:token', (req, reply) => showAlertOff(ctx, req, reply, req.params.token));
    app.post<{ Params: { token: string } }>(
      '/saved/alert-off/:token',
      { config: rateLimit(ctx.config, 'auth'), preHandler: csrfProtection(ctx.config).requireCsrf },
      async (req, reply) => {
        const s = await turnOffAlert(ctx.database, req.params.token);
        if (s === undefined) return sendError(req, reply, 404, 'This link is not valid any more: the saved search may have been deleted.');
        return showAlertOff(ctx, req, reply, req.params.token, true);
      },
    );
  };
}
