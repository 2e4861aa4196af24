/**
 * Pages made for one browser: they carry its CSRF token or a person's data,
 * so no cache anywhere may keep them.
 */
import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.js';

export function sendPrivatePage(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply.code(status).header('cache-control', 'private, no-store').type('text/html; charset=utf-8').send(page.value);
}

/** A status message, or with `alert` a problem, at the top of a form page. */
export function notice(message: string | SafeHtml, kind: 'status' | 'alert' = 'status'): SafeHtml {
  return html`<div class="notice${kind === 'alert' ? ' error' : ''}" role="${kind}"><p>${message}</p></div>`;
}
