/**
 * Submitting a paper from the browser: `GET /papers/submit` shows the form to
 * a signed-in person (others are sent to log in), `POST /papers/submit` takes
 * it with its CSRF token, without JavaScript, and answers 303 to the paper's
 * page, or the form again with what went wrong and the matching status.
 * The rules live in src/community/submissions.ts.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseSubmission, submitPaper, type SubmissionFailure } from '../community/submissions.js';
import type { AppContext } from '../context.js';
import { listFeatured, type FeedEntry } from '../feeds/feed.js';
import { csrfField, requireUser, requireWrite } from './auth.js';
import { paperPath } from './card.js';
import { longDay, shortDay } from './dates.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { rateLimit } from './rate-limits.js';
import { sendPrivatePage } from './private-page.js';

const MAX_INPUT = 2000;
const SubmitForm = z.object({
  id: z.string({ error: 'Give one arXiv id or URL.' }).max(MAX_INPUT, 'That is too long for an arXiv id or URL.').default(''),
});
const SubmitQuery = z.object({ id: z.string().max(MAX_INPUT).catch('').default('') });
const RECENT_SHOWN = 20;
const ALL_DAYS = { from: '0000-01-01', to: '9999-12-31' };

interface FormState {
  value: string;
  problem?: SubmissionFailure;
}

/** The person's latest submissions still on the feed, newest feed day first. */
async function recentSubmissions(ctx: AppContext, username: string): Promise<FeedEntry[]> {
  const { entries } = await listFeatured(ctx.database, { ...ALL_DAYS, submitter: username, sort: 'newest', limit: RECENT_SHOWN, offset: 0 });
  return entries.sort((a, b) => (b.featured?.on ?? '').localeCompare(a.featured?.on ?? ''));
}

/** Where the person can go after a refusal about a paper this instance now holds. */
function paperLink(status: number, value: string): SafeHtml | string {
  if (status !== 409 && status !== 422) return '';
  const parsed = parseSubmission(value);
  if (!('id' in parsed)) return '';
  return html` <a href="${paperPath(parsed.id)}">Go to arXiv:${parsed.id}</a>.`;
}

function submitPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, state: FormState, mine: FeedEntry[]): SafeHtml {
  const today = new Date().toISOString().slice(0, 10);
  const days = ctx.config.submissionMaxAgeDays;
  const problem = state.problem;
  const body = html`<h1>Submit a paper</h1>
<p>Put a new arXiv paper on the daily papers of today, ${longDay(today)}, credited to you as its submitter.
It must be at most ${days} ${days === 1 ? 'day' : 'days'} old, counted from its first version, and not in the daily papers already.
Papers this instance does not have yet are fetched from arXiv.</p>
${problem ? html`<div class="notice error" role="alert" id="submit-problem"><p>${problem.message}${paperLink(problem.status, state.value)}</p></div>` : ''}
<form method="post" action="/papers/submit" class="account-form">
${csrfField(ctx, req, reply)}
<p class="field">
<label for="f-id">arXiv id or URL</label>
<input id="f-id" name="id" type="text" value="${state.value}" required maxlength="${MAX_INPUT}" autocomplete="off" spellcheck="false"
 placeholder="2401.01234 or https://arxiv.org/abs/2401.01234"${problem ? html` aria-invalid="true" aria-describedby="submit-problem"` : ''}>
</p>
<button type="submit">Submit</button>
</form>
<section aria-labelledby="mine-h"><h2 id="mine-h">Your submissions</h2>
${
  mine.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<ul>${mine.map(
        (e) =>
          html`<li><a class="tex" href="${paperPath(e.paper.arxivId)}">${e.paper.title}</a> <span class="muted small">arXiv:${e.paper.arxivId}${
            e.featured ? html`, <a href="/papers/date/${e.featured.on}">${shortDay(e.featured.on)}</a>` : ''
          }</span></li>`,
      )}</ul>`
}
</section>`;
  return layout({ title: 'Submit a paper · Paperboy', section: 'submit', math: true }, body);
}

/** Sends the form page: it carries this browser's CSRF token and the person's submissions, so nobody may cache it. */
async function sendForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status: number, state: FormState): Promise<FastifyReply> {
  const mine = req.auth === null ? [] : await recentSubmissions(ctx, req.auth.viewer.username);
  if (state.problem?.retryAfter !== undefined) reply.header('retry-after', String(state.problem.retryAfter));
  return sendPrivatePage(reply, status, submitPage(ctx, req, reply, state, mine));
}

/** Registers the submit form and its action. */
export function submitRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/papers/submit', { preHandler: requireUser }, async (req, reply) => {
      // `?id=` pre-fills the form (a bookmarklet, a link from a paper); submitting stays a POST.
      const { id } = SubmitQuery.parse(req.query ?? {});
      return sendForm(ctx, req, reply, 200, { value: id });
    });

    app.post('/papers/submit', { config: rateLimit(ctx.config, 'submit'), preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      // requireWrite ran first; this only narrows the type.
      if (viewer === undefined) return reply.redirect('/login?next=%2Fpapers%2Fsubmit', 303);
      const form = SubmitForm.safeParse(req.body ?? {});
      if (!form.success) {
        const message = form.error.issues[0]?.message ?? 'Give one arXiv id or URL.';
        return sendForm(ctx, req, reply, 400, { value: '', problem: { status: 400, message } });
      }
      const result = await submitPaper(ctx, viewer.username, form.data.id, req.log);
      if (result.ok) return reply.redirect(paperPath(result.entry.paper.arxivId), 303);
      const { ok: _ok, ...problem } = result;
      return sendForm(ctx, req, reply, problem.status, { value: form.data.id, problem });
    });
  };
}
