/**
 * Follows in the JSON API: `GET|POST /api/follows`, `DELETE /api/follows/:id`
 * and the Following feed `GET /api/following`. Every answer is the caller's
 * own, so none may be cached by anyone else; another person's follow does not
 * exist for the caller (404).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import { follow, followsOf, unfollowById, type Follow as StoredFollow } from '../people/follows.js';
import { followingFeed, parseFeedCursor } from '../people/following-feed.js';
import { requireUser, requireWrite } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { presentPaper } from './presenters.js';
import { describeIssues, EmptyQuery, FollowBody, FollowIdParams, FollowingQuery, knownKeys, type Follow, type FollowingPage } from './schemas.js';

/** Parses input with a schema, or answers 400 naming every problem and returns undefined. */
function parse<S extends z.ZodType>(schema: S, input: unknown, req: FastifyRequest, reply: FastifyReply): z.output<S> | undefined {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  void sendError(req, reply, 400, describeIssues(parsed.error, knownKeys(schema)));
  return undefined;
}

function present(f: StoredFollow): Follow {
  return { id: f.id, kind: f.kind, target: f.target, label: f.label, createdAt: f.createdAt };
}

function yours(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'private, no-store');
}

/** Registers the follow endpoints (under the /api prefix). */
export function followApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const read = { preHandler: requireUser };

    app.get('/follows', read, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const viewer = req.auth?.viewer;
      // requireUser ran first; this only narrows the type.
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      return yours(reply).send((await followsOf(ctx.database, viewer.id)).map(present));
    });

    app.post('/follows', write, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = parse(FollowBody, req.body, req, reply);
      if (body === undefined) return reply;
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const result = await follow(ctx.database, viewer.id, body);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return yours(reply).code(result.created ? 201 : 200).send(present(result.follow));
    });

    app.delete('/follows/:id', write, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const params = parse(FollowIdParams, req.params, req, reply);
      if (params === undefined) return reply;
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      if (!(await unfollowById(ctx.database, viewer.id, params.id))) return sendError(req, reply, 404, `You have no follow ${params.id}.`);
      return reply.code(204).send();
    });

    app.get('/following', read, async (req, reply) => {
      const query = parse(FollowingQuery, req.query, req, reply);
      if (query === undefined) return reply;
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const before = query.before === undefined ? undefined : parseFeedCursor(query.before);
      const page = await followingFeed(ctx.database, viewer.id, { before, limit: query.limit });
      const answer: FollowingPage = {
        items: page.items.map((i) => ({ paper: presentPaper(i.entry.paper, i.entry.featured), day: i.day, reasons: i.reasons })),
        next: page.next,
      };
      return yours(reply).send(answer);
    });
  };
}
