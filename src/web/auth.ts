/**
 * Who is asking: a session cookie (browsers) or a personal API token
 * (`Authorization: Bearer pb_…`, scripts), resolved once per request into
 * `req.auth`. Routes then say what they need:
 *
 * - `requireUser`: someone signed in (pages redirect to /login, the API says 401).
 * - `requireWrite`: a state change. With a session it also needs the CSRF
 *   token, since a browser attaches the cookie to requests other sites make it
 *   send; a bearer token is never attached by a browser, so it needs none, but
 *   it must have the write scope.
 *
 * - `config: { minRole: 'curator' }` on a route: staff only. The check is one
 *   hook for every route, so declaring the role is enforcing it.
 *
 * Moderation is enforced here too, not per route: a banned account's
 * sessions and tokens resolve to nobody and it cannot sign in again; a
 * suspended one reads as usual, but `requireWrite` refuses its every write
 * (account settings, export, deletion and signing out stay open).
 *
 * Every state-changing route uses `requireWrite` or, for signed-out forms
 * (sign-up, sign-in), the CSRF check alone; test/routes.test.ts walks the
 * route table to keep it so, and checks every staff route refuses the roles
 * below its own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { apiTokenViewer } from '../accounts/api-tokens.js';
import { sessionViewer, startSession } from '../accounts/sessions.js';
import { findUserById, restrictionMessage, restrictionOf, roleAtLeast, type Restriction, type Viewer } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import type { Role, TokenScope } from '../db/schema.js';
import { csrfProtection } from './csrf.js';
import { sendError } from './errors.js';
import type { SafeHtml } from './html.js';
import { accountNav, ANONYMOUS_ACCOUNT_NAV } from './layout.js';

export interface Auth {
  viewer: Viewer;
  via: 'session' | 'token';
  /** Sessions may do everything their person may; tokens what their scope allows. */
  scope: TokenScope;
  sessionId?: number;
  tokenId?: number;
  /** Unread notifications, for the page header (sessions only). */
  unread: number;
  /** A suspension in force (a banned account never gets this far). */
  restriction: Restriction | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; null when nobody is signed in. */
    auth: Auth | null;
  }
  interface FastifyContextConfig {
    /** The least role that may use the route (staff pages and actions); checked for every route by installAuth. */
    minRole?: Role;
  }
}

const COOKIE = 'paperboy_session';
// `__Host-`: only accepted when Secure, Path=/ and without Domain (no sibling subdomain can set it).
const SECURE_COOKIE = '__Host-paperboy_session';

function cookieName(ctx: AppContext): string {
  return ctx.config.baseUrl.startsWith('https:') ? SECURE_COOKIE : COOKIE;
}

/** The signed-in person, or null. */
export function viewerOf(req: FastifyRequest): Viewer | null {
  return req.auth?.viewer ?? null;
}

/** Resolves `req.auth` on every request: a bearer token, else the session cookie. */
export function installAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req, reply) => {
    // The mail webhook's bearer is its shared secret, not an account's token (src/api/mail-webhook-routes.ts).
    if (req.routeOptions.config.mailWebhook === true) return;
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const found = match?.[1] === undefined ? null : await apiTokenViewer(ctx.database, match[1]);
      if (found === null) {
        reply.header('www-authenticate', 'Bearer realm="paperboy"');
        return sendError(req, reply, 401, 'The API token is unknown or revoked. Create one in your settings (or with paperboy token create).');
      }
      req.auth = { viewer: found.viewer, via: 'token', scope: found.scope, tokenId: found.tokenId, unread: 0, restriction: found.restriction };
      return;
    }
    const token = req.cookies[cookieName(ctx)];
    if (token === undefined) return;
    const found = await sessionViewer(ctx.database, ctx.config, token);
    if (found === null) {
      // Ended, expired or unknown: drop the cookie so the next pages are anonymous (and cacheable).
      clearSessionCookie(ctx, reply);
      return;
    }
    req.auth = { viewer: found.viewer, via: 'session', scope: 'write', sessionId: found.sessionId, unread: found.unread, restriction: found.restriction };
  });
  // A hook rather than a preHandler each route adds: a staff route cannot forget its check.
  app.addHook('preHandler', async (req, reply) => {
    const minRole = req.routeOptions.config.minRole;
    if (minRole === undefined) return;
    if (req.auth === null) return notSignedIn(req, reply);
    if (!roleAtLeast(req.auth.viewer.role, minRole)) return sendError(req, reply, 403, `Only a ${minRole} or above may do this.`);
  });
  personaliseHtml(ctx, app);
}

/**
 * Fills a signed-in person's header into HTML pages as they are sent (see
 * layout.ts ANONYMOUS_ACCOUNT_NAV), and keeps their pages out of shared caches.
 */
function personaliseHtml(ctx: AppContext, app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.auth?.via !== 'session' || typeof payload !== 'string') return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !type.startsWith('text/html')) return payload;
    const cacheControl = reply.getHeader('cache-control');
    if (typeof cacheControl !== 'string' || !cacheControl.startsWith('private')) reply.header('cache-control', 'private, no-cache');
    const account = headerAccount(ctx, req, reply);
    return account === null ? payload : payload.replace(ANONYMOUS_ACCOUNT_NAV, accountNav(account).value);
  });
}

