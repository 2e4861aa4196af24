/**
 * CSRF protection for every HTML form (and any cookie-authenticated fetch).
 *
 * Why: a browser attaches Paperboy's cookies to any request aimed at it, also
 * one a hostile page triggers with an auto-submitting form. Such a page can
 * make the browser *send* a request but can neither read our pages nor our
 * cookies, so a secret it cannot know, echoed in the request, proves the
 * request came from one of our own pages.
 *
 * How: signed double-submit. Each browser gets a random value in an HttpOnly
 * cookie; the token put into forms is HMAC-SHA256(key, value). A request is
 * accepted when the token it carries (form field `_csrf` or header
 * `x-csrf-token`) equals the HMAC of its cookie. Signing, rather than echoing
 * the cookie itself, means an attacker who can plant a cookie (from a sibling
 * subdomain, say) still cannot produce a matching token without the key.
 * Nothing is stored on the server, so it works before accounts exist and with
 * any number of processes sharing SECRET_KEY.
 *
 * The token stays the same for as long as the cookie lives, so a page served
 * from the browser cache (304) still carries a valid token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';

/** Form field that carries the token. */
export const CSRF_FIELD = '_csrf';
/** Header that carries the token for scripts. */
export const CSRF_HEADER = 'x-csrf-token';
const COOKIE = 'paperboy_csrf';
// `__Host-` cookies are only accepted when Secure, Path=/ and without Domain:
// a sibling subdomain cannot set or overwrite them.
const SECURE_COOKIE = '__Host-paperboy_csrf';
const VALUE_RE = /^[A-Za-z0-9_-]{43}$/;
const COOKIE_MAX_AGE_S = 365 * 24 * 3600;
/** What a 403 says: the usual cause is an old page or blocked cookies, not an attack. */
export const CSRF_FAILURE_MESSAGE =
  'This form could not be verified (its security token is missing, expired or does not match your browser). Reload the page and try again; if it keeps happening, allow cookies for this site.';

/** Why a request was refused. */
export type CsrfFailure = 'no-cookie' | 'no-token' | 'bad-token';

/** CSRF tokens and checks bound to one configuration. */
export interface CsrfProtection {
  /** The token for this browser, setting its cookie first when it has none. */
  csrfToken(req: FastifyRequest, reply: FastifyReply): string;
  /** Null when the request carries a token matching its cookie, else why not. */
  verifyCsrf(req: FastifyRequest): CsrfFailure | null;
  /** A preHandler that answers 403 (HTML page, or JSON under /api) unless `verifyCsrf` passes. */
  requireCsrf: preHandlerAsyncHookHandler;
  /** The hidden form input carrying the token. */
  field(req: FastifyRequest, reply: FastifyReply): SafeHtml;
}

// Without SECRET_KEY (development) a key made at start-up serves the whole
// process: every form still works, and tokens simply expire on restart.
let processKey: Buffer | undefined;

/** The HMAC key: derived from SECRET_KEY, so the secret itself never signs anything user-visible. */
function keyFor(secretKey: string | undefined): Buffer {
  if (secretKey === undefined) {
    processKey ??= randomBytes(32);
    return processKey;
  }
  return createHmac('sha256', secretKey).update('paperboy/csrf/v1').digest();
}

function sign(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

function tokenFrom(req: FastifyRequest): string | undefined {
  const body = req.body;
  if (typeof body === 'object' && body !== null && CSRF_FIELD in body) {
    const value = (body as Record<string, unknown>)[CSRF_FIELD];
    if (typeof value === 'string') return value;
  }
  const header = req.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}

const issued = new WeakMap<FastifyRequest, string>();
const cache = new WeakMap<object, CsrfProtection>();

/** The CSRF protection of a configuration (one per config object, so every module shares it). */
export function csrfProtection(config: Pick<Config, 'secretKey' | 'baseUrl'>): CsrfProtection {
  const known = cache.get(config);
  if (known) return known;
  const key = keyFor(config.secretKey);
  const secure = config.baseUrl.startsWith('https:');
  const cookieName = secure ? SECURE_COOKIE : COOKIE;

  const cookieValue = (req: FastifyRequest): string | undefined => {
    const value = req.cookies[cookieName];
    return value !== undefined && VALUE_RE.test(value) ? value : undefined;
  };

  const protection: CsrfProtection = {
    csrfToken(req, reply) {
      let value = issued.get(req) ?? cookieValue(req);
      if (value === undefined) {
        value = randomBytes(32).toString('base64url');
        reply.setCookie(cookieName, value, {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure,
          maxAge: COOKIE_MAX_AGE_S,
        });
      }
      issued.set(req, value);
      return sign(key, value);
    },
    verifyCsrf(req) {
      const value = cookieValue(req);
      if (value === undefined) return 'no-cookie';
      const token = tokenFrom(req);
      if (token === undefined || token === '') return 'no-token';
      const expected = Buffer.from(sign(key, value));
      const given = Buffer.from(token);
      // timingSafeEqual needs equal lengths; a length mismatch reveals nothing secret.
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-token';
      return null;
    },
    async requireCsrf(req, reply) {
      const failure = protection.verifyCsrf(req);
      if (failure === null) return;
      req.log.info({ csrf: failure }, 'request refused: CSRF check failed');
      return sendError(req, reply, 403, CSRF_FAILURE_MESSAGE);
    },
    field(req, reply) {
      return html`<input type="hidden" name="${CSRF_FIELD}" value="${protection.csrfToken(req, reply)}">`;
    },
  };
  cache.set(config, protection);
  return protection;
}
