/**
 * Saved searches in the JSON API (schemas and docs in src/saved/schemas.ts):
 * - `GET|POST /api/saved-searches`: yours; save one (201).
 * - `GET|PATCH|DELETE /api/saved-searches/{id}`: one of yours.
 * - `GET /api/saved-searches/{id}/matches`: its new matches, newest first.
 *
 * Another person's saved search is 404 on every route (its id reveals nothing).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import {
  checkInput,
  createSavedSearch,
  decodeMatchCursor,
  deleteSavedSearch,
  encodeMatchCursor,
  matchesPage,
  ownSavedSearch,
  rotateSavedFeedToken,
  rotateWebhookSecret,
  savedSearchesOf,
  updateSavedSearch,
  type SavedMatch,
  type SavedSearch,
  type SavedSearchSummary,
} from '../saved/repository.js';
import { NewSavedSearchBody, SavedMatchesQuery, SavedSearchIdParams, SavedSearchPatchBody, type SavedMatchJson, type SavedSearchJson } from '../saved/schemas.js';
import { requireUser, requireWrite, signedInId } from '../web/auth.js';
import { paperPath } from '../web/card.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { validate } from './routes.js';
import { EmptyQuery } from './schemas.js';

/** A saved search as the API shows it to its owner. */
export function presentSavedSearch(ctx: AppContext, s: SavedSearch | SavedSearchSummary): SavedSearchJson {
  const base = ctx.config.baseUrl;
  return {
    id: s.id,
    name: s.name,
    query: s.query,
    mode: s.mode,
    categories: s.categories,
    featuredOnly: s.featuredOnly,
    emailAlert: s.emailAlert,
    webhookUrl: s.webhookUrl,
    webhookSecret: s.webhookSecret,
    feeds: { rss: `${base}/saved/feed/${s.feedToken}.rss`, atom: `${base}/saved/feed/${s.feedToken}.atom` },
    matchCount: 'matchCount' in s ? s.matchCount : 0,
    newCount: 'newCount' in s ? s.newCount : 0,
    lastCheckedAt: s.lastCheckedAt,
    lastSeenAt: s.lastSeenAt,
    createdAt: s.createdAt,
    url: `${base}/saved/${s.id}`,
  };
}

function presentMatch(ctx: AppContext, m: SavedMatch, lastSeenAt: string | null): SavedMatchJson {
  return {
    paper: { id: m.arxivId, title: m.title, authors: m.authorsText, url: `${ctx.config.baseUrl}${paperPath(m.arxivId)}` },
    matchedAt: m.matchedAt,
    score: m.score,
    new: lastSeenAt === null || m.matchedAt > lastSeenAt,
  };
}

const nocache = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'private, no-store');

/** The search with its counts, or a 404 sent. */
async function sendOne(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, userId: number, id: number, status = 200): Promise<FastifyReply> {
  const found = (await savedSearchesOf(ctx.database, userId)).find((s) => s.id === id);
  if (found === undefined) return sendError(req, reply, 404, `You have no saved search ${id}.`);
  return nocache(reply).code(status).send(presentSavedSearch(ctx, found));
}

/** Registers the saved-search endpoints (under the /api prefix). */
export function savedSearchApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };

    app.get('/saved-searches', { preHandler: requireUser }, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const mine = await savedSearchesOf(ctx.database, signedInId(req));
      return nocache(reply).send(mine.map((s) => presentSavedSearch(ctx, s)));
    });

    app.post('/saved-searches', write, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(NewSavedSearchBody, req.body, req, reply);
      if (body === undefined) return reply;
      const checked = checkInput(body, ctx.config.webhookAllowPrivate);
      if (!checked.ok) return sendError(req, reply, checked.status, checked.message);
      const userId = signedInId(req);
      const made = await createSavedSearch(ctx.database, userId, checked.value);
      if (!made.ok) return sendError(req, reply, made.status, made.message);
      reply.header('location', `/api/saved-searches/${made.value.id}`);
      return sendOne(ctx, req, reply, userId, made.value.id, 201);
    });

    app.get('/saved-searches/:id', { preHandler: requireUser }, async (req, reply) => {
      const params = validate(SavedSearchIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      return sendOne(ctx, req, reply, signedInId(req), params.id);
    });

    app.patch('/saved-searches/:id', write, async (req, reply) => {
      const params = validate(SavedSearchIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(SavedSearchPatchBody, req.body, req, reply);
      if (body === undefined) return reply;
      const userId = signedInId(req);
      const updated = await updateSavedSearch(ctx.database, userId, params.id, body, ctx.config.webhookAllowPrivate);
      if (!updated.ok) return sendError(req, reply, updated.status, updated.message);
      if (body.rotateFeedToken === true) await rotateSavedFeedToken(ctx.database, userId, params.id);
      if (body.rotateWebhookSecret === true && !(await rotateWebhookSecret(ctx.database, userId, params.id))) {
        return sendError(req, reply, 400, 'This saved search has no webhook, so it has no secret to rotate.');
      }
      return sendOne(ctx, req, reply, userId, params.id);
    });

    app.delete('/saved-searches/:id', write, async (req, reply) => {
      const params = validate(SavedSearchIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      if (!(await deleteSavedSearch(ctx.database, signedInId(req), params.id))) return sendError(req, reply, 404, `You have no saved search ${params.id}.`);
      return reply.code(204).send();
    });

    app.get('/saved-searches/:id/matches', { preHandler: requireUser }, async (req, reply) => {
      const params = validate(SavedSearchIdParams, req.params, req, reply);
      if (params === undefined) return reply;
      const query = validate(SavedMatchesQuery, req.query, req, reply);
      if (query === undefined) return reply;
      const search = await ownSavedSearch(ctx.database, signedInId(req), params.id);
      if (search === undefined) return sendError(req, reply, 404, `You have no saved search ${params.id}.`);
      const before = query.before === undefined ? null : decodeMatchCursor(query.before);
      if (query.before !== undefined && before === null) return sendError(req, reply, 400, 'before: is not a cursor this API handed out (use `next` of the previous page).');
      const page = await matchesPage(ctx.database, search.id, { limit: query.limit, before });
      return nocache(reply).send({ items: page.items.map((m) => presentMatch(ctx, m, search.lastSeenAt)), next: page.next === null ? null : encodeMatchCursor(page.next) });
    });
  };
}
