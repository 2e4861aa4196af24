/**
 * Comments in the JSON API:
 * - `GET /api/papers/{id}/comments`: a paper's thread, flat and oldest first,
 *   each comment naming its `parentId`.
 * - `POST /api/papers/{id}/comments` `{body, parentId?}`: 201 with the comment.
 * - `GET /api/comments/{id}`: one comment with its earlier versions.
 * - `PATCH /api/comments/{id}` `{body, reason?}`, `DELETE /api/comments/{id}`
 *   `{reason?}` (204): the author's own comments, or a moderator's on anyone
 *   of a lower role with a reason (403 otherwise).
 * - A hidden comment shows its moderator's reason; its body only to its
 *   author and moderators.
 *
 * Writes take a session with its CSRF header or a token with the write scope
 * (requireWrite); posting and editing count against the per-person write
 * limit. The rules live in src/community/comments.ts.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  createComment,
  deleteComment,
  editComment,
  findComment,
  findPaperRef,
  listComments,
  maySeeHidden,
  renderBodies,
  revisionsOf,
  visibleComments,
  type Comment,
  type PaperRef,
} from '../community/comments.js';
import type { Viewer } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { verifiedAuthorsOf } from '../people/claims.js';
import { requireWrite } from '../web/auth.js';
import { sendNotices } from '../web/comment-routes.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { validate } from './routes.js';
import {
  CommentDeleteBody,
  CommentEditBody,
  CommentIdParams,
  EmptyQuery,
  NewCommentBody,
  OldStylePaperIdParams,
  PaperIdParams,
  type Comment as CommentJson,
  type CommentWithHistory,
} from './schemas.js';

/** Ids of the people verified as authors of a paper, for `authorIsVerifiedAuthor`. */
async function authorIdsOf(ctx: AppContext, paperId: number): Promise<ReadonlySet<number>> {
  return new Set([...(await verifiedAuthorsOf(ctx.database, paperId)).values()].map((v) => v.userId));
}

/** True when `viewer` must not see the body of `c`: hidden by a moderator, and they are neither its author nor a moderator. */
function concealed(c: Comment, viewer: Viewer | null): boolean {
  return c.hidden !== null && !maySeeHidden(c, viewer);
}

function present(ctx: AppContext, c: Comment, arxivId: string, bodyHtml: string, authorIds: ReadonlySet<number>, viewer: Viewer | null): CommentJson {
  const deleted = c.deletedAt !== null;
  const withheld = deleted || concealed(c, viewer);
  return {
    id: c.id,
    paperId: arxivId,
    parentId: c.parentId,
    author: deleted || c.author === null ? null : { username: c.author.username },
    authorIsVerifiedAuthor: !deleted && c.author !== null && authorIds.has(c.author.id),
    body: withheld ? null : c.body,
    bodyHtml: withheld ? null : bodyHtml,
    hidden: !deleted && c.hidden !== null,
    hiddenReason: deleted ? null : (c.hidden?.reason ?? null),
    createdAt: c.createdAt,
    editedAt: deleted ? null : c.editedAt,
    deleted,
    url: `${ctx.config.baseUrl}/papers/${arxivId}#comment-${c.id}`,
  };
}

async function presentOne(ctx: AppContext, c: Comment, paper: PaperRef, viewer: Viewer): Promise<CommentJson> {
  const [bodyHtml = ''] = await renderBodies(ctx.database, [c.body]);
  return present(ctx, c, paper.arxivId, bodyHtml, await authorIdsOf(ctx, paper.id), viewer);
}

/** The paper a route names (new- or old-style id), or undefined once the 400 or 404 is sent. */
export async function paperOf(ctx: AppContext, text: string, req: FastifyRequest, reply: FastifyReply): Promise<PaperRef | undefined> {
  const parsed = parseArxivId(text);
  if (parsed === null) {
    void sendError(req, reply, 400, `Invalid request: "${text.slice(0, 80)}" is not an arXiv id.`);
    return undefined;
  }
  const paper = await findPaperRef(ctx.database, parsed.id);
  if (paper === undefined) void sendError(req, reply, 404, `No paper ${parsed.id} in this instance.`);
  return paper;
}

async function paperById(ctx: AppContext, id: number): Promise<PaperRef> {
  const row = await ctx.database.db.selectFrom('papers').select(['id', 'arxiv_id', 'title_text']).where('id', '=', id).executeTakeFirstOrThrow();
  return { id: row.id, arxivId: row.arxiv_id, titleText: row.title_text };
}

