/**
 * Public profiles at /u/:username: who someone is on this instance and what
 * they contributed (papers they submitted, their recent comments). Only
 * public activity is shown: upvotes, email and sessions stay private.
 */
import type { FastifyPluginAsync } from 'fastify';
import { usernameKey, USERNAME_RE } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import { paperPath } from './card.js';
import { sendError } from './errors.js';
import { html } from './html.js';
import { layout } from './layout.js';

const RECENT = 20;

export function profileRoutes(ctx: AppContext): FastifyPluginAsync {
  const { db } = ctx.database;
  return async (app) => {
    app.get<{ Params: { username: string } }>('/u/:username', async (req, reply) => {
      const name = req.params.username;
      if (!USERNAME_RE.test(name)) return sendError(req, reply, 404, `There is no user ${name}.`);
      const user = await db.selectFrom('users').select(['id', 'username', 'role', 'created_at']).where('username_key', '=', usernameKey(name)).executeTakeFirst();
      if (user === undefined) return sendError(req, reply, 404, `There is no user ${name}.`);
      const [submissions, comments] = await Promise.all([
        db
          .selectFrom('featured')
          .innerJoin('papers', 'papers.id', 'featured.paper_id')
          .select(['papers.arxiv_id', 'papers.title_text', 'featured.featured_on'])
          .where('featured.source', '=', 'submission')
          .where('featured.featured_by', '=', user.username)
          .where('featured.hidden_at', 'is', null)
          .orderBy('featured.featured_at', 'desc')
          .limit(RECENT)
          .execute(),
        db
          .selectFrom('comments')
          .innerJoin('papers', 'papers.id', 'comments.paper_id')
          .select(['comments.id', 'comments.created_at', 'papers.arxiv_id', 'papers.title_text'])
          .where('comments.user_id', '=', user.id)
          .where('comments.deleted_at', 'is', null)
          .orderBy('comments.id', 'desc')
          .limit(RECENT)
          .execute(),
      ]);
      const body = html`<h1>${user.username}</h1>
<p class="muted">Member since ${user.created_at.slice(0, 10)}${user.role === 'user' ? '' : html` · <span class="badge">${user.role}</span>`}</p>
<section aria-labelledby="submitted-h"><h2 id="submitted-h">Submitted papers</h2>
${
  submissions.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<ul class="plain-list">${submissions.map((s) => html`<li><a href="${paperPath(s.arxiv_id)}">${s.title_text}</a> <span class="muted">· ${s.featured_on}</span></li>`)}</ul>`
}
</section>
<section aria-labelledby="comments-h"><h2 id="comments-h">Recent comments</h2>
${
  comments.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<ul class="plain-list">${comments.map((c) => html`<li>On <a href="${paperPath(c.arxiv_id)}#comment-${c.id}">${c.title_text}</a> <span class="muted">· ${c.created_at.slice(0, 10)}</span></li>`)}</ul>`
}
</section>`;
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(layout({ title: `${user.username} · Paperboy` }, body).value);
    });
  };
}
