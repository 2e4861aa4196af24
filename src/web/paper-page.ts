import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';

export function paperRoutes(ctx: AppContext): FastifyPluginAsync {
  void ctx;
  return async () => {};
}