async function listThread(ctx: AppContext, paperText: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
  const paper = await paperOf(ctx, paperText, req, reply);
  if (paper === undefined) return reply;
  const shown = visibleComments(await listComments(ctx.database, paper.id));
  const bodies = await renderBodies(
    ctx.database,
    shown.map((c) => c.body),
  );
  // Comments change at any time: revalidate every time (the ETag makes that cheap).
  const authorIds = await authorIdsOf(ctx, paper.id);
  reply.header('cache-control', 'no-cache');
  return reply.send(shown.map((c, i) => present(ctx, c, paper.arxivId, bodies[i] ?? '', authorIds, req.auth?.viewer ?? null)));
}

async function postToThread(ctx: AppContext, paperText: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  // requireWrite ran first; this only narrows the type.
  if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
  if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
  const input = validate(NewCommentBody, req.body, req, reply);
  if (input === undefined) return reply;
  const paper = await paperOf(ctx, paperText, req, reply);
  if (paper === undefined) return reply;
  const result = await createComment(ctx.database, { paper, author: viewer, body: input.body, parentId: input.parentId ?? null });
  if (!result.ok) return sendError(req, reply, result.status, result.message);
  sendNotices(ctx, result, paper, viewer);
  return reply
    .code(201)
    .header('cache-control', 'no-store')
    .header('location', `${ctx.config.baseUrl}/api/comments/${result.comment.id}`)
    .send(await presentOne(ctx, result.comment, paper, viewer));
}

/** Registers the comment endpoints (under the /api prefix). */
export function commentApiRoutes(ctx: AppContext): FastifyPluginAsync {
  const writes = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
  return async (app) => {
    app.get('/papers/:id/comments', async (req, reply) => {
      const params = validate(PaperIdParams, req.params, req, reply);
      return params === undefined ? reply : listThread(ctx, params.id, req, reply);
    });
    app.get('/papers/:archive/:number/comments', async (req, reply) => {
      const params = validate(OldStylePaperIdParams, req.params, req, reply);
      return params === undefined ? reply : listThread(ctx, `${params.archive}/${params.number}`, req, reply);
    });
    app.post('/papers/:id/comments', writes, async (req, reply) => {
      const params = validate(PaperIdParams, req.params, req, reply);
      return params === undefined ? reply : postToThread(ctx, params.id, req, reply);
    });
    app.post('/papers/:archive/:number/comments', writes, async (req, reply) => {
      const params = validate(OldStylePaperIdParams, req.params, req, reply);
      return params === undefined ? reply : postToThread(ctx, `${params.archive}/${params.number}`, req, reply);
    });

    app.get('/comments/:id', async (req, reply) => {
      const params = validate(CommentIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const comment = await findComment(ctx.database.db, params.id);
      if (comment === undefined) return sendError(req, reply, 404, `There is no comment ${params.id}.`);
      const paper = await paperById(ctx, comment.paperId);
      const viewer = req.auth?.viewer ?? null;
      const revisions = comment.deletedAt === null && !concealed(comment, viewer) ? ((await revisionsOf(ctx.database, [comment.id])).get(comment.id) ?? []) : [];
      const [bodyHtml = '', ...revisionHtml] = await renderBodies(ctx.database, [comment.body, ...revisions.map((r) => r.body)]);
      const out: CommentWithHistory = {
        ...present(ctx, comment, paper.arxivId, bodyHtml, await authorIdsOf(ctx, paper.id), viewer),
        revisions: revisions.map((r, i) => ({ body: r.body, bodyHtml: revisionHtml[i] ?? '', createdAt: r.createdAt })),
      };
      reply.header('cache-control', 'no-cache');
      return reply.send(out);
    });

    app.patch('/comments/:id', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const params = validate(CommentIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const input = validate(CommentEditBody, req.body, req, reply);
      if (input === undefined) return reply;
      const result = await editComment(ctx.database, { id: params.id, viewer, body: input.body, reason: input.reason });
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      const paper = await paperById(ctx, result.comment.paperId);
      sendNotices(ctx, result, paper, viewer);
      return reply.header('cache-control', 'no-store').send(await presentOne(ctx, result.comment, paper, viewer));
    });

    app.delete('/comments/:id', { preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const params = validate(CommentIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const input = validate(CommentDeleteBody, req.body ?? {}, req, reply);
      if (input === undefined) return reply;
      const result = await deleteComment(ctx.database, { id: params.id, viewer, reason: input.reason });
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.code(204).send();
    });
  };
}
