/**
 * Signed-in test clients for in-process apps: a user made the way the CLI
 * makes one, a real session (cookie) with its CSRF token, and personal API
 * tokens, so tests exercise the same checks as browsers and scripts.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createApiToken } from '../../src/accounts/api-tokens.js';
import { startSession } from '../../src/accounts/sessions.js';
import { createUser, type Viewer } from '../../src/accounts/users.js';
import type { AppContext } from '../../src/context.js';
import type { Role, TokenScope } from '../../src/db/schema.js';

let made = 0;

export interface TestUser {
  viewer: Viewer;
  /** `Cookie` header value: the session and the CSRF cookie. */
  cookie: string;
  /** The CSRF token matching the CSRF cookie (form field `_csrf` or header `x-csrf-token`). */
  csrf: string;
  /** A new personal API token of this user. */
  token(scope: TokenScope): Promise<string>;
  /** A request as this user's browser: session cookie and, for non-GET methods, the CSRF header. */
  inject(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse>;
}

/** The CSRF cookie and token the app hands an anonymous browser (from any page with a form). */
export async function browserCsrf(app: FastifyInstance, url = '/login'): Promise<{ cookie: string; csrf: string }> {
  const page = await app.inject(url);
  const setCookie = page.headers['set-cookie'];
  const cookies = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).map((c) => c.split(';')[0] ?? '');
  const cookie = cookies.find((c) => c.includes('paperboy_csrf=')) ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  if (cookie === '' || csrf === '') throw new Error(`${url} handed out no CSRF cookie and token (status ${page.statusCode})`);
  return { cookie, csrf };
}

/** A verified user with a session on `app`. */
export async function signedInUser(
  ctx: AppContext,
  app: FastifyInstance,
  options: { username?: string; role?: Role; email?: string } = {},
): Promise<TestUser> {
  made += 1;
  const username = options.username ?? `user${made}_${Math.random().toString(36).slice(2, 6)}`;
  const created = await createUser(ctx.database, {
    email: options.email ?? `${username}@example.org`,
    username,
    password: `a long passphrase for ${username}`,
    role: options.role ?? 'user',
    verified: true,
  });
  if (!created.ok) throw new Error(`${created.field}: ${created.problem}`);
  const session = await startSession(ctx.database, ctx.config, created.user.id, { userAgent: 'test' });
  const { cookie: csrfCookie, csrf } = await browserCsrf(app);
  const cookie = `paperboy_session=${session}; ${csrfCookie}`;
  return {
    viewer: created.user,
    cookie,
    csrf,
    token: async (scope) => (await createApiToken(ctx.database, created.user.id, scope, 'test')).token,
    inject: (request) =>
      app.inject({
        ...request,
        headers: {
          cookie,
          ...(request.method !== undefined && request.method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
          ...request.headers,
        },
      }),
  };
}
