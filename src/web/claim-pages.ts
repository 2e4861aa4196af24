/**
 * Authorship claims in the browser: the claim form of a paper
 * (`/papers/:id/claim`), my claims (`/claims`) with withdraw and "show on
 * profile" buttons, the curators' queue (`/admin/claims`) with verify and
 * reject (a reason required), and the paper page's "Authors on Paperboy"
 * panel. Every form works without JavaScript: a plain POST answered with a
 * 303, or the form again with what was typed and why it was refused.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findPaperRef, type PaperRef } from '../community/comments.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import {
  authorNamesOf,
  claimOnPaper,
  claimsOf,
  createClaim,
  decideClaim,
  listClaims,
  mailDecision,
  MAX_EVIDENCE,
  MAX_REASON,
  setShowOnProfile,
  verifiedAuthorsOf,
  withdrawClaim,
  type Claim,
  type ClaimRefusal,
} from '../people/claims.js';
import { csrfField, requireUser, requireWrite, safeNext } from './auth.js';
import { paperPath } from './card.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import type { PaperPagePartLoader } from './paper-page.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

const ClaimForm = z.object({
  authorName: z.string({ error: 'Choose one author name.' }).default(''),
  evidence: z.string({ error: 'Send the evidence once.' }).default(''),
});
const RejectForm = z.object({ reason: z.string({ error: 'Send one reason.' }).default('') });
const ToggleForm = z.object({
  show: z.enum(['0', '1'], { error: 'show must be 0 or 1.' }),
  next: z.string().optional(),
});
const CLAIM_ID_RE = /^\d{1,15}$/;

const STATUS_TEXT: Record<Claim['status'], string> = { pending: 'waiting for a curator', verified: 'verified', rejected: 'rejected' };

function claimPath(arxivId: string): string {
  return `${paperPath(arxivId)}/claim`;
}

function statusLine(claim: Claim): SafeHtml {
  return html`<span class="badge claim-${claim.status}">${STATUS_TEXT[claim.status]}</span>${
    claim.status === 'rejected' && claim.reason !== null ? html` <span class="claim-reason">Reason: ${claim.reason}</span>` : ''
  }`;
}

function withdrawForm(csrf: SafeHtml, claim: Claim, label = 'Withdraw claim'): SafeHtml {
  return html`<form method="post" action="/claims/${claim.id}/withdraw" class="inline-form">${csrf}<button type="submit" class="secondary">${label}</button></form>`;
}

function toggleForm(csrf: SafeHtml, claim: Claim, next: string): SafeHtml {
  return html`<form method="post" action="/claims/${claim.id}/profile" class="inline-form">${csrf}
<input type="hidden" name="show" value="${claim.showOnProfile ? '0' : '1'}">
<input type="hidden" name="next" value="${next}">
<button type="submit" class="secondary">${claim.showOnProfile ? 'Hide from my profile' : 'Show on my profile'}</button></form>`;
}

/** "Authors on Paperboy": verified authors, the viewer's claim, and the way to claim. */
export const claimsPagePart: PaperPagePartLoader = async (ctx, req, _reply, paper) => {
  const verified = await verifiedAuthorsOf(ctx.database, paper.id);
  const viewer = req.auth?.via === 'session' ? req.auth.viewer : null;
  const mine = viewer === null ? undefined : await claimOnPaper(ctx.database, viewer.id, paper.id);
  const link = claimPath(paper.arxivId);
  const side = html`<section class="panel claims-panel" aria-labelledby="claims-h"><h2 id="claims-h">Authors on Paperboy</h2>
${
  verified.size === 0
    ? html`<p class="small muted">No author of this paper is verified here yet.</p>`
    : html`<ul class="plain-list">${[...verified].map(([name, who]) => html`<li>${name}: <a href="/u/${who.username}">✓ ${who.username}</a></li>`)}</ul>`
}
${
  viewer === null
    ? html`<p class="small"><a href="/login?next=${encodeURIComponent(link)}">Log in to claim authorship</a></p>`
    : mine === undefined
      ? html`<p><a class="button secondary" href="${link}">Claim authorship</a></p>`
      : html`<p class="small">Your claim as ${mine.authorName}: ${statusLine(mine)} <a href="${link}">Details</a></p>`
}
</section>`;
  const state = [...verified].map(([name, who]) => `${name}=${who.userId}`).join('|');
  return {
    etag: createHash('sha1').update(`${state}#${mine === undefined ? '' : `${mine.id}:${mine.status}:${mine.reason ?? ''}`}`).digest('base64url'),
    side,
    verifiedAuthors: new Map([...verified].map(([name, who]) => [name, who.username])),
  };
};

