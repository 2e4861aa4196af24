/**
 * Curation and moderation in the JSON API: feature and unfeature a paper
 * (curators), lock and unlock its discussion (moderators), hide and show a
 * comment (moderators), report a comment (anyone signed in), and the public
 * moderation log. The rules live in src/moderation/ and src/feeds/featuring.ts;
 * every staff route declares its least role (src/web/auth.ts enforces it).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PaperRef } from '../community/comments.js';
import type { AppContext } from '../context.js';
import { curatorFeature, curatorUnfeature, FeatureError } from '../feeds/featuring.js';
import { hideComment, unhideComment } from '../moderation/hiding.js';
import { lockThread, unlockThread } from '../moderation/locks.js';
import { listModeration, type ModerationAction } from '../moderation/log.js';
import { reportComment } from '../moderation/reports.js';
import { requireWrite } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { paperOf } from './comment-routes.js';
import { validate } from './routes.js';
import {
  CommentIdParams,
  EmptyQuery,
  FeatureBody,
  ModerationLogQuery,
  ModerationReasonBody,
  OldStylePaperIdParams,
  PaperIdParams,
  ReportBody,
  type ModerationDone,
  type ModerationLogPage,
  type Report,
} from './schemas.js';

type PaperHandler = (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: PaperRef) => Promise<FastifyReply>;

function done(reply: FastifyReply, action: ModerationAction, subject: string | number, reason: string): FastifyReply {
  const out: ModerationDone = { action, subject: String(subject), reason };
  return reply.header('cache-control', 'no-store').send(out);
}


const feature: PaperHandler = async (ctx, req, reply, paper) => {
  const viewer = req.auth?.viewer;
  const input = validate(FeatureBody, req.body, req, reply);
  if (viewer === undefined || input === undefined) return reply;
  const on = input.day ?? new Date().toISOString().slice(0, 10);
  try {
    await curatorFeature(ctx.database, viewer, { arxivId: paper.arxivId, on, reason: input.reason });
  } catch (err) {
    if (err instanceof FeatureError && err.code === 'already_featured') {
      return sendError(req, reply, 409, `${paper.arxivId} is already featured on ${err.existing?.on ?? 'a day'}; unfeature it first to move it.`);
    }
    throw err;
  }
  return done(reply, 'feature_paper', paper.arxivId, input.reason);
};

const unfeature: PaperHandler = async (ctx, req, reply, paper) => {
  const viewer = req.auth?.viewer;
  const input = validate(ModerationReasonBody, req.body, req, reply);
  if (viewer === undefined || input === undefined) return reply;
  if (!(await curatorUnfeature(ctx.database, viewer, { arxivId: paper.arxivId, reason: input.reason }))) {
    return sendError(req, reply, 409, `${paper.arxivId} is not featured.`);
  }
  return done(reply, 'unfeature_paper', paper.arxivId, input.reason);
};

function lockHandler(locking: boolean): PaperHandler {
  return async (ctx, req, reply, paper) => {
    const viewer = req.auth?.viewer;
    const input = validate(ModerationReasonBody, req.body, req, reply);
    if (viewer === undefined || input === undefined) return reply;
    const result = await (locking ? lockThread : unlockThread)(ctx.database, viewer, paper, input.reason);
    if (!result.ok) return sendError(req, reply, result.status, result.message);
    return done(reply, locking ? 'lock_thread' : 'unlock_thread', paper.arxivId, input.reason);
  };
}

/** Registers the moderation endpoints (under the /api prefix). */
export function moderationApiRoutes(ctx: AppContext): FastifyPluginAsync {
  const staff = (minRole: 'curator' | 'moderator') => ({ config: { minRole, ...rateLimit(ctx.config, 'write') }, preHandler: requireWrite(ctx) });
  return async (app) => {
    const paperRoutes: ['post' | 'delete', string, 'curator' | 'moderator', PaperHandler][] = [
      ['post', 'feature', 'curator', feature],
      ['delete', 'feature', 'curator', unfeature],
      ['post', 'lock', 'moderator', lockHandler(true)],
      ['delete', 'lock', 'moderator', lockHandler(false)],
    ];
    for (const [method, name, minRole, handler] of paperRoutes) {
      app[method](`/papers/:id/${name}`, staff(minRole), async (req, reply) => {
        const params = validate(PaperIdParams, req.params, req, reply);
        if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
        const paper = await paperOf(ctx, params.id, req, reply);
        return paper === undefined ? reply : handler(ctx, req, reply, paper);
      });
      app[method](`/papers/:archive/:number/${name}`, staff(minRole), async (req, reply) => {
        const params = validate(OldStylePaperIdParams, req.params, req, reply);
        if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
        const paper = await paperOf(ctx, `${params.archive}/${params.number}`, req, reply);
        return paper === undefined ? reply : handler(ctx, req, reply, paper);
      });
    }

    app.post('/comments/:id/reports', { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      const params = validate(CommentIdParams, req.params, req, reply);
      if (viewer === undefined || params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const input = validate(ReportBody, req.body, req, reply);
      if (input === undefined) return reply;
      const details = input.details ?? '';
      const result = await reportComment(ctx.database, viewer, { commentId: params.id, reason: input.reason, details });
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      const out: Report = { id: result.id, commentId: params.id, reason: input.reason, details: details.trim(), createdAt: result.createdAt };
      return reply.code(201).header('cache-control', 'no-store').send(out);
    });

    for (const [method, hiding] of [['post', true], ['delete', false]] as const) {
      app[method]('/comments/:id/hide', staff('moderator'), async (req, reply) => {
        const viewer = req.auth?.viewer;
        const params = validate(CommentIdParams, req.params, req, reply);
        if (viewer === undefined || params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
        const input = validate(ModerationReasonBody, req.body, req, reply);
        if (input === undefined) return reply;
        const result = await (hiding ? hideComment : unhideComment)(ctx.database, viewer, params.id, input.reason);
        if (!result.ok) return sendError(req, reply, result.status, result.message);
        return done(reply, hiding ? 'hide_comment' : 'unhide_comment', params.id, input.reason);
      });
    }

    app.get('/moderation', async (req, reply) => {
      const query = validate(ModerationLogQuery, req.query, req, reply);
      if (query === undefined) return reply;
      const page: ModerationLogPage = await listModeration(ctx.database.db, {
        before: query.before === 0 ? undefined : query.before,
        limit: query.limit,
        action: query.action,
      });
      reply.header('cache-control', 'no-cache');
      return reply.send(page);
    });
  };
}
