import cookie from '@fastify/cookie';
import etag from '@fastify/etag';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { apiRoutes } from './api/routes.js';
import { keywordIndexStatus } from './db/keyword-index.js';
import { schemaStatus } from './db/migrate.js';
import { databaseRateLimitStore } from './db/rate-limit-store.js';
import type { AppContext } from './context.js';
import { assetRoutes } from './web/assets.js';
import { installErrorHandlers } from './web/errors.js';
import { feedRoutes } from './web/feed-pages.js';
import { paperRoutes } from './web/paper-page.js';
import { searchRoutes } from './web/search-page.js';
import { syndicationRoutes } from './web/syndication-routes.js';

/**
 * Builds the web application. No I/O happens here beyond what the context
 * already opened, so tests build it in-process and call `inject`.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    // A hop count trusts that many proxies nearest to the server, as proxy-addr counts them.
    trustProxy:
      typeof ctx.config.trustProxy === 'number'
        ? ((hops: number) => (_address: string, hop: number) => hop < hops)(ctx.config.trustProxy)
        : ctx.config.trustProxy,
  });
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
  await app.register(etag, { weak: true });
  await app.register(cookie);
  await app.register(formbody);
  // Limits are opted into per route (search, fetching from arXiv): see docs/rate-limits.md.
  await app.register(rateLimit, { global: false, store: databaseRateLimitStore(ctx.database) });
  installErrorHandlers(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      const schema = await schemaStatus(ctx.database);
      checks.database = { ok: true };
      checks.migrations =
        schema.pending === 0
          ? { ok: true }
          : { ok: false, detail: `${schema.pending} pending (at ${schema.current}, latest ${schema.latest})` };
      const index = await keywordIndexStatus(ctx.database);
      checks.searchIndex = index.caughtUp
        ? { ok: true }
        : { ok: false, detail: `catching up (last in step ${index.lagSeconds < 0 ? 'never' : `${Math.round(index.lagSeconds)} s ago`})` };
    } catch (err) {
      ctx.log.error({ err }, 'database not reachable');
      checks.database = { ok: false, detail: 'not reachable' };
    }
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
  await app.register(assetRoutes);
  await app.register(feedRoutes(ctx));
  await app.register(searchRoutes(ctx));
  await app.register(paperRoutes(ctx));
  await app.register(syndicationRoutes(ctx));
  await app.register(apiRoutes(ctx), { prefix: '/api' });
  return app;
}
