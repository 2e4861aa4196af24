/**
 * Collections in the JSON API:
 * - `GET /api/collections`: yours; `POST /api/collections`: a new one (201).
 * - `GET|PATCH|DELETE /api/collections/{id}`: read a public or your own
 *   collection with its papers; change or delete your own.
 * - `POST|DELETE /api/collections/{id}/papers/{paperId}`: add (with a note and
 *   place) or remove a paper; old-style ids URL-encoded.
 * - `POST /api/collections/{id}/import`: a .bib file as the body.
 *
 * Another person's private collection is 404 on every route (its id reveals
 * nothing); their public one is readable, and 403 to change.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import {
  addPaper,
  collectionItems,
  collectionsOf,
  createCollection,
  deleteCollection,
  importBibtex,
  paperIdsByArxivId,
  removePaper,
  updateCollection,
  visibleCollection,
  type Collection,
  type CollectionItem,
  type Refusal,
} from '../people/collections.js';
import { requireUser, requireWrite, signedInId } from '../web/auth.js';
import { collectionPath, MAX_IMPORT_BYTES } from '../web/collection-pages.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { validate } from './routes.js';
import {
  CollectionIdParams,
  CollectionPaperBody,
  CollectionPaperParams,
  CollectionPatchBody,
  EmptyQuery,
  NewCollectionBody,
  type CollectionImport,
  type CollectionJson,
  type CollectionPaperJson,
  type CollectionWithPapers,
} from './schemas.js';

const BIBTEX_TYPES = ['application/x-bibtex', 'text/x-bibtex'];

function presentCollection(ctx: AppContext, c: Collection): CollectionJson {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    public: c.isPublic,
    owner: c.owner,
    paperCount: c.paperCount,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    url: `${ctx.config.baseUrl}${collectionPath(c.id)}`,
  };
}

function presentItem(ctx: AppContext, item: CollectionItem): CollectionPaperJson {
  return {
    id: item.arxivId,
    title: item.title,
    note: item.note,
    position: item.position,
    addedAt: item.addedAt,
    url: `${ctx.config.baseUrl}/papers/${item.arxivId}`,
  };
}

function viewerId(req: FastifyRequest): number | null {
  return req.auth?.viewer.id ?? null;
}


function refuse(req: FastifyRequest, reply: FastifyReply, refusal: Refusal): FastifyReply {
  return sendError(req, reply, refusal.status, refusal.message);
}

/** The collection with its papers as the caller may see it, or a 404 sent. */
async function withPapers(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number, status = 200): Promise<FastifyReply> {
  const collection = await visibleCollection(ctx.database, viewerId(req), id);
  if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${id}.`);
  const items = await collectionItems(ctx.database, id);
  const body: CollectionWithPapers = { ...presentCollection(ctx, collection), papers: items.map((i) => presentItem(ctx, i)) };
  return reply.code(status).header('cache-control', 'private, no-store').send(body);
}

/** Paper row ids for arXiv ids in any notation; the first id that is not a paper here is named in the error. */
async function paperIds(ctx: AppContext, raw: readonly string[]): Promise<number[] | string> {
  const ids: string[] = [];
  for (const r of raw) {
    const id = parseArxivId(r)?.id;
    if (id === undefined) return `"${r.slice(0, 80)}" is not an arXiv id.`;
    ids.push(id);
  }
  const found = await paperIdsByArxivId(ctx.database, ids);
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) return `No paper ${missing} in this instance.`;
  return ids.map((id) => found.get(id) ?? 0);
}

/** Registers the collection endpoints (under the /api prefix). */
export function collectionApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.addContentTypeParser(BIBTEX_TYPES, { parseAs: 'string', bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const nocache = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'private, no-store');

    app.get('/collections', { preHandler: requireUser }, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const mine = await collectionsOf(ctx.database, signedInId(req));
      return nocache(reply).send(mine.map((c) => presentCollection(ctx, c)));
    });

    app.post('/collections', write, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(NewCollectionBody, req.body, req, reply);
      if (body === undefined) return reply;
      const made = await createCollection(ctx.database, signedInId(req), { name: body.name, description: body.description ?? '', isPublic: body.public ?? false });
      if (!made.ok) return refuse(req, reply, made);
      reply.header('location', `/api/collections/${made.value.id}`);
      return withPapers(ctx, req, reply, made.value.id, 201);
    });

    app.get('/collections/:id', async (req, reply) => {
      const params = validate(CollectionIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      return withPapers(ctx, req, reply, params.id);
    });

    app.patch('/collections/:id', write, async (req, reply) => {
      const params = validate(CollectionIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(CollectionPatchBody, req.body, req, reply);
      if (body === undefined) return reply;
      const userId = signedInId(req);
      // Visibility first: an unknown paper id in `order` must not tell a private collection exists.
      const collection = await visibleCollection(ctx.database, userId, params.id);
      if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${params.id}.`);
      const order = body.order === undefined ? undefined : await paperIds(ctx, body.order);
      if (typeof order === 'string') return sendError(req, reply, 422, order);
      const updated = await updateCollection(ctx.database, userId, params.id, { name: body.name, description: body.description, isPublic: body.public, order });
      if (!updated.ok) return refuse(req, reply, updated);
      return withPapers(ctx, req, reply, params.id);
    });

    app.delete('/collections/:id', write, async (req, reply) => {
      const params = validate(CollectionIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const done = await deleteCollection(ctx.database, signedInId(req), params.id);
      if (!done.ok) return refuse(req, reply, done);
      return reply.code(204).send();
    });

    app.post('/collections/:id/papers/:paperId', write, async (req, reply) => {
      const params = validate(CollectionPaperParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(CollectionPaperBody, req.body, req, reply);
      if (body === undefined) return reply;
      const userId = signedInId(req);
      const id = parseArxivId(params.paperId)?.id;
      const paperId = id === undefined ? undefined : (await paperIdsByArxivId(ctx.database, [id])).get(id);
      // A collection that is not visible answers first, whatever the paper.
      const collection = await visibleCollection(ctx.database, userId, params.id);
      if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${params.id}.`);
      if (paperId === undefined) return sendError(req, reply, 404, `No paper ${params.paperId.slice(0, 80)} in this instance.`);
      const done = await addPaper(ctx.database, userId, params.id, paperId, { note: body.note, position: body.position });
      if (!done.ok) return refuse(req, reply, done);
      const item = (await collectionItems(ctx.database, params.id)).find((i) => i.paperId === paperId);
      if (item === undefined) return sendError(req, reply, 404, 'The paper was removed meanwhile.');
      return nocache(reply).code(done.value.added ? 201 : 200).send(presentItem(ctx, item));
    });

    app.delete('/collections/:id/papers/:paperId', write, async (req, reply) => {
      const params = validate(CollectionPaperParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const userId = signedInId(req);
      const collection = await visibleCollection(ctx.database, userId, params.id);
      if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${params.id}.`);
      const id = parseArxivId(params.paperId)?.id;
      const paperId = id === undefined ? undefined : (await paperIdsByArxivId(ctx.database, [id])).get(id);
      if (paperId === undefined) return sendError(req, reply, 404, `No paper ${params.paperId.slice(0, 80)} in this instance.`);
      const done = await removePaper(ctx.database, userId, params.id, paperId);
      if (!done.ok) return refuse(req, reply, done);
      return reply.code(204).send();
    });

    app.post('/collections/:id/import', write, async (req, reply) => {
      const params = validate(CollectionIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      if (typeof req.body !== 'string') return sendError(req, reply, 415, `Send the BibTeX file as the body, with Content-Type ${[...BIBTEX_TYPES, 'text/plain'].join(', ')}.`);
      const done = await importBibtex(ctx.database, signedInId(req), params.id, req.body);
      if (!done.ok) return refuse(req, reply, done);
      const r = done.value;
      const body: CollectionImport = {
        matched: r.matched.map((e) => ({ key: e.key, line: e.line, paperId: e.arxivId })),
        alreadyPresent: r.alreadyPresent.map((e) => ({ key: e.key, line: e.line, paperId: e.arxivId })),
        unmatched: r.unmatched,
      };
      return nocache(reply).send(body);
    });
  };
}
