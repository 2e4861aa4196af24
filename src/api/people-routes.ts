/**
 * Authorship claims and public profiles in the JSON API:
 * - `POST /api/papers/{id}/claims` `{authorName, evidence?}`: 201 with the claim.
 * - `GET /api/claims?status=` (curators), `GET /api/claims/mine`.
 * - `POST /api/claims/{id}/verify`, `POST /api/claims/{id}/reject` `{reason}` (curators).
 * - `PATCH /api/claims/{id}` `{showOnProfile}`, `DELETE /api/claims/{id}`: your own only (404 otherwise).
 * - `GET /api/users/{username}`: a public profile, never the email.
 * The rules live in src/people/claims.ts and src/people/profiles.ts.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { findPaperRef } from '../community/comments.js';
import type { AppContext } from '../context.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { claimsOf, createClaim, decideClaim, listClaims, mailDecision, setShowOnProfile, withdrawClaim, type Claim, type Verdict } from '../people/claims.js';
import { loadProfile } from '../people/profiles.js';
import { requireUser, requireWrite } from '../web/auth.js';
import { sendError } from '../web/errors.js';
import { rateLimit } from '../web/rate-limits.js';
import { validate } from './routes.js';
import {
  ClaimIdParams,
  ClaimPatchBody,
  ClaimRejectBody,
  ClaimsQuery,
  EmptyQuery,
  NewClaimBody,
  OldStylePaperIdParams,
  PaperIdParams,
  UsernameParams,
  type ClaimJson,
  type UserProfile,
} from './schemas.js';

const PRIVATE = 'private, no-store';

function present(c: Claim): ClaimJson {
  return {
    id: c.id,
    paperId: c.arxivId,
    paperTitle: c.paperTitle,
    authorName: c.authorName,
    username: c.username,
    evidence: c.evidence,
    status: c.status,
    reason: c.reason,
    decidedAt: c.decidedAt,
    showOnProfile: c.showOnProfile,
    createdAt: c.createdAt,
  };
}

async function postClaim(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string): Promise<FastifyReply> {
  const viewer = req.auth?.viewer;
  if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
  if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
  const input = validate(NewClaimBody, req.body, req, reply);
  if (input === undefined) return reply;
  const id = parseArxivId(raw)?.id;
  if (id === undefined) return sendError(req, reply, 400, `Invalid request: "${raw.slice(0, 80)}" is not an arXiv id.`);
  const paper = await findPaperRef(ctx.database, id);
  if (paper === undefined) return sendError(req, reply, 404, `No paper ${id} in this instance.`);
  const result = await createClaim(ctx.database, viewer, paper.id, input);
  if (!result.ok) return sendError(req, reply, result.status, result.message);
  return reply.code(201).header('cache-control', PRIVATE).send(present(result.claim));
}

/** Registers the claim and profile endpoints (under the /api prefix). */
export function peopleApiRoutes(ctx: AppContext): FastifyPluginAsync {
  const writes = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
  const curatorWrites = { config: { minRole: 'curator' as const, ...rateLimit(ctx.config, 'write') }, preHandler: requireWrite(ctx) };
  return async (app) => {
    app.post('/papers/:id/claims', writes, async (req, reply) => {
      const params = validate(PaperIdParams, req.params, req, reply);
      return params === undefined ? reply : postClaim(ctx, req, reply, params.id);
    });
    app.post('/papers/:archive/:number/claims', writes, async (req, reply) => {
      const params = validate(OldStylePaperIdParams, req.params, req, reply);
      return params === undefined ? reply : postClaim(ctx, req, reply, `${params.archive}/${params.number}`);
    });

    app.get('/claims', { config: { minRole: 'curator' } }, async (req, reply) => {
      const query = validate(ClaimsQuery, req.query, req, reply);
      if (query === undefined) return reply;
      const claims = await listClaims(ctx.database, query.status);
      return reply.header('cache-control', PRIVATE).send(claims.map(present));
    });

    app.get('/claims/mine', { preHandler: requireUser }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const claims = await claimsOf(ctx.database, viewer.id);
      return reply.header('cache-control', PRIVATE).send(claims.map(present));
    });

    const decide = (verdictOf: (req: FastifyRequest, reply: FastifyReply) => Verdict | undefined) => async (req: FastifyRequest, reply: FastifyReply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const params = validate(ClaimIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const verdict = verdictOf(req, reply);
      if (verdict === undefined) return reply;
      const result = await decideClaim(ctx.database, viewer, params.id, verdict);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      mailDecision(ctx, result.claim);
      return reply.header('cache-control', PRIVATE).send(present(result.claim));
    };
    app.post('/claims/:id/verify', curatorWrites, decide(() => ({ verdict: 'verify' })));
    app.post(
      '/claims/:id/reject',
      curatorWrites,
      decide((req, reply) => {
        const body = validate(ClaimRejectBody, req.body, req, reply);
        return body === undefined ? undefined : { verdict: 'reject', reason: body.reason };
      }),
    );

    app.patch('/claims/:id', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const params = validate(ClaimIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(ClaimPatchBody, req.body, req, reply);
      if (body === undefined) return reply;
      const result = await setShowOnProfile(ctx.database, viewer.id, params.id, body.showOnProfile);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.header('cache-control', PRIVATE).send(present(result.claim));
    });

    app.delete('/claims/:id', writes, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return sendError(req, reply, 401, 'Sign in, or send a personal API token.');
      const params = validate(ClaimIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const result = await withdrawClaim(ctx.database, viewer.id, params.id);
      if (!result.ok) return sendError(req, reply, result.status, result.message);
      return reply.code(204).send();
    });

    app.get('/users/:username', async (req, reply) => {
      const params = validate(UsernameParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      // The public view, whoever asks: the owner's hidden papers stay off the API too.
      const profile = await loadProfile(ctx.database, params.username, null);
      if (profile === undefined) return sendError(req, reply, 404, `There is no user ${params.username}.`);
      const base = ctx.config.baseUrl;
      const out: UserProfile = {
        username: profile.username,
        role: profile.role,
        createdAt: profile.createdAt,
        restricted: profile.restriction?.kind ?? null,
        claimedPapers: profile.claims.map((c) => ({ id: c.arxivId, title: c.paperTitle, authorName: c.authorName })),
        submissions: profile.submissions.map((s) => ({ id: s.arxivId, title: s.title, featuredOn: s.featuredOn })),
        collections: profile.collections.map((c) => ({
          id: c.id,
          name: c.name,
          description: c.description,
          paperCount: c.paperCount,
          updatedAt: c.updatedAt,
          url: `${base}/collections/${c.id}`,
        })),
        recentComments: profile.comments.map((c) => ({ id: c.id, paperId: c.arxivId, createdAt: c.createdAt, url: `${base}/papers/${c.arxivId}#comment-${c.id}` })),
      };
      return reply.header('cache-control', 'no-cache').send(out);
    });
  };
}
