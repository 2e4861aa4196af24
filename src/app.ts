import { similarRoutes } from './web/similar-pages.js';
import cookie from '@fastify/cookie';
import etag from '@fastify/etag';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import { sql } from 'kysely';
import { collectionApiRoutes } from './api/collection-routes.js';
import { commentApiRoutes } from './api/comment-routes.js';
import { peopleApiRoutes } from './api/people-routes.js';
import { installMailWebhookAuth, mailWebhookRoutes } from './api/mail-webhook-routes.js';
import { moderationApiRoutes } from './api/moderation-routes.js';
import { apiRoutes } from './api/routes.js';
import { submitApiRoutes } from './api/submit-routes.js';
import { subscriptionApiRoutes } from './api/subscription-routes.js';
import { followApiRoutes } from './api/follow-routes.js';
import { forYouApiRoutes } from './api/for-you-routes.js';
import { savedSearchApiRoutes } from './api/saved-routes.js';
import { upvoteApiRoutes } from './api/upvote-routes.js';
import { schemaStatus } from './db/migrate.js';
import type { AppContext } from './context.js';
import { keywordIndexStatus } from './search/index-status.js';
import { accountRoutes } from './web/account-pages.js';
import { adminRoutes } from './web/admin-pages.js';
import { assetRoutes } from './web/assets.js';
import { authorRoutes } from './web/author-pages.js';
import { claimRoutes } from './web/claim-pages.js';
import { installAuth } from './web/auth.js';
import { collectionRoutes } from './web/collection-pages.js';
import { commentRoutes } from './web/comment-routes.js';
import { installErrorHandlers } from './web/errors.js';
import { feedRoutes } from './web/feed-pages.js';
import { followingRoutes } from './web/following-pages.js';
import { forYouRoutes } from './web/for-you-pages.js';
import { savedSearchRoutes } from './web/saved-pages.js';
import { installMetrics } from './web/metrics.js';
import { moderationRoutes } from './web/moderation-pages.js';
import { paperRoutes } from './web/paper-page.js';
import { rateLimitOptions } from './web/rate-limits.js';
import { profileRoutes } from './web/profile-pages.js';
import { searchRoutes } from './web/search-page.js';
import { settingsRoutes } from './web/settings-pages.js';
import { submitRoutes } from './web/submit-routes.js';
import { subscriptionRoutes } from './web/subscription-pages.js';
import { syndicationRoutes } from './web/syndication-routes.js';
import { installUpvoteButtons, upvotePageRoutes } from './web/upvote-routes.js';

export interface BuildOptions {
  /** Called with every route as it is added (test/routes.test.ts audits the route table with it). */
  onRoute?: (route: RouteOptions) => void;
}

/**
 * Builds the web application. No I/O happens here beyond what the context
 * already opened, so tests build it in-process and call `inject`.
 */
