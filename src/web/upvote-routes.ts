/**
 * The upvote button on cards and paper pages, and its form action
 * `POST /papers/:id/upvote` (old-style ids: `/papers/:archive/:num/upvote`).
 *
 * Pages render the anonymous box (a count and a "log in to upvote" link), so
 * they stay cacheable and identical for everyone. For a signed-in browser,
 * `installUpvoteButtons` swaps each box for a form as the page is sent, the
 * way auth.ts fills in the header: one query finds which papers on the page
 * the viewer upvotes. The form works without JavaScript (a POST with the CSRF
 * token, then 303 back to the page); public/app.js turns it into a fetch to
 * the JSON API that updates the button in place.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { paperIdOf, setUpvote, upvoteButtons, type UpvoteButtonState } from '../community/upvotes.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { csrfField, requireWrite, safeNext } from './auth.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { rateLimit } from './rate-limits.js';

export type UpvoteBoxSize = 'card' | 'page';

/** The paper fields an upvote box shows. */
export interface UpvoteBoxPaper {
  id: number;
  arxivId: string;
  upvotes: number;
}

const CLASSES: Record<UpvoteBoxSize, string> = { card: 'votes', page: 'votes votes-page' };
// Matches exactly what `upvoteBox` renders (its inside holds no <div>), capturing the classes and the row id.
const ANONYMOUS_BOX_RE = /<div class="(votes(?: votes-page)?)" data-upvotes-of="(\d+)">[\s\S]*?<\/div>/g;

const paperPath = (arxivId: string): string => `/papers/${arxivId}`;

// public/app.js rewrites the count and the word after it when a vote changes them.
function countLabel(size: UpvoteBoxSize, upvotes: number): SafeHtml {
  const unit = size === 'card' ? 'vote' : 'upvote';
  return html`<span class="count">${upvotes}</span> ${upvotes === 1 ? unit : `${unit}s`}`;
}

/**
 * A paper's upvote box as everyone sees it: the count and a link to log in.
 * Never per person, so pages that carry it can be cached and shared.
 */
export function upvoteBox(paper: UpvoteBoxPaper, size: UpvoteBoxSize): SafeHtml {
  const login = `/login?next=${encodeURIComponent(paperPath(paper.arxivId))}`;
  return html`<div class="${CLASSES[size]}" data-upvotes-of="${paper.id}">
<a class="upvote-button" href="${login}" title="Log in to upvote"><span aria-hidden="true">▲</span><span class="visually-hidden">Log in to upvote</span></a>
${countLabel(size, paper.upvotes)}
${size === 'page' ? html`<a class="upvote-hint small" href="${login}">Log in to upvote</a>` : ''}
</div>`;
}

/** The box for a signed-in person: a form that adds or removes their upvote, then returns to `next`. */
function upvoteForm(paperId: number, state: UpvoteButtonState, size: UpvoteBoxSize, csrf: SafeHtml, next: string): SafeHtml {
  const anchor = `upvote-${paperId}`;
  return html`<form class="${CLASSES[size]}" id="${anchor}" data-upvotes-of="${paperId}" method="post" action="${paperPath(state.arxivId)}/upvote">
${csrf}<input type="hidden" name="action" value="${state.upvoted ? 'remove' : 'add'}"><input type="hidden" name="next" value="${next}#${anchor}">
<button type="submit" class="upvote-button" aria-pressed="${state.upvoted ? 'true' : 'false'}" title="${state.upvoted ? 'Remove your upvote' : 'Upvote'}"><span aria-hidden="true">▲</span><span class="visually-hidden">Upvote</span></button>
${countLabel(size, state.upvotes)}
</form>`;
}

/**
 * Personalises the upvote boxes of HTML pages sent to a signed-in browser
 * (sessions only: a bearer token has no CSRF cookie to post a form with).
 */
export function installUpvoteButtons(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const auth = req.auth;
    if (auth?.via !== 'session' || typeof payload !== 'string' || !payload.includes('data-upvotes-of="')) return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !type.startsWith('text/html')) return payload;
    const ids = [...payload.matchAll(ANONYMOUS_BOX_RE)].map((m) => Number(m[2]));
    if (ids.length === 0) return payload;
    const states = await upvoteButtons(ctx.database, auth.viewer.id, ids);
    const csrf = csrfField(ctx, req, reply);
    personaliseEtag(reply, auth.viewer.id, states);
    // The form returns to this page; a page answering a POST has no URL to return to, so its paper's page.
    const page = req.method === 'GET' ? req.url : undefined;
    return payload.replace(ANONYMOUS_BOX_RE, (box, classes: string, id: string) => {
      const state = states.get(Number(id));
      if (state === undefined) return box;
      const size: UpvoteBoxSize = classes === CLASSES.page ? 'page' : 'card';
      return upvoteForm(Number(id), state, size, csrf, page ?? paperPath(state.arxivId)).value;
    });
  });
}

/**
 * A route's own ETag (the paper page's) describes the anonymous page; the
 * viewer's upvotes are folded in so that a browser never gets a 304 for a
 * page showing another account's, or an earlier, upvote state.
 */
function personaliseEtag(reply: FastifyReply, viewerId: number, states: ReadonlyMap<number, UpvoteButtonState>): void {
  const etag = reply.getHeader('etag');
  if (typeof etag !== 'string' || !etag.endsWith('"')) return;
  const upvoted = [...states].filter(([, s]) => s.upvoted).map(([id]) => id).sort((a, b) => a - b);
  const mark = createHash('sha1').update(`${viewerId}|${upvoted.join(',')}`).digest('base64url').slice(0, 12);
  reply.header('etag', `${etag.slice(0, -1)}.${mark}"`);
}

const UpvoteForm = z.object({
  action: z.enum(['add', 'remove'], { error: 'action must be "add" or "remove"' }),
  next: z.string().max(2000).optional(),
});

async function upvoteFromForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<FastifyReply> {
  const form = UpvoteForm.safeParse(req.body ?? {});
  if (!form.success) return sendError(req, reply, 400, `Invalid upvote form: ${form.error.issues.map((i) => i.message).join('; ')}.`);
  const id = parseArxivId(raw)?.id;
  if (id === undefined) return sendError(req, reply, 404, `"${raw.slice(0, 80)}" is not an arXiv id, so there is nothing to upvote.`);
  const paperId = await paperIdOf(ctx.database, id);
  if (paperId === undefined) return sendError(req, reply, 404, `There is no paper ${id} in this Paperboy instance.`);
  const viewer = req.auth?.viewer;
  // requireWrite ran first; this only narrows the type.
  if (viewer === undefined) return sendError(req, reply, 401, 'Log in to upvote.');
  await setUpvote(ctx.database, viewer.id, paperId, form.data.action === 'add');
  return reply.redirect(safeNext(form.data.next ?? req.headers.referer ?? paperPath(id)), 303);
}

/** GET on an upvote URL: upvoting changes data, so it is the form's POST only. */
function upvoteNeedsPost(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header('allow', 'POST');
  return sendError(req, reply, 405, "Upvoting is done with the upvote button on the paper's page or card (a POST request).");
}

/** Registers the upvote form action. */
export function upvotePageRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const options = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    app.post<{ Params: { id: string } }>('/papers/:id/upvote', options, (req, reply) => upvoteFromForm(ctx, req, reply, req.params.id));
    app.post<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/upvote', options, (req, reply) =>
      upvoteFromForm(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );
    app.get('/papers/:id/upvote', upvoteNeedsPost);
    app.get('/papers/:archive/:num/upvote', upvoteNeedsPost);
  };
}