/** The paper a page URL names (new- or old-style id), or undefined once the 404 is sent. */
export async function paperFromUrl(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<PaperRef | undefined> {
  const id = parseArxivId(raw)?.id;
  const paper = id === undefined ? undefined : await findPaperRef(ctx.database, id);
  if (paper === undefined) void sendError(req, reply, 404, id === undefined ? `"${raw.slice(0, 80)}" is not an arXiv id.` : `There is no paper ${id} in this Paperboy instance.`);
  return paper;
}

interface Typed {
  authorName: string;
  evidence: string;
}

async function claimPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: PaperRef, status = 200, error?: string, typed?: Typed): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) return reply;
  const [names, verified, mine] = await Promise.all([
    authorNamesOf(ctx.database, paper.id),
    verifiedAuthorsOf(ctx.database, paper.id),
    claimOnPaper(ctx.database, viewer.id, paper.id),
  ]);
  const csrf = csrfField(ctx, req, reply);
  const form = html`<form method="post" action="${claimPath(paper.arxivId)}" class="claim-form">
${csrf}
<fieldset><legend>Which of the authors are you?</legend>
${names.map((name, i) => {
  const who = verified.get(name);
  return html`<div class="radio"><input type="radio" id="author-${i}" name="authorName" value="${name}"${typed?.authorName === name ? ' checked' : ''}${who === undefined ? '' : ' disabled'} required>
<label for="author-${i}">${name}${who === undefined ? '' : html` <span class="muted small">(verified as ${who.username})</span>`}</label></div>`;
})}
</fieldset>
<label for="evidence">Evidence (optional)</label>
<textarea id="evidence" name="evidence" rows="3" maxlength="${MAX_EVIDENCE}" aria-describedby="evidence-hint">${typed?.evidence ?? ''}</textarea>
<span class="small muted" id="evidence-hint">A homepage, an ORCID or an institutional address that links you to this paper; at most ${MAX_EVIDENCE} characters. Curators see it.</span>
<button type="submit">Claim authorship</button>
</form>`;
  const body = html`<h1>Claim authorship</h1>
<p>Of <a href="${paperPath(paper.arxivId)}">${paper.titleText}</a> (${paper.arxivId}).</p>
${error === undefined ? '' : notice(error, 'alert')}
${
  mine !== undefined
    ? html`<section aria-labelledby="mine-h"><h2 id="mine-h">Your claim</h2>
<p>You claimed to be <strong>${mine.authorName}</strong>: ${statusLine(mine)}</p>
${mine.status === 'pending' ? html`<p class="small muted">A curator will check it; you get an email when they decide.</p>` : ''}
${withdrawForm(csrf, mine)}
${mine.status === 'verified' ? toggleForm(csrf, mine, claimPath(paper.arxivId)) : ''}
</section>`
    : names.length === 0
      ? html`<p class="muted">This paper lists no authors to claim.</p>`
      : html`<p>Say which author you are; a curator of this instance verifies claims. Once verified, your comments on this paper carry an "author" badge and the paper shows on your profile.</p>${form}`
}
<p><a href="/claims">All my claims</a></p>`;
  return sendPrivatePage(reply, status, layout({ title: `Claim authorship · ${paper.titleText} · Paperboy` }, body));
}

