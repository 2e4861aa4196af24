import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';

export function apiRoutes(ctx: AppContext): FastifyPluginAsync {
  void ctx;
  return async () => {};
}
