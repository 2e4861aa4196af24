/**
 * The discussion in the browser: the thread on the paper page, the forms that
 * post, reply, edit and delete (each with its CSRF token, working without
 * JavaScript: 303 back to the comment on its paper's page), a permalink
 * `/comments/:id`, and the `/notifications` page with "mark all read".
 *
 * The paper page is never cached by the server and the thread is rendered for
 * its viewer (reply, edit and delete forms), so its ETag carries the viewer
 * and the thread's state (paper-page.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { roleAtLeast, type Viewer } from '../accounts/users.js';
import {
  createComment,
  deleteComment,
  editComment,
  findComment,
  findPaperRef,
  listComments,
  MAX_COMMENT_LENGTH,
  maySeeHidden,
  renderBodies,
  revisionsOf,
  thread,
  visibleComments,
  type Comment,
  type PaperRef,
  type Refusal,
  type Revision,
  type ThreadNode,
  type WriteResult,
} from '../community/comments.js';
import { emailNotices, listNotifications, markAllRead, type NotificationItem } from '../community/notifications.js';
import type { AppContext } from '../context.js';
import { threadLock, type ThreadLock } from '../moderation/locks.js';
import { REPORT_REASONS } from '../moderation/reports.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { csrfField, requireUser, requireWrite } from './auth.js';
import { csrfProtection } from './csrf.js';
import { shortDay } from './dates.js';
import { sendError } from './errors.js';
import { html, raw, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { rateLimit } from './rate-limits.js';
import { sendPrivatePage } from './private-page.js';

// Lengths are checked by src/community/comments.ts, whose message says by how much (Fastify's body limit caps the size).
const CommentForm = z.object({
  body: z.string({ error: 'Send one comment body.' }).default(''),
  parentId: z
    .string()
    .regex(/^\d{1,15}$/, 'parentId must be a comment number.')
    .transform(Number)
    .optional()
    .or(z.literal('').transform(() => undefined)),
});
const EditForm = z.object({
  body: z.string({ error: 'Send one comment body.' }).default(''),
  // A moderator changing someone else's comment says why (the moderation log).
  reason: z.string({ error: 'Send one reason.' }).max(500, 'reason: at most 500 characters.').optional(),
});
const DeleteForm = z.object({ reason: z.string({ error: 'Send one reason.' }).max(500, 'reason: at most 500 characters.').optional() });
const COMMENT_ID_RE = /^\d{1,15}$/;
const MARKDOWN_HINT = 'Markdown: *emphasis*, `code`, [links](https://…), > quotes, lists, $TeX$; @username notifies someone.';

/** Where a comment lives. */
export function commentPath(arxivId: string, commentId: number): string {
  return `/papers/${arxivId}#comment-${commentId}`;
}

/** Everything the thread of one paper shows, loaded once for both the ETag and the page. */
export interface Discussion {
  paper: PaperRef;
  nodes: ThreadNode[];
  /** The shown comments by id (a reply names its parent's author). */
  byId: Map<number, Comment>;
  html: Map<number, string>;
  revisions: Map<number, (Revision & { html: string })[]>;
  /** Changes whenever anything the thread shows changes. */
  version: string;
  /** The latest comment, edit or deletion, for Last-Modified. */
  lastChange: string | null;
  /** Set when moderators locked the discussion. */
  lock: ThreadLock | null;
  /** Usernames verified as authors of this paper: their comments carry the "author" badge. */
  verifiedAuthors: ReadonlySet<string>;
}

/**
 * Loads the thread of `paper`: visible comments, their rendered bodies and
 * their history. The page already knows its verified authors (its claims
 * part), so they are passed in rather than read again.
 */
export async function loadDiscussion(ctx: AppContext, paper: PaperRef, verifiedAuthors: ReadonlySet<string>): Promise<Discussion> {
  const all = await listComments(ctx.database, paper.id);
  const lock = await threadLock(ctx.database.db, paper.id);
  const shown = visibleComments(all);
  const history = await revisionsOf(
    ctx.database,
    shown.filter((c) => c.editedAt !== null).map((c) => c.id),
  );
  const revisionList = [...history.entries()];
  const bodies = [...shown.map((c) => c.body), ...revisionList.flatMap(([, rs]) => rs.map((r) => r.body))];
  const rendered = await renderBodies(ctx.database, bodies);
  const htmlById = new Map(shown.map((c, i) => [c.id, rendered[i] ?? '']));
  let next = shown.length;
  const revisions = new Map(revisionList.map(([id, rs]) => [id, rs.map((r) => ({ ...r, html: rendered[next++] ?? '' }))]));
  const state = [
    ...all.map((c) => `${c.id}:${c.editedAt ?? ''}:${c.deletedAt ?? ''}:${c.author?.username ?? ''}:${c.hidden?.at ?? ''}`),
    `lock:${lock?.lockedAt ?? ''}`,
  ].join(',');
  const times = [...all.flatMap((c) => [c.createdAt, c.editedAt ?? '', c.deletedAt ?? '', c.hidden?.at ?? '']), lock?.lockedAt ?? ''].sort();
  return {
    paper,
    verifiedAuthors,
    nodes: thread(shown),
    byId: new Map(shown.map((c) => [c.id, c])),
    html: htmlById,
    revisions,
    version: createHash('sha1').update(state).digest('base64url'),
    lastChange: times.at(-1) || null,
    lock,
  };
}