async function postClaim(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) return reply;
  const paper = await paperFromUrl(ctx, req, reply, raw);
  if (paper === undefined) return reply;
  const form = ClaimForm.safeParse(req.body ?? {});
  if (!form.success) return claimPage(ctx, req, reply, paper, 400, form.error.issues.map((i) => i.message).join(' '));
  const result = await createClaim(ctx.database, viewer, paper.id, form.data);
  if (!result.ok) return claimPage(ctx, req, reply, paper, result.status, result.message, form.data);
  return reply.redirect(claimPath(paper.arxivId), 303);
}

function claimIdOf(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): number | undefined {
  if (CLAIM_ID_RE.test(req.params.id)) return Number(req.params.id);
  void sendError(req, reply, 404, `"${req.params.id.slice(0, 40)}" is not a claim number.`);
  return undefined;
}

function myClaimsBody(csrf: SafeHtml, claims: readonly Claim[], message?: SafeHtml): SafeHtml {
  return html`<h1>My authorship claims</h1>
${message ?? ''}
${
  claims.length === 0
    ? html`<p class="muted">None yet. Claim a paper you wrote from its page ("Claim authorship").</p>`
    : html`<ul class="claim-list">${claims.map(
        (c) => html`<li class="claim-item"><a href="${paperPath(c.arxivId)}">${c.paperTitle}</a> as <strong>${c.authorName}</strong>: ${statusLine(c)}
<span class="small muted">claimed ${c.createdAt.slice(0, 10)}</span>
<div class="claim-actions">${withdrawForm(csrf, c)}${c.status === 'verified' ? toggleForm(csrf, c, '/claims') : ''}</div></li>`,
      )}</ul>`
}`;
}

function queueItem(csrf: SafeHtml, claim: Claim, others: readonly Claim[], typedReason?: string): SafeHtml {
  return html`<li class="claim-item" id="claim-${claim.id}"><article aria-labelledby="claim-${claim.id}-h">
<h2 id="claim-${claim.id}-h"><a href="/u/${claim.username}">${claim.username}</a> as ${claim.authorName}</h2>
<p>On <a href="${paperPath(claim.arxivId)}">${claim.paperTitle}</a> (${claim.arxivId}), claimed ${claim.createdAt.slice(0, 10)}.</p>
<p>Evidence: ${claim.evidence === '' ? html`<span class="muted">none given</span>` : html`<q class="claim-evidence">${claim.evidence}</q>`}</p>
${
  others.length === 0
    ? html`<p class="small muted">No other claims by ${claim.username}.</p>`
    : html`<details><summary>${others.length} other ${others.length === 1 ? 'claim' : 'claims'} by ${claim.username}</summary><ul>${others.map(
        (o) => html`<li><a href="${paperPath(o.arxivId)}">${o.paperTitle}</a> as ${o.authorName}: ${STATUS_TEXT[o.status]}</li>`,
      )}</ul></details>`
}
<div class="claim-actions">
<form method="post" action="/admin/claims/${claim.id}/verify" class="inline-form">${csrf}<button type="submit">Verify ${claim.username} as ${claim.authorName}</button></form>
<form method="post" action="/admin/claims/${claim.id}/reject" class="reject-form">${csrf}
<label for="reason-${claim.id}">Reason for rejecting (the claimant sees it)</label>
<input type="text" id="reason-${claim.id}" name="reason" required maxlength="${MAX_REASON}" value="${typedReason ?? ''}">
<button type="submit" class="danger">Reject</button></form>
</div></article></li>`;
}

