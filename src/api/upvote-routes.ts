/**
 * Upvotes in the JSON API: `POST|DELETE /api/papers/:id/upvote` add or
 * remove the caller's upvote, `GET` reads it; old-style ids as
 * `/api/papers/:archive/:number/upvote`. Each answers `{upvoted, upvotes}`.
 *
 * Writes take a session with its CSRF header or a token with the write scope
 * (requireWrite), and count against the per-person write limit. Both are
 * idempotent: a second upvote changes nothing and still answers 200.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { paperIdOf, setUpvote, upvoteState } from '../community/upvotes.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { requireUser, requireWrite } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { describeIssues, EmptyQuery, knownKeys, OldStylePaperIdParams, PaperIdParams, type UpvoteState } from './schemas.js';

type Action = 'read' | 'add' | 'remove';

/** Parses input with a schema, or answers 400 naming every problem and returns undefined. */
function parse<S extends z.ZodType>(schema: S, input: unknown, req: FastifyRequest, reply: FastifyReply): z.output<S> | undefined {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  void sendError(req, reply, 400, describeIssues(parsed.error, knownKeys(schema)));
  return undefined;
}

async function answer(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string, action: Action): Promise<FastifyReply> {
  if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
  const id = parseArxivId(raw)?.id;
  if (id === undefined) return sendError(req, reply, 400, `Invalid request: "${raw.slice(0, 80)}" is not an arXiv id.`);
  const viewer = req.auth?.viewer;
  // requireUser/requireWrite ran first; this only narrows the type.
  if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
  const paperId = await paperIdOf(ctx.database, id);
  const state: UpvoteState | undefined =
    paperId === undefined
      ? undefined
      : action === 'read'
        ? await upvoteState(ctx.database, viewer.id, paperId)
        : await setUpvote(ctx.database, viewer.id, paperId, action === 'add');
  if (state === undefined) return sendError(req, reply, 404, `No paper ${id} in this instance.`);
  // The answer is this person's: no shared cache may keep it.
  return reply.header('cache-control', 'private, no-store').send({ upvoted: state.upvoted, upvotes: state.upvotes });
}

/** Registers the upvote endpoints (under the /api prefix). */
export function upvoteApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const read = { preHandler: requireUser };
    const routes: [string, (params: unknown, req: FastifyRequest, reply: FastifyReply) => string | undefined][] = [
      ['/papers/:id/upvote', (params, req, reply) => parse(PaperIdParams, params, req, reply)?.id],
      [
        '/papers/:archive/:number/upvote',
        (params, req, reply) => {
          const p = parse(OldStylePaperIdParams, params, req, reply);
          return p === undefined ? undefined : `${p.archive}/${p.number}`;
        },
      ],
    ];
    for (const [path, idOf] of routes) {
      const handle = (action: Action) => async (req: FastifyRequest, reply: FastifyReply) => {
        const raw = idOf(req.params, req, reply);
        return raw === undefined ? reply : answer(ctx, req, reply, raw, action);
      };
      app.get(path, read, handle('read'));
      app.post(path, write, handle('add'));
      app.delete(path, write, handle('remove'));
    }
  };
}
