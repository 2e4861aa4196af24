/**
 * Moderation in the browser: the curation panel on paper pages (feature,
 * unfeature, lock and unlock, each with a reason), reporting a comment,
 * hiding and showing one, the reports queue `/admin/reports`, and the public
 * moderation log `/moderation`. Every form posts and redirects (303), and
 * works without JavaScript; the staff routes declare their least role.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { roleAtLeast } from '../accounts/users.js';
import type { PaperRef } from '../community/comments.js';
import type { AppContext } from '../context.js';
import { curatorFeature, curatorUnfeature, FeatureError } from '../feeds/featuring.js';
import { hideComment, unhideComment } from '../moderation/hiding.js';
import { lockThread, threadLock, unlockThread } from '../moderation/locks.js';
import { listModeration, MODERATION_ACTIONS, type LoggedAction, type ModerationAction } from '../moderation/log.js';
import { dismissReports, MAX_REPORT_DETAILS, openReports, REPORT_REASONS, reportComment, type ReportedComment } from '../moderation/reports.js';
import type { Paper } from '../papers/repository.js';
import { csrfField, requireWrite, safeNext } from './auth.js';
import { paperFromUrl } from './claim-pages.js';
import { paperPath } from './card.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import type { PaperPagePart } from './paper-page.js';
import { sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

const LOG_PAGE = 50;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

const issues = (error: z.ZodError): string => error.issues.map((i) => i.message).join(' ');
const reason = z.string({ error: 'reason: say why.' }).trim().min(1, 'reason: say why; it goes to the public moderation log.').max(500, 'reason: at most 500 characters.');
const ReasonForm = z.object({ reason, next: z.string().max(2000).optional() });
const FeatureForm = z.object({
  reason,
  day: z
    .string()
    .trim()
    .optional()
    .refine((d) => d === undefined || d === '' || (DAY_RE.test(d) && !Number.isNaN(Date.parse(d))), 'day: a date as YYYY-MM-DD.'),
});
const ReportForm = z.object({
  reason: z.enum(REPORT_REASONS, { error: `reason: choose one of ${REPORT_REASONS.join(', ')}.` }),
  details: z.string().max(MAX_REPORT_DETAILS, `details: at most ${MAX_REPORT_DETAILS} characters.`).default(''),
});
const LogQuery = z.object({
  before: z.string().regex(/^\d{1,15}$/, 'before: an entry number.').transform(Number).optional(),
  action: z.enum(MODERATION_ACTIONS, { error: 'action: not a moderation action.' }).optional().or(z.literal('').transform(() => undefined)),
});
const COMMENT_ID_RE = /^\d{1,15}$/;

/** Today's feed day (UTC, like every feed day). */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The paper page's "Curation" panel: for curators and above in a browser session only. */
export async function curationPart(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: Paper): Promise<PaperPagePart> {
  const viewer = req.auth?.via === 'session' ? req.auth.viewer : null;
  if (viewer === null || !roleAtLeast(viewer.role, 'curator')) return { etag: 'curation:none' };
  const [featured, lock] = await Promise.all([
    ctx.database.db.selectFrom('featured').select(['featured_on', 'hidden_at']).where('paper_id', '=', paper.id).executeTakeFirst(),
    threadLock(ctx.database.db, paper.id),
  ]);
  const csrf = csrfField(ctx, req, reply);
  const path = paperPath(paper.arxivId);
  const shown = featured !== undefined && featured.hidden_at === null;
  const status =
    featured === undefined
      ? 'Not featured.'
      : shown
        ? html`Featured on <a href="/papers/date/${featured.featured_on}">${featured.featured_on}</a>.`
        : `Taken off the feed of ${featured.featured_on}.`;
  const moderator = roleAtLeast(viewer.role, 'moderator');
  const side = html`<section class="panel curation" aria-labelledby="curation-h"><h2 id="curation-h">Curation</h2>
<p class="small">${status}</p>
${
  shown
    ? html`<form method="post" action="${path}/unfeature" class="stacked-form">${csrf}
<p class="field"><label for="unfeature-reason">Reason to unfeature</label><input id="unfeature-reason" name="reason" type="text" required maxlength="500"></p>
<button type="submit" class="secondary">Unfeature</button></form>`
    : html`<form method="post" action="${path}/feature" class="stacked-form">${csrf}
<p class="field"><label for="feature-day">Feed day</label><input id="feature-day" name="day" type="date" value="${today()}" required></p>
<p class="field"><label for="feature-reason">Reason to feature</label><input id="feature-reason" name="reason" type="text" required maxlength="500"></p>
<button type="submit">Feature</button></form>`
}
${
  moderator
    ? html`<form method="post" action="${path}/${lock === null ? 'lock' : 'unlock'}" class="stacked-form">${csrf}
<p class="field"><label for="lock-reason">Reason to ${lock === null ? 'lock' : 'unlock'} the discussion</label><input id="lock-reason" name="reason" type="text" required maxlength="500"></p>
<button type="submit" class="secondary">${lock === null ? 'Lock discussion' : 'Unlock discussion'}</button></form>`
    : ''
}
<p class="small"><a href="/moderation">Moderation log</a></p>
</section>`;
  return { etag: `curation:${viewer.role}:${featured?.featured_on ?? ''}:${featured?.hidden_at ?? ''}:${lock?.lockedAt ?? ''}`, side };
}