async function queuePage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status = 200, error?: { claimId: number; message: string; reason?: string }): Promise<FastifyReply> {
  const pending = await listClaims(ctx.database, 'pending');
  const byUser = new Map<number, Claim[]>();
  for (const userId of new Set(pending.map((c) => c.userId))) byUser.set(userId, await claimsOf(ctx.database, userId));
  const csrf = csrfField(ctx, req, reply);
  const body = html`<h1>Authorship claims</h1>
${error === undefined ? '' : notice(error.message, 'alert')}
<p>${pending.length === 0 ? 'No claims wait for a decision.' : `${pending.length} ${pending.length === 1 ? 'claim waits' : 'claims wait'} for a decision, oldest first.`}
Decisions go to the <a href="/moderation">moderation log</a> and are emailed to the claimant.</p>
${
  pending.length === 0
    ? ''
    : html`<ol class="claim-queue">${pending.map((c) =>
        queueItem(
          csrf,
          c,
          (byUser.get(c.userId) ?? []).filter((o) => o.id !== c.id),
          error?.claimId === c.id ? error.reason : undefined,
        ),
      )}</ol>`
}`;
  return sendPrivatePage(reply, status, layout({ title: 'Authorship claims · Admin · Paperboy' }, body));
}

function refusalPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, claimId: number, refusal: ClaimRefusal, reason?: string): Promise<FastifyReply> | FastifyReply {
  if (refusal.status === 404) return sendError(req, reply, 404, refusal.message);
  return queuePage(ctx, req, reply, refusal.status, { claimId, message: refusal.message, reason });
}

/** Registers the claim pages and forms. */
export function claimRoutes(ctx: AppContext): FastifyPluginAsync {
  const writes = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
  const curatorWrites = { config: { minRole: 'curator' as const, ...rateLimit(ctx.config, 'write') }, preHandler: requireWrite(ctx) };
  return async (app) => {
    const show = async (req: FastifyRequest, reply: FastifyReply, raw: string) => {
      const paper = await paperFromUrl(ctx, req, reply, raw);
      return paper === undefined ? reply : claimPage(ctx, req, reply, paper);
    };
    app.get<{ Params: { id: string } }>('/papers/:id/claim', { preHandler: requireUser }, (req, reply) => show(req, reply, req.params.id));
    app.get<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/claim', { preHandler: requireUser }, (req, reply) =>
      show(req, reply, `${req.params.archive}/${req.params.num}`),
    );
    app.post<{ Params: { id: string } }>('/papers/:id/claim', writes, (req, reply) => postClaim(ctx, req, reply, req.params.id));
    app.post<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/claim', writes, (req, reply) =>
      postClaim(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );

    app.get('/claims', { preHandler: requireUser }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      const claims = await claimsOf(ctx.database, viewer.id);
      return sendPrivatePage(reply, 200, layout({ title: 'My authorship claims · Paperboy' }, myClaimsBody(csrfField(ctx, req, reply), claims)));
    });

    app.post<{ Params: { id: string } }>('/claims/:id/withdraw', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = claimIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const result = await withdrawClaim(ctx.database, viewer.id, id);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.redirect('/claims', 303);
    });

    app.post<{ Params: { id: string } }>('/claims/:id/profile', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = claimIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = ToggleForm.safeParse(req.body ?? {});
      if (!form.success) return sendError(req, reply, 400, form.error.issues.map((i) => i.message).join(' '));
      const result = await setShowOnProfile(ctx.database, viewer.id, id, form.data.show === '1');
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.redirect(safeNext(form.data.next ?? '/claims'), 303);
    });

    app.get('/admin/claims', { config: { minRole: 'curator' } }, (req, reply) => queuePage(ctx, req, reply));

    app.post<{ Params: { id: string } }>('/admin/claims/:id/verify', curatorWrites, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = claimIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const result = await decideClaim(ctx.database, viewer, id, { verdict: 'verify' });
      if (!result.ok) return refusalPage(ctx, req, reply, id, result);
      mailDecision(ctx, result.claim);
      return reply.redirect('/admin/claims', 303);
    });

    app.post<{ Params: { id: string } }>('/admin/claims/:id/reject', curatorWrites, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = claimIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = RejectForm.safeParse(req.body ?? {});
      const reason = form.success ? form.data.reason : '';
      const result = await decideClaim(ctx.database, viewer, id, { verdict: 'reject', reason });
      if (!result.ok) return refusalPage(ctx, req, reply, id, result, reason);
      mailDecision(ctx, result.claim);
      return reply.redirect('/admin/claims', 303);
    });
  };
}
