import cookie from '@fastify/cookie';
import etag from '@fastify/etag';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { apiRoutes } from './api/routes.js';
import type { AppContext } from './context.js';
import { assetRoutes } from './web/assets.js';
import { installErrorHandlers } from './web/errors.js';
import { feedRoutes } from './web/feed-pages.js';
import { paperRoutes } from './web/paper-page.js';
import { searchRoutes } from './web/search-page.js';
import { syndicationRoutes } from './web/syndication-routes.js';
import { sqliteHandle } from './db/connection.js';

/**
 * Builds the web application. No I/O happens here beyond what the context
 * already opened, so tests build it in-process and call `inject`.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: true,
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
  await app.register(rateLimit, { global: false });
  installErrorHandlers(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      sqliteHandle(ctx.database).prepare('SELECT 1').get();
      return { status: 'ok' };
    } catch (err) {
      ctx.log.error({ err }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  await app.register(assetRoutes);
  await app.register(feedRoutes(ctx));
  await app.register(searchRoutes(ctx));
  await app.register(paperRoutes(ctx));
  await app.register(syndicationRoutes(ctx));
  await app.register(apiRoutes(ctx), { prefix: '/api' });
  return app;
}
