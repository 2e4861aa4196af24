/**
 * `POST /api/papers/submit` `{id}`: submits a paper to today's daily feed
 * (rules in src/community/submissions.ts) and answers 201 with the feed item,
 * in the shape of `GET /api/daily_papers` items.
 *
 * Takes a session with its CSRF header or a token with the write scope
 * (requireWrite), and counts against the per-person submit limit, so several
 * tokens or addresses of one account share one budget.
 */
import type { FastifyPluginAsync } from 'fastify';
import { submitPaper } from '../community/submissions.js';
import type { AppContext } from '../context.js';
import { requireWrite } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { presentDailyPaper } from './presenters.js';
import { validate } from './routes.js';
import { EmptyQuery, SubmitPaperBody } from './schemas.js';

/** Registers the submit endpoint (under the /api prefix). */
export function submitApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/papers/submit', { config: rateLimit(ctx.config, 'submit'), preHandler: requireWrite(ctx) }, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(SubmitPaperBody, req.body, req, reply);
      if (body === undefined) return reply;
      const viewer = req.auth?.viewer;
      // requireWrite ran first; this only narrows the type.
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');

      const result = await submitPaper(ctx, viewer.username, body.id, req.log);
      if (!result.ok) {
        if (result.retryAfter !== undefined) reply.header('retry-after', String(result.retryAfter));
        return sendError(req, reply, result.status, result.message);
      }
      const item = presentDailyPaper(result.entry);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .header('location', `${ctx.config.baseUrl}/api/papers/${item.paper.id}`)
        .send(item);
    });
  };
}