/** Who is looking, as far as the thread cares: a signed-in browser gets forms with its CSRF token. */
interface ThreadViewer {
  viewer: Viewer;
  csrf: SafeHtml;
}

function threadViewer(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): ThreadViewer | null {
  // Forms need a browser session; scripts with tokens use the API.
  if (req.auth?.via !== 'session') return null;
  return { viewer: req.auth.viewer, csrf: csrfField(ctx, req, reply) };
}

/** The viewer's part of the paper page's ETag: who they are, their unread count and the CSRF token their forms carry. */
export function viewerEtagPart(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): string {
  const auth = req.auth;
  if (auth?.via !== 'session') return 'anonymous';
  return `${auth.viewer.id}:${auth.viewer.role}:${auth.unread}:${csrfProtection(ctx.config).csrfToken(req, reply)}`;
}

function when(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${shortDay(iso)}, ${iso.slice(11, 16)} UTC</time>`;
}

function bodyField(id: string, value: string, label: string): SafeHtml {
  return html`<label for="${id}">${label}</label>
<textarea id="${id}" name="body" rows="5" required maxlength="${MAX_COMMENT_LENGTH}" aria-describedby="${id}-hint">${value}</textarea>
<span class="small muted" id="${id}-hint">${MARKDOWN_HINT}</span>`;
}

function commentForm(paper: PaperRef, tv: ThreadViewer, parentId: number | null, value = ''): SafeHtml {
  const id = parentId === null ? 'comment-new' : `reply-to-${parentId}`;
  return html`<form method="post" action="/papers/${paper.arxivId}/comments" class="comment-form">
${tv.csrf}
${parentId === null ? '' : html`<input type="hidden" name="parentId" value="${parentId}">`}
${bodyField(id, value, parentId === null ? 'Add a comment' : 'Your reply')}
<button type="submit">${parentId === null ? 'Post comment' : 'Post reply'}</button>
</form>`;
}

function historyBlock(d: Discussion, c: Comment): SafeHtml | string {
  if (c.editedAt === null) return '';
  const earlier = d.revisions.get(c.id) ?? [];
  return html`<details class="comment-history"><summary>edited ${when(c.editedAt)}</summary>
<p class="small muted">Earlier versions, oldest first:</p>
<ol>${earlier.map((r) => html`<li><p class="small muted">From ${when(r.createdAt)}:</p><div class="comment-body">${raw(r.html)}</div></li>`)}</ol>
</details>`;
}

function reasonField(id: string, label = 'Reason (shown in the public moderation log)'): SafeHtml {
  return html`<p class="field"><label for="${id}">${label}</label>
<input id="${id}" name="reason" type="text" required maxlength="500"></p>`;
}

/** A moderator's forms on someone else's comment: hide or show, edit and delete, each with a reason. */
function moderatorActions(c: Comment, tv: ThreadViewer): SafeHtml | string {
  if (!roleAtLeast(tv.viewer.role, 'moderator') || c.author?.id === tv.viewer.id) return '';
  return html`<details class="comment-moderate"><summary>Moderate</summary>
<form method="post" action="/comments/${c.id}/${c.hidden === null ? 'hide' : 'unhide'}" class="comment-form">
${tv.csrf}
${reasonField(`hide-reason-${c.id}`)}
<button type="submit" class="secondary">${c.hidden === null ? 'Hide comment' : 'Show comment again'}</button>
</form>
<form method="post" action="/comments/${c.id}/edit" class="comment-form">
${tv.csrf}
${bodyField(`moderate-edit-${c.id}`, c.body, 'Edit as moderator')}
${reasonField(`edit-reason-${c.id}`)}
<button type="submit">Save edit</button>
</form>
<form method="post" action="/comments/${c.id}/delete" class="comment-form">
${tv.csrf}
${reasonField(`delete-reason-${c.id}`)}
<button type="submit" class="danger">Delete comment</button>
</form>
</details>`;
}

/** Anyone signed in reports someone else's comment to the moderators. */
function reportForm(c: Comment, tv: ThreadViewer): SafeHtml | string {
  if (c.author?.id === tv.viewer.id || c.hidden !== null) return '';
  return html`<details class="comment-report"><summary>Report</summary>
<form method="post" action="/comments/${c.id}/report" class="comment-form">
${tv.csrf}
<fieldset><legend>Why should the moderators look at this comment?</legend>
${REPORT_REASONS.map((r, i) => html`<label><input type="radio" name="reason" value="${r}"${i === 0 ? ' required' : ''}> ${r}</label> `)}
</fieldset>
<p class="field"><label for="report-details-${c.id}">Details (optional)</label>
<textarea id="report-details-${c.id}" name="details" rows="2" maxlength="1000"></textarea></p>
<button type="submit" class="secondary">Send report</button>
</form></details>`;
}

function actions(d: Discussion, c: Comment, tv: ThreadViewer | null): SafeHtml | string {
  if (tv === null || c.deletedAt !== null) return '';
  const mine = c.author?.id === tv.viewer.id;
  return html`<div class="comment-actions">
${d.lock === null ? html`<details class="comment-reply"><summary>Reply</summary>${commentForm(d.paper, tv, c.id)}</details>` : ''}
${reportForm(c, tv)}
${moderatorActions(c, tv)}
${
  mine
    ? html`<details class="comment-edit"><summary>Edit</summary>
<form method="post" action="/comments/${c.id}/edit" class="comment-form">
${tv.csrf}
${bodyField(`edit-${c.id}`, c.body, 'Edit your comment')}
<button type="submit">Save</button>
</form></details>
<details class="comment-delete"><summary>Delete</summary>
<form method="post" action="/comments/${c.id}/delete" class="comment-form">
${tv.csrf}
<p class="small">Delete this comment? Its text and history go; replies stay, under "[deleted]".</p>
<button type="submit" class="danger">Delete comment</button>
</form></details>`
    : ''
}
</div>`;
}

function parentName(d: Discussion, parentId: number): string {
  const parent = d.byId.get(parentId);
  if (parent === undefined || parent.deletedAt !== null) return 'a deleted comment';
  return parent.author?.username ?? 'a deleted account';
}

function commentItem(d: Discussion, node: ThreadNode, tv: ThreadViewer | null): SafeHtml {
  const c = node.comment;
  const replies = node.replies.length === 0 ? '' : html`<ol class="comments replies">${node.replies.map((r) => commentItem(d, r, tv))}</ol>`;
  if (c.deletedAt !== null) {
    return html`<li><article class="comment deleted" id="comment-${c.id}" aria-label="Deleted comment">
<p class="muted">[deleted]</p>
</article>${replies}</li>`;
  }
  const author = c.author === null ? html`<span class="comment-author muted">[deleted account]</span>` : html`<a class="comment-author" href="/u/${c.author.username}">${c.author.username}</a>${
        d.verifiedAuthors.has(c.author.username) ? html` <span class="badge author-badge" title="Verified author of this paper">author</span>` : ''
      }`;
  return html`<li><article class="comment" id="comment-${c.id}" aria-label="Comment by ${c.author?.username ?? 'a deleted account'}">
${
    c.hidden === null
      ? ''
      : html`<p class="comment-hidden muted">[hidden by a moderator: ${c.hidden.reason}]</p>`
  }
<header class="comment-meta">${author} <a class="comment-time" href="#comment-${c.id}">${when(c.createdAt)}</a>${
    c.parentId === null ? '' : html` <span>replying to <a href="#comment-${c.parentId}">${parentName(d, c.parentId)}</a></span>`
  }
${c.hidden === null || maySeeHidden(c, tv?.viewer) ? historyBlock(d, c) : ''}</header>
${
    c.hidden === null
      ? html`<div class="comment-body">${raw(d.html.get(c.id) ?? '')}</div>`
      : maySeeHidden(c, tv?.viewer)
        ? html`<details class="hidden-body"><summary>Show the hidden text (you see it as ${c.author?.id === tv?.viewer.id ? 'its author' : 'a moderator'})</summary><div class="comment-body">${raw(d.html.get(c.id) ?? '')}</div></details>`
        : ''
  }
${actions(d, c, tv)}
</article>${replies}</li>`;
}

/** The discussion section of a paper page for this request's viewer. */
export function discussionSection(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, d: Discussion, count: number): SafeHtml {
  const tv = threadViewer(ctx, req, reply);
  const login = `/login?next=${encodeURIComponent(`/papers/${d.paper.arxivId}#discussion`)}`;
  return html`<section id="discussion" aria-labelledby="discussion-h"><h2 id="discussion-h">Discussion</h2>
<p>${count === 0 ? 'No comments yet.' : `${count} ${count === 1 ? 'comment' : 'comments'}.`}</p>
${d.nodes.length === 0 ? '' : html`<ol class="comments">${d.nodes.map((n) => commentItem(d, n, tv))}</ol>`}
${
  d.lock !== null
    ? html`<div class="notice" role="note"><p><strong>This discussion is locked</strong> by the moderators: ${d.lock.reason}. No new comments or replies.</p></div>`
    : tv === null
      ? html`<p><a href="${login}">Log in</a> or <a href="/signup">sign up</a> to comment.</p>`
      : commentForm(d.paper, tv, null)
}
</section>`;
}

/** A refused form, shown again with what the person wrote so nothing is lost. */
function refusedPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, refusal: Refusal, retry: { action: string; body: string; parentId?: number; paper: string; reason?: string }): FastifyReply {
  const tv = threadViewer(ctx, req, reply);
  const form =
    tv === null
      ? ''
      : html`<form method="post" action="${retry.action}" class="comment-form">
${tv.csrf}
${retry.parentId === undefined ? '' : html`<input type="hidden" name="parentId" value="${retry.parentId}">`}
${bodyField('comment-retry', retry.body, 'Your comment')}
${retry.reason === undefined ? '' : html`<p class="field"><label for="comment-retry-reason">Reason (shown in the public moderation log)</label><input id="comment-retry-reason" name="reason" type="text" required maxlength="500" value="${retry.reason}"></p>`}
<button type="submit">Try again</button>
</form>`;
  const body = html`<h1>Your comment was not saved</h1>
<div class="notice error" role="alert"><p>${refusal.message}</p></div>
${form}
<p><a href="/papers/${retry.paper}#discussion">Back to the discussion</a></p>`;
  return sendPrivatePage(reply, refusal.status, layout({ title: 'Comment not saved · Paperboy' }, body));
}

function paperOfComment(ctx: AppContext, c: Comment): Promise<PaperRef | undefined> {
  return ctx.database.db
    .selectFrom('papers')
    .select(['id', 'arxiv_id', 'title_text'])
    .where('id', '=', c.paperId)
    .executeTakeFirst()
    .then((r) => (r === undefined ? undefined : { id: r.id, arxivId: r.arxiv_id, titleText: r.title_text }));
}

/** Emails the people a committed write notified. */
export function sendNotices(ctx: AppContext, result: WriteResult, paper: PaperRef, author: Viewer): void {
  if (!result.ok || result.notices.length === 0) return;
  emailNotices(ctx, result.notices, {
    commentId: result.comment.id,
    body: result.comment.body,
    authorUsername: author.username,
    paperArxivId: paper.arxivId,
    paperTitle: paper.titleText,
  });
}

async function postComment(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, rawId: string): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  // requireWrite ran first; this only narrows the type.
  if (viewer === undefined) return sendError(req, reply, 401, 'Log in to comment.');
  const arxivId = parseArxivId(rawId)?.id;
  if (arxivId === undefined) return sendError(req, reply, 404, `"${rawId.slice(0, 80)}" is not an arXiv id.`);
  const paper = await findPaperRef(ctx.database, arxivId);
  if (paper === undefined) return sendError(req, reply, 404, `There is no paper ${arxivId} in this Paperboy instance.`);
  const action = `/papers/${paper.arxivId}/comments`;
  const form = CommentForm.safeParse(req.body ?? {});
  if (!form.success) {
    const message = form.error.issues.map((i) => i.message).join(' ');
    return refusedPage(ctx, req, reply, { ok: false, status: 400, message }, { action, body: '', paper: paper.arxivId });
  }
  const parentId = form.data.parentId ?? null;
  const result = await createComment(ctx.database, { paper, author: viewer, body: form.data.body, parentId });
  if (!result.ok) {
    return refusedPage(ctx, req, reply, result, { action, body: form.data.body, parentId: parentId ?? undefined, paper: paper.arxivId });
  }
  sendNotices(ctx, result, paper, viewer);
  return reply.redirect(commentPath(paper.arxivId, result.comment.id), 303);
}

function commentIdOf(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): number | undefined {
  if (COMMENT_ID_RE.test(req.params.id)) return Number(req.params.id);
  void sendError(req, reply, 404, `"${req.params.id.slice(0, 40)}" is not a comment number.`);
  return undefined;
}

/** Registers the comment forms, the permalink and the notifications page. */
export function commentRoutes(ctx: AppContext): FastifyPluginAsync {
  const writes = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
  return async (app) => {
    app.post<{ Params: { id: string } }>('/papers/:id/comments', writes, (req, reply) => postComment(ctx, req, reply, req.params.id));
    app.post<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/comments', writes, (req, reply) =>
      postComment(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );

    app.post<{ Params: { id: string } }>('/comments/:id/edit', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = commentIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = EditForm.safeParse(req.body ?? {});
      const body = form.success ? form.data.body : '';
      const result: WriteResult = form.success
        ? await editComment(ctx.database, { id, viewer, body, reason: form.data.reason })
        : { ok: false, status: 400, message: form.error.issues.map((i) => i.message).join(' ') };
      if (!result.ok) {
        if (result.status === 403 || result.status === 404) return sendError(req, reply, result.status, result.message);
        const comment = await findComment(ctx.database.db, id);
        const paper = comment === undefined ? undefined : await paperOfComment(ctx, comment);
        // A moderator editing someone else's comment gets the reason field back too.
        const reason = comment !== undefined && comment.author?.id !== viewer.id ? (form.success ? (form.data.reason ?? '') : '') : undefined;
        return refusedPage(ctx, req, reply, result, { action: `/comments/${id}/edit`, body, paper: paper?.arxivId ?? '', reason });
      }
      const paper = await paperOfComment(ctx, result.comment);
      if (paper !== undefined) sendNotices(ctx, result, paper, viewer);
      return reply.redirect(commentPath(paper?.arxivId ?? '', id), 303);
    });

    app.post<{ Params: { id: string } }>('/comments/:id/delete', { preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const id = commentIdOf(req, reply);
      if (viewer === undefined || id === undefined) return reply;
      const form = DeleteForm.safeParse(req.body ?? {});
      if (!form.success) return sendError(req, reply, 400, form.error.issues.map((i) => i.message).join(' '));
      const result = await deleteComment(ctx.database, { id, viewer, reason: form.data.reason });
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      const paper = await paperOfComment(ctx, result.comment);
      return reply.redirect(`/papers/${paper?.arxivId ?? ''}#discussion`, 303);
    });

    // A comment's permanent link (notification emails, the API's `url`): its place on its paper's page.
    app.get<{ Params: { id: string } }>('/comments/:id', async (req, reply) => {
      const id = commentIdOf(req, reply);
      if (id === undefined) return reply;
      const comment = await findComment(ctx.database.db, id);
      const paper = comment === undefined ? undefined : await paperOfComment(ctx, comment);
      if (comment === undefined || paper === undefined) return sendError(req, reply, 404, `There is no comment ${id}.`);
      return reply.redirect(commentPath(paper.arxivId, id), 302);
    });

    app.get('/notifications', { preHandler: requireUser }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      const items = await listNotifications(ctx.database, viewer.id);
      return sendPrivatePage(reply, 200, layout({ title: 'Notifications · Paperboy' }, notificationsBody(ctx, req, reply, items)));
    });

    app.post('/notifications/read', { preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      await markAllRead(ctx.database, viewer.id);
      return reply.redirect('/notifications', 303);
    });
  };
}

function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function notificationsBody(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, items: NotificationItem[]): SafeHtml {
  const unread = items.filter((i) => !i.read).length;
  return html`<h1>Notifications</h1>
${
  unread === 0
    ? html`<p class="muted">${items.length === 0 ? 'Nothing yet.' : 'All read.'} You are notified here, and by email, when someone replies to your comments or mentions you as @username.</p>`
    : html`<form method="post" action="/notifications/read" class="inline-form">${csrfField(ctx, req, reply)}<p>${unread} unread. <button type="submit" class="secondary">Mark all read</button></p></form>`
}
${
  items.length === 0
    ? ''
    : html`<ol class="notifications">${items.map(
        (n) => html`<li class="notification${n.read ? '' : ' unread'}">
${n.read ? '' : html`<span class="badge">New</span> `}<strong>${n.actor ?? 'Someone'}</strong> ${n.kind === 'reply' ? 'replied to your comment' : 'mentioned you'} on
<a href="${commentPath(n.paperArxivId, n.commentId)}">${n.paperTitle}</a>
<span class="small muted">${when(n.createdAt)}</span>
<blockquote class="small">${excerpt(n.commentBody)}</blockquote>
</li>`,
      )}</ol>`
}`;
}