type PaperAction = (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: PaperRef) => Promise<FastifyReply>;

const feature: PaperAction = async (ctx, req, reply, paper) => {
  const viewer = req.auth?.viewer;
  const form = FeatureForm.safeParse(req.body ?? {});
  if (viewer === undefined) return reply;
  if (!form.success) return sendError(req, reply, 400, issues(form.error));
  try {
    await curatorFeature(ctx.database, viewer, { arxivId: paper.arxivId, on: form.data.day || today(), reason: form.data.reason });
  } catch (err) {
    if (err instanceof FeatureError && err.code === 'already_featured') {
      return sendError(req, reply, 409, `${paper.arxivId} is already featured on ${err.existing?.on ?? 'a day'} by someone; unfeature it first to move it.`);
    }
    throw err;
  }
  return reply.redirect(paperPath(paper.arxivId), 303);
};

const unfeature: PaperAction = async (ctx, req, reply, paper) => {
  const viewer = req.auth?.viewer;
  const form = ReasonForm.safeParse(req.body ?? {});
  if (viewer === undefined) return reply;
  if (!form.success) return sendError(req, reply, 400, issues(form.error));
  const done = await curatorUnfeature(ctx.database, viewer, { arxivId: paper.arxivId, reason: form.data.reason });
  if (!done) return sendError(req, reply, 409, `${paper.arxivId} is not featured.`);
  return reply.redirect(paperPath(paper.arxivId), 303);
};

function lockAction(locking: boolean): PaperAction {
  return async (ctx, req, reply, paper) => {
    const viewer = req.auth?.viewer;
    const form = ReasonForm.safeParse(req.body ?? {});
    if (viewer === undefined) return reply;
    if (!form.success) return sendError(req, reply, 400, issues(form.error));
    const result = await (locking ? lockThread : unlockThread)(ctx.database, viewer, paper, form.data.reason);
    if (!result.ok) return sendError(req, reply, result.status, result.message);
    return reply.redirect(`${paperPath(paper.arxivId)}#discussion`, 303);
  };
}

function commentIdOf(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): number | undefined {
  if (COMMENT_ID_RE.test(req.params.id)) return Number(req.params.id);
  void sendError(req, reply, 404, `"${req.params.id.slice(0, 40)}" is not a comment number.`);
  return undefined;
}

