/**
 * For you in the JSON API: `GET /api/for-you`, "not interested" as
 * `POST|DELETE /api/papers/:id/not-interested` (old-style ids as
 * `/api/papers/:archive/:number/not-interested`), and muted keywords as
 * `GET|POST /api/muted-keywords`, `DELETE /api/muted-keywords/:keyword`.
 * Every answer is the caller's own: never cached by anyone else, and
 * nobody can read or change another person's.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { paperIdOf } from '../community/upvotes.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { forYou, type ForYouReason as StoredReason } from '../personal/for-you.js';
import { muteKeyword, mutedKeywordsOf, unmuteKeyword } from '../personal/muted.js';
import { clearNotInterested, markNotInterested } from '../personal/not-interested.js';
import { requireUser, requireWrite, signedInId } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { presentPaper } from './presenters.js';
import {
  describeIssues,
  EmptyQuery,
  ForYouQuery,
  knownKeys,
  MutedKeywordBody,
  MutedKeywordParams,
  OldStylePaperIdParams,
  PaperIdParams,
  type ForYouPage,
  type NotInterestedState,
} from './schemas.js';

/** Parses input with a schema, or answers 400 naming every problem and returns undefined. */
function parse<S extends z.ZodType>(schema: S, input: unknown, req: FastifyRequest, reply: FastifyReply): z.output<S> | undefined {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  void sendError(req, reply, 400, describeIssues(parsed.error, knownKeys(schema)));
  return undefined;
}

function yours(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'private, no-store');
}

function presentReason(r: StoredReason): ForYouPage['items'][number]['reasons'][number] {
  return { kind: r.kind, text: r.text, ...(r.like === undefined ? {} : { like: { id: r.like.arxivId, title: r.like.title } }) };
}

/** Registers the For you endpoints (under the /api prefix). */
export function forYouApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const read = { preHandler: requireUser };

    app.get('/for-you', read, async (req, reply) => {
      const query = parse(ForYouQuery, req.query, req, reply);
      if (query === undefined) return reply;
      const result = await forYou(ctx.database, signedInId(req), { limit: query.limit, interactive: true });
      const answer: ForYouPage = {
        items: result.items.map((i) => ({ paper: presentPaper(i.entry.paper, i.entry.featured), day: i.day, score: i.score, reasons: i.reasons.map(presentReason) })),
        semantic: result.semantic,
        windowDays: result.windowDays,
        referenceDay: result.referenceDay,
      };
      return yours(reply).send(answer);
    });

    const paperRoutes: [string, (params: unknown, req: FastifyRequest, reply: FastifyReply) => string | undefined][] = [
      ['/papers/:id/not-interested', (params, req, reply) => parse(PaperIdParams, params, req, reply)?.id],
      [
        '/papers/:archive/:number/not-interested',
        (params, req, reply) => {
          const p = parse(OldStylePaperIdParams, params, req, reply);
          return p === undefined ? undefined : `${p.archive}/${p.number}`;
        },
      ],
    ];
    for (const [path, idOf] of paperRoutes) {
      const handle = (dismiss: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
        if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
        const raw = idOf(req.params, req, reply);
        if (raw === undefined) return reply;
        const id = parseArxivId(raw)?.id;
        if (id === undefined) return sendError(req, reply, 400, `Invalid request: "${raw.slice(0, 80)}" is not an arXiv id.`);
        const paperId = await paperIdOf(ctx.database, id);
        if (paperId === undefined) return sendError(req, reply, 404, `No paper ${id} in this instance.`);
        const userId = signedInId(req);
        if (dismiss) await markNotInterested(ctx.database, userId, paperId);
        else await clearNotInterested(ctx.database, userId, paperId);
        const answer: NotInterestedState = { id, notInterested: dismiss };
        return yours(reply).send(answer);
      };
      app.post(path, write, handle(true));
      app.delete(path, write, handle(false));
    }

    app.get('/muted-keywords', read, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      return yours(reply).send(await mutedKeywordsOf(ctx.database, signedInId(req)));
    });

    app.post('/muted-keywords', write, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = parse(MutedKeywordBody, req.body, req, reply);
      if (body === undefined) return reply;
      const result = await muteKeyword(ctx.database, signedInId(req), body.keyword);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return yours(reply).code(result.created ? 201 : 200).send(result.keyword);
    });

    app.delete('/muted-keywords/:keyword', write, async (req, reply) => {
      if (parse(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const params = parse(MutedKeywordParams, req.params, req, reply);
      if (params === undefined) return reply;
      if (!(await unmuteKeyword(ctx.database, signedInId(req), params.keyword))) {
        return sendError(req, reply, 404, `You do not mute "${params.keyword.slice(0, 100)}".`);
      }
      return reply.code(204).send();
    });
  };
}
