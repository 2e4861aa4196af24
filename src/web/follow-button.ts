/**
 * The Follow / Unfollow button of author pages and profiles. Both post to
 * /following (src/web/following-pages.ts), which returns to `next`. A
 * signed-out visitor gets a link to sign in and come back.
 *
 * Only pages rendered per request may show it (it holds the viewer's CSRF
 * token and state); cached pages (category feeds) link to /following?follow=…
 * instead, which shows this button.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { isFollowing, type FollowTarget } from '../people/follows.js';
import { csrfField } from './auth.js';
import { html, type SafeHtml } from './html.js';

export interface FollowButtonOptions extends FollowTarget {
  /** What is followed, as people read it: "Ada Lovelace", "cs.LG", "ada". */
  label: string;
  /** Where to return after following (this page). */
  next: string;
}

/** The button for this request's viewer. */
export async function followButton(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, options: FollowButtonOptions): Promise<SafeHtml> {
  const auth = req.auth;
  if (auth?.via !== 'session') {
    return html`<p class="follow"><a href="/login?next=${encodeURIComponent(options.next)}">Log in to follow ${options.label}</a></p>`;
  }
  const following = await isFollowing(ctx.database, auth.viewer.id, options);
  return html`<form method="post" action="${following ? '/following/remove' : '/following'}" class="follow inline-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="kind" value="${options.kind}">
<input type="hidden" name="target" value="${options.target}">
<input type="hidden" name="next" value="${options.next}">
<button type="submit"${following ? html` class="secondary" aria-pressed="true"` : ''}>${following ? `Following ${options.label} · Unfollow` : `Follow ${options.label}`}</button>
</form>`;
}