function when(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** The subject of a log entry, linked where it has a page. */
function subjectLink(entry: LoggedAction): SafeHtml | string {
  const { kind, id, label } = entry.subject;
  if (kind === 'paper') return html`<a href="${paperPath(id)}">${label}</a>`;
  if (kind === 'comment') return html`<a href="/comments/${id}">${label}</a>`;
  if (kind === 'user') return html`<a href="/u/${label}">${label}</a>`;
  return label;
}

function logPage(entries: LoggedAction[], next: number | null, action: ModerationAction | undefined): SafeHtml {
  const nextUrl = next === null ? null : `/moderation?before=${next}${action === undefined ? '' : `&action=${action}`}`;
  return html`<h1>Moderation log</h1>
<p class="muted">Every action a curator, moderator or admin takes on someone else's content or account, newest first, with the reason they gave.</p>
<form method="get" action="/moderation" class="inline-form">
<label for="log-action">Action</label>
<select id="log-action" name="action"><option value="">all actions</option>${MODERATION_ACTIONS.map(
    (a) => html`<option value="${a}"${a === action ? ' selected' : ''}>${a.replace(/_/g, ' ')}</option>`,
  )}</select>
<button type="submit" class="secondary">Filter</button>
</form>
${
  entries.length === 0
    ? html`<p>Nothing logged${action === undefined ? '' : ' for this action'} yet.</p>`
    : html`<table class="moderation-log"><caption class="visually-hidden">Moderation actions</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Reason</th></tr></thead>
<tbody>${entries.map(
        (e) => html`<tr id="log-${e.id}"><td>${when(e.createdAt)}</td><td><a href="/u/${e.actor.username}">${e.actor.username}</a> <span class="small muted">(${e.actor.role})</span></td>
<td>${e.action.replace(/_/g, ' ')}</td><td>${subjectLink(e)}</td><td>${e.reason}</td></tr>`,
      )}</tbody></table>`
}
${nextUrl === null ? '' : html`<p><a href="${nextUrl}">Older entries</a></p>`}`;
}

function queuePage(csrf: SafeHtml, items: ReportedComment[]): SafeHtml {
  return html`<h1>Reports</h1>
<p class="muted">Open reports, grouped by comment, longest waiting first. Hiding a comment resolves all its reports; dismissing says there is nothing to do. Both go to the <a href="/moderation">moderation log</a>.</p>
${
  items.length === 0
    ? html`<p>No open reports.</p>`
    : items.map(
        (item) => html`<section class="report-item panel" id="reported-${item.comment.id}" aria-labelledby="reported-${item.comment.id}-h">
<h2 id="reported-${item.comment.id}-h">Comment by ${item.comment.author?.username ?? 'a deleted account'} on <a href="${paperPath(item.paper.arxivId)}#comment-${item.comment.id}">${item.paper.title}</a></h2>
${item.comment.hidden === null ? '' : html`<p class="muted">Already hidden: ${item.comment.hidden.reason}</p>`}
<blockquote class="reported-body">${item.comment.body}</blockquote>
<ul>${item.reports.map(
          (r) => html`<li><strong>${r.reason}</strong> from ${r.reporter ?? 'a deleted account'} ${when(r.createdAt)}${r.details === '' ? '' : html`: ${r.details}`}</li>`,
        )}</ul>
${
  item.comment.hidden === null
    ? html`<form method="post" action="/comments/${item.comment.id}/hide" class="stacked-form">${csrf}
<input type="hidden" name="next" value="/admin/reports">
<p class="field"><label for="hide-${item.comment.id}">Reason to hide (shown in place of the comment)</label><input id="hide-${item.comment.id}" name="reason" type="text" required maxlength="500"></p>
<button type="submit">Hide comment</button></form>`
    : ''
}
<form method="post" action="/admin/reports/${item.comment.id}/dismiss" class="stacked-form">${csrf}
<p class="field"><label for="dismiss-${item.comment.id}">Reason to dismiss</label><input id="dismiss-${item.comment.id}" name="reason" type="text" required maxlength="500"></p>
<button type="submit" class="secondary">Dismiss reports</button></form>
</section>`,
      )
}`;
}

/** Registers the curation, report, hide and log routes. */
export function moderationRoutes(ctx: AppContext): FastifyPluginAsync {
  const staff = (minRole: 'curator' | 'moderator') => ({ config: { minRole, ...rateLimit(ctx.config, 'write') }, preHandler: requireWrite(ctx) });
  return async (app) => {
    const paperActions: [string, 'curator' | 'moderator', PaperAction][] = [
      ['feature', 'curator', feature],
      ['unfeature', 'curator', unfeature],
      ['lock', 'moderator', lockAction(true)],
      ['unlock', 'moderator', lockAction(false)],
    ];
    for (const [name, minRole, action] of paperActions) {
      app.post<{ Params: { id: string } }>(`/papers/:id/${name}`, staff(minRole), async (req, reply) => {
        const paper = await paperFromUrl(ctx, req, reply, req.params.id);
        return paper === undefined ? reply : action(ctx, req, reply, paper);
      });
      app.post<{ Params: { archive: string; num: string } }>(`/papers/:archive/:num/${name}`, staff(minRole), async (req, reply) => {
        const paper = await paperFromUrl(ctx, req, reply, `${req.params.archive}/${req.params.num}`);
        return paper === undefined ? reply : action(ctx, req, reply, paper);
      });
    }

    app.post<{ Params: { id: string } }>('/comments/:id/report', { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = commentIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = ReportForm.safeParse(req.body ?? {});
      if (!form.success) return sendError(req, reply, 400, issues(form.error));
      const result = await reportComment(ctx.database, viewer, { commentId: id, reason: form.data.reason, details: form.data.details });
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.redirect(`/comments/${id}`, 303);
    });

    for (const hiding of [true, false]) {
      app.post<{ Params: { id: string } }>(`/comments/:id/${hiding ? 'hide' : 'unhide'}`, staff('moderator'), async (req, reply) => {
        const viewer = req.auth?.viewer;
        const id = commentIdOf(req, reply);
        if (viewer === undefined || id === undefined) return reply;
        const form = ReasonForm.safeParse(req.body ?? {});
        if (!form.success) return sendError(req, reply, 400, issues(form.error));
        const result = await (hiding ? hideComment : unhideComment)(ctx.database, viewer, id, form.data.reason);
        if (!result.ok) return sendError(req, reply, result.status, result.message);
        return reply.redirect(form.data.next === undefined ? `/comments/${id}` : safeNext(form.data.next), 303);
      });
    }

    app.get('/admin/reports', { config: { minRole: 'moderator' } }, async (req, reply) => {
      const items = await openReports(ctx.database);
      return sendPrivatePage(reply, 200, layout({ title: 'Reports · Paperboy' }, queuePage(csrfField(ctx, req, reply), items)));
    });

    app.post<{ Params: { id: string } }>('/admin/reports/:id/dismiss', staff('moderator'), async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = commentIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = ReasonForm.safeParse(req.body ?? {});
      if (!form.success) return sendError(req, reply, 400, issues(form.error));
      const result = await dismissReports(ctx.database, viewer, id, form.data.reason);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.redirect('/admin/reports', 303);
    });

    app.get('/moderation', async (req, reply) => {
      const query = LogQuery.safeParse(req.query ?? {});
      if (!query.success) return sendError(req, reply, 400, issues(query.error));
      const { entries, next } = await listModeration(ctx.database.db, { before: query.data.before, action: query.data.action, limit: LOG_PAGE });
      reply.header('cache-control', 'no-cache');
      return reply.type('text/html; charset=utf-8').send(layout({ title: 'Moderation log · Paperboy' }, logPage(entries, next, query.data.action)).value);
    });
  };
}
