/**
 * The mail webhook: `POST /api/mail/events` takes bounces, complaints and
 * unsubscribes as JSON (from a mail provider, through a small adapter, or
 * from a script), `POST /api/mail/dsn` takes a returned message as the MTA
 * received it (a delivery status notification, an abuse report, a mail to
 * the List-Unsubscribe mailto) and reads it with src/mail/dsn.ts.
 *
 * Both authenticate with `Authorization: Bearer <MAIL_WEBHOOK_SECRET>`,
 * compared in constant time, and do not exist (404) while no secret is
 * configured. Answers are counts only: an address is never echoed, so the
 * webhook tells nobody which addresses are subscribed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { MAX_REPORT_BYTES, parseReport } from '../mail/dsn.js';
import { recordMailEvents, type ReportedMailEvent } from '../subscriptions/bounces.js';
import { sendError } from '../web/errors.js';
import { describeIssues, knownKeys, MailEventsBody, type MailEventsResult, type MailReportResult } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route authenticates with MAIL_WEBHOOK_SECRET (see installMailWebhookAuth). */
    mailWebhook?: boolean;
  }
}

/** Media types `POST /api/mail/dsn` reads as the raw message. */
export const RAW_MESSAGE_TYPES = ['message/rfc822', 'text/plain', 'application/octet-stream'] as const;

// Hashing both sides gives equal lengths, so the comparison leaks neither the secret nor its length.
function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/**
 * Authenticates the webhook routes with the shared secret (account
 * credentials are not looked at there: src/web/auth.ts skips these routes).
 * As an onRequest hook it refuses a stranger before a megabyte of body is read.
 */
export function installMailWebhookAuth(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.mailWebhook !== true) return;
    const header = req.headers.authorization;
    const secret = ctx.config.mailWebhookSecret;
    // The same answer as for any unknown path: an instance without the feature does not advertise it.
    if (secret === undefined) return sendError(req, reply, 404, `Nothing at ${req.url.split('?')[0] ?? '/'}.`);
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (given === undefined || !sameSecret(given, secret)) {
      reply.header('www-authenticate', 'Bearer realm="paperboy-mail"');
      return sendError(req, reply, 401, 'Send the mail webhook secret as "Authorization: Bearer <MAIL_WEBHOOK_SECRET>".');
    }
  });
}

function toEvents(body: MailEventsBody): ReportedMailEvent[] {
  return body.events.map((event): ReportedMailEvent => {
    switch (event.type) {
      case 'bounce':
        return { kind: event.bounce === 'hard' ? 'hard-bounce' : 'soft-bounce', email: event.email, detail: event.detail };
      case 'complaint':
        return { kind: 'complaint', email: event.email, detail: event.detail };
      case 'unsubscribe':
        return { kind: 'unsubscribe', email: event.email, token: event.token, detail: event.detail ?? 'unsubscribe (webhook)' };
    }
  });
}

/** Registers the webhook routes (under the /api prefix). */
export function mailWebhookRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // Scoped to this plugin: elsewhere text/plain stays a string.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser([...RAW_MESSAGE_TYPES], { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES }, (_req, body, done) => {
      done(null, body);
    });
    const options = { config: { mailWebhook: true }, bodyLimit: MAX_REPORT_BYTES };

    app.post('/mail/events', options, async (req: FastifyRequest, reply: FastifyReply) => {
      if (Buffer.isBuffer(req.body)) return sendError(req, reply, 415, 'Send the events as application/json.');
      const parsed = MailEventsBody.safeParse(req.body ?? {});
      if (!parsed.success) return sendError(req, reply, 400, describeIssues(parsed.error, knownKeys(MailEventsBody)));
      const counts: MailEventsResult = await recordMailEvents(ctx, toEvents(parsed.data), 'webhook');
      req.log.info({ events: parsed.data.events.length, ...counts }, 'mail events recorded');
      return reply.header('cache-control', 'no-store').send(counts);
    });

    app.post('/mail/dsn', options, async (req: FastifyRequest, reply: FastifyReply) => {
      if (!Buffer.isBuffer(req.body)) {
        return sendError(req, reply, 415, `Send the raw message as ${RAW_MESSAGE_TYPES.join(', ')}.`);
      }
      if (req.body.length === 0) return sendError(req, reply, 400, 'Invalid request: the body is empty; send the whole message.');
      const report = parseReport(req.body);
      const counts = await recordMailEvents(ctx, report?.events ?? [], 'dsn');
      const answer: MailReportResult = { report: report?.type ?? null, ...counts };
      req.log.info(answer, report === null ? 'mail received: not a report' : 'mail report recorded');
      return reply.header('cache-control', 'no-store').send(answer);
    });
  };
}
