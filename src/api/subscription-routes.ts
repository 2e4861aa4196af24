/**
 * `POST /api/subscriptions` `{email, cadence?, categories?}`: asks for the
 * email digest at an address (double opt-in, src/subscriptions/subscribers.ts).
 *
 * Anyone may call it, signed in or not, so it takes no credentials and no
 * CSRF token: all it can do is send the address's owner one email (at most
 * one per 10 minutes), and it is limited per client address. Every
 * well-formed address gets the same 202, and the email goes out in the
 * background, so neither the answer nor its timing says whether the address
 * was known.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { requestSubscription } from '../subscriptions/subscribers.js';
import { rateLimit } from '../web/rate-limits.js';
import { validate } from './routes.js';
import { EmptyQuery, SubscriptionBody, type SubscriptionAccepted } from './schemas.js';

const ACCEPTED: SubscriptionAccepted = {
  status: 'accepted',
  message:
    'If this address can get the digest, a confirmation email is on its way. Nothing is sent until its link is used; the link works for 48 hours.',
};

/** Registers the subscription endpoint (under the /api prefix). */
export function subscriptionApiRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/subscriptions', { config: rateLimit(ctx.config, 'subscribe') }, async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      const body = validate(SubscriptionBody, req.body, req, reply);
      if (body === undefined) return reply;
      await requestSubscription(ctx, {
        email: body.email,
        ...(body.cadence === undefined ? {} : { cadence: body.cadence }),
        ...(body.categories === undefined ? {} : { categories: body.categories }),
      });
      return reply.code(202).header('cache-control', 'no-store').send(ACCEPTED);
    });
  };
}