/**
 * Signs `userId` in on this browser: a new session (never a reused one) and
 * its cookie. A banned account is refused here, for every way of signing in
 * (password, emailed link, reset), with a 403 naming the reason.
 */
export async function signIn(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, userId: number): Promise<void> {
  const account = await findUserById(ctx.database, userId);
  const restriction = account === undefined ? null : restrictionOf(account);
  if (restriction?.kind === 'banned') {
    req.log.info({ userId }, 'sign-in refused: banned');
    throw Object.assign(new Error(restrictionMessage(restriction)), { statusCode: 403 });
  }
  const token = await startSession(ctx.database, ctx.config, userId, {
    userAgent: req.headers['user-agent'],
    ip: req.ip,
  });
  reply.setCookie(cookieName(ctx), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.config.baseUrl.startsWith('https:'),
    maxAge: Math.floor(ctx.config.sessions.maxMs / 1000),
  });
}

/** The session token this request carries, if any. */
export function sessionToken(ctx: AppContext, req: FastifyRequest): string | undefined {
  return req.cookies[cookieName(ctx)];
}

export function clearSessionCookie(ctx: AppContext, reply: FastifyReply): void {
  reply.clearCookie(cookieName(ctx), { path: '/', secure: ctx.config.baseUrl.startsWith('https:') });
}

function isApi(req: FastifyRequest): boolean {
  return req.url.startsWith('/api/');
}

function notSignedIn(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isApi(req)) {
    reply.header('www-authenticate', 'Bearer realm="paperboy"');
    return sendError(req, reply, 401, 'Sign in, or send a personal API token as "Authorization: Bearer <token>".');
  }
  const next = req.method === 'GET' ? req.url : (req.headers.referer ?? '/');
  return reply.redirect(`/login?next=${encodeURIComponent(safeNext(next))}`, 303);
}

/** `next` when it is a path on this site, else `/`: a sign-in link must not send people elsewhere. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string') return '/';
  let path = next;
  try {
    // A full URL (the Referer) keeps only its path on this site.
    if (/^https?:\/\//i.test(next)) {
      const url = new URL(next);
      path = url.pathname + url.search;
    }
  } catch {
    return '/';
  }
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') ? path : '/';
}

/** The signed-in person of a route behind requireUser or requireWrite (which ran first): narrows the type. */
export function signedInId(req: FastifyRequest): number {
  const id = req.auth?.viewer.id;
  if (id === undefined) throw new Error('route must require a signed-in person');
  return id;
}

/** A preHandler: someone must be signed in. */
export const requireUser: preHandlerAsyncHookHandler = async (req, reply) => {
  if (req.auth === null) return notSignedIn(req, reply);
};

/** A preHandler for state changes by a signed-in person: CSRF for sessions, the write scope for tokens. */
export function requireWrite(ctx: AppContext): preHandlerAsyncHookHandler {
  const csrf = csrfProtection(ctx.config);
  return async function (this: FastifyInstance, req, reply) {
    const auth = req.auth;
    if (auth === null) return notSignedIn(req, reply);
    if (auth.restriction !== null) return sendError(req, reply, 403, restrictionMessage(auth.restriction));
    if (auth.via === 'token') {
      if (auth.scope !== 'write') return sendError(req, reply, 403, 'This API token is read-only; create a token with the write scope.');
      return;
    }
    return csrf.requireCsrf.call(this, req, reply);
  };
}

/**
 * A preHandler for account settings (sessions, tokens, email, deletion): a
 * browser session with its CSRF token only. A leaked API token must not be
 * able to mint more tokens, end the owner's sessions or delete the account.
 */
export function requireSessionWrite(ctx: AppContext): preHandlerAsyncHookHandler {
  const csrf = csrfProtection(ctx.config);
  return async function (this: FastifyInstance, req, reply) {
    const auth = req.auth;
    if (auth === null) return notSignedIn(req, reply);
    if (auth.via !== 'session') return sendError(req, reply, 403, 'Account settings can only be changed when signed in with a browser, not with an API token.');
    return csrf.requireCsrf.call(this, req, reply);
  };
}

/** The account part of the page header for this request. */
export interface HeaderAccount {
  username: string;
  /** Staff get a link to /admin. */
  role: Role;
  unread: number;
  /** The CSRF field of the sign-out form. */
  csrfField: SafeHtml;
}

export function headerAccount(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): HeaderAccount | null {
  const auth = req.auth;
  if (auth === null || auth.via !== 'session') return null;
  return { username: auth.viewer.username, role: auth.viewer.role, unread: auth.unread, csrfField: csrfProtection(ctx.config).field(req, reply) };
}

/** An HTML form's CSRF field. */
export function csrfField(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): SafeHtml {
  return csrfProtection(ctx.config).field(req, reply);
}
