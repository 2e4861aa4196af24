import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { homeRoutes } from './web/home.js';

/**
 * Builds the web application. No I/O happens here beyond what the context
 * already opened, so tests build it in-process and call `inject`.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: true,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      ctx.database.sqlite.prepare('SELECT 1').get();
      return { status: 'ok' };
    } catch (err) {
      ctx.log.error({ err }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  await app.register(homeRoutes(ctx));
  return app;
}