export async function buildApp(ctx: AppContext, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // Whose X-Forwarded-For sets req.ip, which rate limits count by: nobody's unless TRUST_PROXY says.
    // Fastify ignores a bare hop count (fails closed), so a count becomes proxy-addr's
    // hop function: trust the N nearest hops, whoever they are (see docs/rate-limits.md).
    trustProxy:
      typeof ctx.config.trustProxy === 'number'
        ? ((hops: number) => (_address: string, hop: number) => hop < hops)(ctx.config.trustProxy)
        : ctx.config.trustProxy,
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // KaTeX output carries inline style attributes; scripts stay same-origin only.
        'style-src': ["'self'", "'unsafe-inline'"],
        'font-src': ["'self'"],
        // Self-hosted instances are often served over plain HTTP on a LAN.
        'upgrade-insecure-requests': ctx.config.baseUrl.startsWith('https:') ? [] : null,
      },
    },
    strictTransportSecurity: ctx.config.baseUrl.startsWith('https:'),
  });
  await app.register(cookie);
  await app.register(formbody);
  // Limits are opted into per route (search, fetching from arXiv): see docs/rate-limits.md.
  await app.register(rateLimit, rateLimitOptions(ctx.database));
  installErrorHandlers(app);
  // Before installAuth: the mail webhook's bearer is its shared secret, which the token check would refuse.
  installMailWebhookAuth(app, ctx);
  // Before the ETag plugin: a signed-in page gets its header filled in before its ETag is computed.
  installAuth(app, ctx);
  installUpvoteButtons(app, ctx);
  await app.register(etag, { weak: true });
  // Before the routes, so its timing hook covers every one of them.
  if (ctx.config.metricsEnabled) installMetrics(app, ctx);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = await readinessChecks(ctx);
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
  await app.register(assetRoutes);
  await app.register(feedRoutes(ctx));
  await app.register(searchRoutes(ctx));
  await app.register(paperRoutes(ctx));
  await app.register(similarRoutes(ctx));
  await app.register(accountRoutes(ctx));
  await app.register(settingsRoutes(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(profileRoutes(ctx));
  await app.register(claimRoutes(ctx));
  await app.register(authorRoutes(ctx));
  await app.register(syndicationRoutes(ctx));
  await app.register(upvotePageRoutes(ctx));
  await app.register(submitRoutes(ctx));
  await app.register(commentRoutes(ctx));
  await app.register(moderationRoutes(ctx));
  await app.register(collectionRoutes(ctx));
  await app.register(subscriptionRoutes(ctx));
  await app.register(followingRoutes(ctx));
  await app.register(forYouRoutes(ctx));
  await app.register(savedSearchRoutes(ctx));
  await app.register(apiRoutes(ctx), { prefix: '/api' });
  await app.register(upvoteApiRoutes(ctx), { prefix: '/api' });
  await app.register(submitApiRoutes(ctx), { prefix: '/api' });
  await app.register(commentApiRoutes(ctx), { prefix: '/api' });
  await app.register(moderationApiRoutes(ctx), { prefix: '/api' });
  await app.register(collectionApiRoutes(ctx), { prefix: '/api' });
  await app.register(peopleApiRoutes(ctx), { prefix: '/api' });
  await app.register(subscriptionApiRoutes(ctx), { prefix: '/api' });
  await app.register(followApiRoutes(ctx), { prefix: '/api' });
  await app.register(forYouApiRoutes(ctx), { prefix: '/api' });
  await app.register(savedSearchApiRoutes(ctx), { prefix: '/api' });
  await app.register(mailWebhookRoutes(ctx), { prefix: '/api' });
  return app;
}

interface Check {
  ok: boolean;
  detail?: string;
}

/**
 * What /readyz reports: the database answers, its schema is the one this
 * code expects, and keyword search sees every committed paper. A process that
 * fails any of them should get no traffic yet (or any more).
 */
async function readinessChecks(ctx: AppContext): Promise<Record<'database' | 'migrations' | 'searchIndex', Check>> {
  const failed = (what: string, err: unknown): Check => {
    ctx.log.error({ err }, `readiness check failed: ${what}`);
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  };
  let database: Check;
  try {
    await sql`SELECT 1`.execute(ctx.database.db);
    database = { ok: true };
  } catch (err) {
    const unreachable: Check = { ok: false, detail: 'not reachable' };
    ctx.log.error({ err }, 'readiness check failed: database');
    return { database: unreachable, migrations: { ok: false, detail: 'unknown' }, searchIndex: { ok: false, detail: 'unknown' } };
  }
  const [migrations, searchIndex] = await Promise.all([
    schemaStatus(ctx.database).then(
      (schema): Check =>
        schema.pending === 0
          ? { ok: true }
          : { ok: false, detail: `${schema.pending} pending (at ${schema.current}, latest ${schema.latest})` },
      (err: unknown) => failed('migrations', err),
    ),
    keywordIndexStatus(ctx).then(
      (index): Check =>
        index.caughtUp
          ? { ok: true }
          : {
              ok: false,
              detail:
                index.lagSeconds < 0
                  ? 'building'
                  : `catching up: ${index.pendingChanges} changes behind, last in step ${Math.round(index.lagSeconds)} s ago`,
            },
      (err: unknown) => failed('search index', err),
    ),
  ]);
  return { database, migrations, searchIndex };
}
