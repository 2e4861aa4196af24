import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

/** Error codes of JSON error bodies, by HTTP status. */
const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'unavailable',
};

export function errorCode(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request');
}

export function wantsJson(req: FastifyRequest): boolean {
  return req.url.startsWith('/api/') || req.url === '/api';
}

/** An HTML error page with the site's header, so the user can search or go back. */
export function errorPage(status: number, title: string, message: string | SafeHtml): string {
  return layout(
    { title: `${title} · Paperboy` },
    html`<h1>${title}</h1><div class="notice error" role="alert"><p>${message}</p></div>
<p><a href="/papers">Go to today's papers</a> or search above.</p>`,
  ).value;
}

export function sendError(req: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  reply.code(status);
  if (wantsJson(req)) return reply.type('application/json; charset=utf-8').send({ error: errorCode(status), message });
  const title = status === 404 ? 'Not found' : status === 429 ? 'Too many requests' : status < 500 ? 'Bad request' : 'Something went wrong';
  return reply.type('text/html; charset=utf-8').send(errorPage(status, title, message));
}

/**
 * One shape for every error: JSON `{error, message}` under /api, an HTML page
 * elsewhere. Client errors say what was wrong; server errors are logged with
 * the request id and shown as a generic message.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => sendError(req, reply, 404, `Nothing at ${req.url.split('?')[0] ?? '/'}.`));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return sendError(req, reply, status, 'An internal error occurred. It has been logged.');
    }
    return sendError(req, reply, status, err.message);
  });
}
