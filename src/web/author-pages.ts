/**
 * Author pages `/authors/:name`: every paper with that exact parsed author
 * name, newest first (`?before=` pages back), the people verified as that
 * author on this instance, and a follow button. Rendered per request (the
 * button is the viewer's), never cached by the server.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { entriesByIds } from '../feeds/feed.js';
import { decodeAuthorCursor, encodeAuthorCursor, paperCountOf, papersByAuthor } from '../people/authors.js';
import { verifiedPeopleNamed } from '../people/claims.js';
import { MAX_AUTHOR_NAME } from '../people/follows.js';
import { paperCard } from './card.js';
import { sendError } from './errors.js';
import { followButton } from './follow-button.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { authorPath } from './paper-page.js';

const PAGE_SIZE = 25;
const AuthorQuery = z.strictObject({ before: z.string({ error: 'before must be given once.' }).optional() });

/** Registers the author pages. */
export function authorRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { name: string } }>('/authors/:name', async (req, reply) => {
      const name = req.params.name;
      if (name.trim() === '' || name.length > MAX_AUTHOR_NAME) return sendError(req, reply, 404, 'There is no author by that name in this Paperboy instance.');
      const query = AuthorQuery.safeParse(req.query ?? {});
      if (!query.success) return sendError(req, reply, 400, query.error.issues.map((i) => i.message).join(' '));
      const before = query.data.before === undefined ? undefined : decodeAuthorCursor(query.data.before);
      if (before === null) return sendError(req, reply, 400, '"before" is not a position from this page; follow the "Older papers" link.');
      const [total, page, people] = await Promise.all([
        paperCountOf(ctx.database, name),
        papersByAuthor(ctx.database, name, { before, limit: PAGE_SIZE }),
        verifiedPeopleNamed(ctx.database, name),
      ]);
      if (total === 0) {
        return sendError(req, reply, 404, `No paper in this Paperboy instance has an author named "${name}". Names match exactly as on the paper: try the search.`);
      }
      const entries = await entriesByIds(ctx.database, page.ids);
      const path = authorPath(name);
      const follow = await followButton(ctx, req, reply, { kind: 'author', target: name, label: name, next: path });
      const body = html`<h1>${name}</h1>
<p class="muted">${total} ${total === 1 ? 'paper' : 'papers'} in this instance list an author named exactly "${name}".</p>
${
  people.length === 0
    ? ''
    : html`<p class="verified-people">${people.map(
        (p, i) => html`${i > 0 ? ', ' : ''}<a class="verified-author" href="/u/${p.username}">✓ claimed by ${p.username}</a> <span class="small muted">(${p.papers} ${p.papers === 1 ? 'paper' : 'papers'} verified)</span>`,
      )}</p>`
}
${follow}
<section aria-labelledby="papers-h"><h2 id="papers-h">Papers</h2>
${entries.length === 0 ? html`<p class="muted">No older papers.</p>` : html`<ol class="cards">${entries.map((e) => paperCard(e, { heading: 3 }))}</ol>`}
</section>
<nav aria-label="Pages" class="pager">
${before === undefined ? '' : html`<a href="${path}">Newest papers</a>`}
${page.next === null ? '' : html`<a rel="next" href="${path}?before=${encodeURIComponent(encodeAuthorCursor(page.next))}">Older papers</a>`}
</nav>`;
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(layout({ title: `${name} · Paperboy` }, body).value);
    });
  };
}
