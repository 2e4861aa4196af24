/**
 * Public profiles at /u/:username: who someone is on this instance and what
 * they contributed (papers they are a verified author of, papers they
 * submitted, public collections, recent comments), with a follow button.
 * Only public activity is shown: upvotes, email, sessions and private
 * collections stay private. The owner also gets the "show on profile"
 * toggles of their verified papers.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { loadProfile } from '../people/profiles.js';
import { csrfField } from './auth.js';
import { paperPath } from './card.js';
import { sendError } from './errors.js';
import { followButton } from './follow-button.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { sendPrivatePage } from './private-page.js';

function none(): SafeHtml {
  return html`<p class="muted">None yet.</p>`;
}

/** Registers the profile pages. */
export function profileRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { username: string } }>('/u/:username', async (req, reply) => {
      const name = req.params.username;
      const viewer = req.auth?.via === 'session' ? req.auth.viewer : null;
      const profile = await loadProfile(ctx.database, name, viewer?.id ?? null);
      if (profile === undefined) return sendError(req, reply, 404, `There is no user ${name}.`);
      const owner = viewer !== null && viewer.id === profile.id;
      const path = `/u/${profile.username}`;
      const csrf = owner ? csrfField(ctx, req, reply) : null;
      const follow = owner ? '' : await followButton(ctx, req, reply, { kind: 'user', target: String(profile.id), label: profile.username, next: path });
      const restriction = profile.restriction;
      const body = html`<h1>${profile.username}</h1>
<p class="muted">Member since ${profile.createdAt.slice(0, 10)}${profile.role === 'user' ? '' : html` · <span class="badge">${profile.role}</span>`}</p>
${
  restriction === null
    ? ''
    : html`<div class="notice" role="note"><p>${
        restriction.kind === 'banned'
          ? 'This account is banned by the moderators.'
          : `This account is suspended until ${restriction.until.slice(0, 10)}.`
      } See the <a href="/moderation">moderation log</a>.</p></div>`
}
${follow}
<section aria-labelledby="authored-h"><h2 id="authored-h">Verified author of</h2>
${
  profile.claims.length === 0
    ? html`<p class="muted">${owner ? html`No verified papers yet. Claim one from its page; see <a href="/claims">your claims</a>.` : 'None yet.'}</p>`
    : html`<ul class="plain-list">${profile.claims.map(
        (c) => html`<li><a href="${paperPath(c.arxivId)}">${c.paperTitle}</a> <span class="muted">· as ${c.authorName}</span>${
          csrf === null
            ? ''
            : html`${c.showOnProfile ? '' : html` <span class="badge">hidden from others</span>`}
<form method="post" action="/claims/${c.id}/profile" class="inline-form">${csrf}
<input type="hidden" name="show" value="${c.showOnProfile ? '0' : '1'}"><input type="hidden" name="next" value="${path}">
<button type="submit" class="secondary small">${c.showOnProfile ? 'Hide from profile' : 'Show on profile'}</button></form>`
        }</li>`,
      )}</ul>`
}
</section>
<section aria-labelledby="submitted-h"><h2 id="submitted-h">Submitted papers</h2>
${
  profile.submissions.length === 0
    ? none()
    : html`<ul class="plain-list">${profile.submissions.map((s) => html`<li><a href="${paperPath(s.arxivId)}">${s.title}</a> <span class="muted">· ${s.featuredOn}</span></li>`)}</ul>`
}
</section>
<section aria-labelledby="collections-h"><h2 id="collections-h">Public collections</h2>
${
  profile.collections.length === 0
    ? none()
    : html`<ul class="plain-list">${profile.collections.map(
        (c) => html`<li><a href="/collections/${c.id}">${c.name}</a> <span class="muted">· ${c.paperCount} ${c.paperCount === 1 ? 'paper' : 'papers'}</span></li>`,
      )}</ul>`
}
</section>
<section aria-labelledby="comments-h"><h2 id="comments-h">Recent comments</h2>
${
  profile.comments.length === 0
    ? none()
    : html`<ul class="plain-list">${profile.comments.map((c) => html`<li>On <a href="${paperPath(c.arxivId)}#comment-${c.id}">${c.title}</a> <span class="muted">· ${c.createdAt.slice(0, 10)}</span></li>`)}</ul>`
}
</section>`;
      const page = layout({ title: `${profile.username} · Paperboy` }, body);
      // The follow button and the owner's toggles carry this browser's CSRF token.
      if (viewer !== null) return sendPrivatePage(reply, 200, page);
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page.value);
    });
  };
}
