/**
 * The route table, audited: every state-changing route (POST, PUT, PATCH,
 * DELETE) refuses a request without its CSRF token or the API's bearer token,
 * refuses read-only tokens, and changes nothing when it refuses; no GET changes
 * state; every staff route (one that declares `minRole`) refuses each role
 * below its own, through a browser session and a write token, and changes
 * nothing. New routes are covered as soon as they are added, and the audit is
 * shown to catch an unprotected route.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse, RouteOptions } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { applyCategoryRule } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { ROLES, roleAtLeast } from '../src/accounts/users.js';
import type { Role } from '../src/db/schema.js';
import { createLogger } from '../src/log.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { instanceEnv } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * State-changing routes that take neither a session nor a token, and why.
 * Even the signed-out forms (sign-up, log-in, fetch from arXiv) need their
 * CSRF token, which this audit checks like any other.
 */
const OPEN_WRITES = new Map<string, string>([
  [
    'POST /api/subscriptions',
    'Anyone may ask for the digest, signed in or not: it only emails the address a confirmation (double opt-in, one per 10 minutes), and is limited per client address.',
  ],
  [
    'POST /unsubscribe/:token',
    'RFC 8058 one-click unsubscribe: mail clients post without cookies or CSRF token; the unguessable link token is the credential, and it can only end a subscription.',
  ],
]);

/** Staff routes whose role is part of the product, so a change of role is a deliberate change here. */
const STAFF_ROUTES = new Map<string, Role>([
  ['GET /admin', 'curator'],
  ['GET /admin/users', 'moderator'],
  ['GET /admin/users/:id', 'moderator'],
  ['POST /admin/users/:id/ban', 'moderator'],
  ['POST /admin/users/:id/unban', 'moderator'],
  ['POST /admin/users/:id/suspend', 'moderator'],
  ['POST /admin/users/:id/unsuspend', 'moderator'],
  ['POST /admin/users/:id/role', 'admin'],
  ['GET /admin/settings', 'admin'],
  ['POST /admin/settings', 'admin'],
  ['GET /admin/outbox', 'admin'],
  ['GET /admin/claims', 'curator'],
  ['POST /admin/claims/:id/verify', 'curator'],
  ['POST /admin/claims/:id/reject', 'curator'],
  ['POST /papers/:id/feature', 'curator'],
  ['POST /papers/:archive/:num/feature', 'curator'],
  ['POST /papers/:id/unfeature', 'curator'],
  ['POST /papers/:archive/:num/unfeature', 'curator'],
  ['POST /papers/:id/lock', 'moderator'],
  ['POST /papers/:archive/:num/lock', 'moderator'],
  ['POST /papers/:id/unlock', 'moderator'],
  ['POST /papers/:archive/:num/unlock', 'moderator'],
  ['POST /comments/:id/hide', 'moderator'],
  ['POST /comments/:id/unhide', 'moderator'],
  ['GET /admin/reports', 'moderator'],
  ['POST /admin/reports/:id/dismiss', 'moderator'],
  ['POST /api/papers/:id/feature', 'curator'],
  ['POST /api/papers/:archive/:number/feature', 'curator'],
  ['DELETE /api/papers/:id/feature', 'curator'],
  ['DELETE /api/papers/:archive/:number/feature', 'curator'],
  ['POST /api/papers/:id/lock', 'moderator'],
  ['POST /api/papers/:archive/:number/lock', 'moderator'],
  ['DELETE /api/papers/:id/lock', 'moderator'],
  ['DELETE /api/papers/:archive/:number/lock', 'moderator'],
  ['POST /api/comments/:id/hide', 'moderator'],
  ['DELETE /api/comments/:id/hide', 'moderator'],
  ['GET /api/claims', 'curator'],
  ['POST /api/claims/:id/verify', 'curator'],
  ['POST /api/claims/:id/reject', 'curator'],
]);

interface Route {
  method: string;
  url: string;
  /** The least role the route declares, if it is a staff route. */
  minRole?: Role;
}

let ctx: AppContext;
let app: FastifyInstance;
const routes: Route[] = [];
let user: TestUser;
/** A signed-in person of each role. */
const staff = new Map<Role, TestUser>();
let readToken: string;
let paperId = '';

async function build(collect: Route[]): Promise<FastifyInstance> {
  return buildApp(ctx, {
    onRoute: (route: RouteOptions) => {
      const minRole = route.config?.minRole;
      for (const method of [route.method].flat()) collect.push({ method, url: route.url, ...(minRole === undefined ? {} : { minRole }) });
    },
  });
}

before(async () => {
  ctx = await createContext(
    loadConfig({
      ...(await instanceEnv()),
      HARVEST_ENABLED: 'false',
      RATE_LIMIT_AUTH: '10000',
      RATE_LIMIT_WRITE: '10000',
      RATE_LIMIT_SUBMIT: '10000',
      // The mail webhook on, so the audit sees its routes refuse everyone without the secret (401, not 404).
      MAIL_WEBHOOK_SECRET: 'routes-audit-mail-webhook-secret-0123456789',
    }),
    createLogger('silent'),
  );
  app = await build(routes);
  if (!shared.skip) {
    await importPaths(ctx.database, [join(shared.dir, 'arxiv')]);
    await applyCategoryRule(ctx.database, ctx.config.arxivCategories);
  }
  const paper = await ctx.database.db.selectFrom('papers').select('arxiv_id').orderBy('id').executeTakeFirst();
  paperId = paper?.arxiv_id ?? '2401.00001';
  user = await signedInUser(ctx, app, { username: 'auditor' });
  readToken = await user.token('read');
  for (const role of ROLES) staff.set(role, role === 'user' ? user : await signedInUser(ctx, app, { username: `audit-${role}`, role }));
});

after(async () => {
  await app.close();
  await ctx.database.close();
});

/** A path for a route pattern: real ids where the route reads one. */
function pathFor(pattern: string): string {
  return pattern
    .replace(':archive/:num', 'hep-th/9901001')
    .replace(':archive/:number', 'hep-th/9901001')
    .replace(/:id\b/g, /^\/(api\/)?(papers|authors)\b/.test(pattern) ? paperId : '1')
    .replace(':period', new Date().toISOString().slice(0, 10))
    .replace(':category', 'cs.LG')
    .replace(':file', 'cs.LG.rss')
    .replace(':username', 'auditor')
    .replace(/:[A-Za-z]+/g, '1')
    .replace('*', 'app.css');
}

/**
 * Everything a request could change, except bookkeeping that reads may do
 * (a session's last-seen time, a token's last use, rate-limit counters).
 */
async function fingerprint(): Promise<string> {
  const { rows } = await sql<Record<string, unknown>>`SELECT
      (SELECT count(*) FROM users) AS users,
      (SELECT count(*) FROM sessions) AS sessions,
      (SELECT count(*) FROM email_tokens) AS email_tokens,
      (SELECT count(*) FROM email_tokens WHERE used_at IS NOT NULL) AS used_tokens,
      (SELECT count(*) FROM api_tokens) AS api_tokens,
      (SELECT count(*) FROM outbox) AS outbox,
      (SELECT count(*) FROM upvotes) AS upvotes,
      (SELECT count(*) FROM comments) AS comments,
      (SELECT coalesce(sum(length(body)), 0) FROM comments) AS comment_text,
      (SELECT count(*) FROM comments WHERE deleted_at IS NOT NULL) AS deleted_comments,
      (SELECT count(*) FROM comment_revisions) AS revisions,
      (SELECT count(*) FROM notifications WHERE read_at IS NULL) AS unread,
      (SELECT count(*) FROM papers) AS papers,
      (SELECT coalesce(sum(upvotes), 0) FROM papers) AS paper_upvotes,
      (SELECT coalesce(sum(comment_count), 0) FROM papers) AS paper_comments,
      (SELECT count(*) FROM featured) AS featured,
      (SELECT count(*) FROM featured WHERE hidden_at IS NOT NULL) AS hidden,
      (SELECT count(*) FROM jobs) AS jobs,
      (SELECT coalesce(max(email_verified_at), '') FROM users) AS verified,
      (SELECT coalesce(max(email), '') FROM users) AS emails,
      (SELECT count(*) FROM subscribers) AS subscribers,
      (SELECT count(*) FROM subscribers WHERE status = 'confirmed') AS confirmed_subscribers,
      (SELECT count(*) FROM subscribers WHERE status = 'unsubscribed') AS unsubscribed,
      (SELECT coalesce(max(updated_at), '') FROM subscribers) AS subscribers_updated,
      (SELECT count(*) FROM suppressions) AS suppressions,
      (SELECT count(*) FROM mail_events) AS mail_events,
      (SELECT count(*) FROM author_claims) AS claims,
      (SELECT count(*) FROM author_claims WHERE status <> 'pending') AS decided_claims,
      (SELECT coalesce(sum(show_on_profile), 0) FROM author_claims) AS claims_on_profiles,
      (SELECT count(*) FROM collections) AS collections,
      (SELECT count(*) FROM collections WHERE is_public = 1) AS public_collections,
      (SELECT coalesce(sum(length(name) + length(description)), 0) FROM collections) AS collection_text,
      (SELECT count(*) FROM collection_papers) AS collection_papers,
      (SELECT coalesce(sum(position + length(note)), 0) FROM collection_papers) AS collection_order_notes,
      (SELECT count(*) FROM follows) AS follows,
      (SELECT coalesce(max(token), '') FROM feed_tokens) AS feed_tokens,
      (SELECT count(*) FROM not_interested) AS not_interested,
      (SELECT count(*) FROM muted_keywords) AS muted_keywords,
      (SELECT count(*) FROM saved_searches) AS saved_searches,
      (SELECT coalesce(sum(length(name) + coalesce(length(webhook_url), 0) + email_alert), 0) FROM saved_searches) AS saved_search_settings,
      (SELECT coalesce(max(feed_token), '') || coalesce(max(webhook_secret), '') || coalesce(max(last_seen_at), '') FROM saved_searches) AS saved_search_secrets,
      (SELECT count(*) FROM saved_search_matches) AS saved_search_matches,
      (SELECT count(*) FROM webhook_deliveries) AS webhook_deliveries,
      (SELECT coalesce(sum(for_you), 0) FROM subscribers) AS digest_for_you,
      (SELECT count(*) FROM users WHERE banned_at IS NOT NULL OR suspended_until IS NOT NULL) AS restricted_users,
      (SELECT coalesce(max(role), '') || count(DISTINCT role) FROM users) AS roles,
      (SELECT count(*) FROM comments WHERE hidden_at IS NOT NULL) AS hidden_comments,
      (SELECT count(*) FROM thread_locks) AS locks,
      (SELECT count(*) FROM reports) AS reports,
      (SELECT count(*) FROM reports WHERE resolved_at IS NOT NULL) AS resolved_reports,
      (SELECT count(*) FROM moderation_log) AS moderation_log,
      (SELECT coalesce(max(updated_at), '') FROM instance_settings) AS settings`.execute(ctx.database.db);
  return JSON.stringify(rows[0], (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v));
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { 'content-type': 'application/json' };

function refused(res: LightMyRequestResponse): boolean {
  if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 404 || res.statusCode === 405) return true;
  // Pages send a signed-out browser to the log-in page.
  return res.statusCode === 303 && String(res.headers.location ?? '').startsWith('/login');
}

/** The write routes of `table` that accept a request they should refuse, with what was sent. */
async function auditWrites(target: FastifyInstance, table: Route[]): Promise<string[]> {
  const problems: string[] = [];
  const writes = table.filter((r) => WRITE_METHODS.has(r.method) && !OPEN_WRITES.has(`${r.method} ${r.url}`));
  for (const route of writes) {
    const url = pathFor(route.url);
    const api = url.startsWith('/api/');
    const attempts: [string, Record<string, string>][] = [
      ['anonymous, no CSRF token', api ? json : form],
      ['a session without its CSRF token', { ...(api ? json : form), cookie: user.cookie }],
      ['a read-only API token', { ...(api ? json : form), authorization: `Bearer ${readToken}` }],
    ];
    for (const [who, headers] of attempts) {
      const before = await fingerprint();
      const res = await target.inject({ method: route.method as 'POST', url, headers, payload: api ? '{}' : '' });
      const after = await fingerprint();
      if (!refused(res)) problems.push(`${route.method} ${route.url} accepted ${who}: ${res.statusCode}`);
      if (after !== before) problems.push(`${route.method} ${route.url} changed state for ${who}`);
    }
  }
  return problems;
}

test('the app has write routes to audit', () => {
  const writes = routes.filter((r) => WRITE_METHODS.has(r.method)).map((r) => `${r.method} ${r.url}`);
  for (const expected of ['POST /signup', 'POST /login', 'POST /logout', 'POST /settings/tokens', 'POST /settings/delete']) {
    assert.ok(writes.includes(expected), `${expected} in ${writes.join(', ')}`);
  }
});

test('every state-changing route needs its CSRF token or a write token, and changes nothing when refused', async () => {
  assert.deepEqual(await auditWrites(app, routes), []);
});

test('the audit catches an unprotected route', async () => {
  const table: Route[] = [];
  const leaky = await build(table);
  leaky.post('/leaky', async () => {
    await ctx.database.db.insertInto('outbox').values({ recipient: 'x@example.org', subject: 's', text_body: 't', kind: 'leak', created_at: new Date().toISOString() }).execute();
    return { ok: true };
  });
  table.push({ method: 'POST', url: '/leaky' });
  try {
    const problems = await auditWrites(leaky, table.filter((r) => r.url === '/leaky'));
    assert.ok(problems.some((p) => p.startsWith('POST /leaky accepted anonymous')));
    assert.ok(problems.some((p) => p === 'POST /leaky changed state for anonymous, no CSRF token'));
  } finally {
    await leaky.close();
  }
});

/** The staff routes of `table` that let a lower role in, or change state for one. */
async function auditRoles(target: FastifyInstance, table: Route[]): Promise<string[]> {
  const problems: string[] = [];
  for (const route of table) {
    const { minRole } = route;
    if (minRole === undefined) continue;
    const url = pathFor(route.url);
    const api = url.startsWith('/api/');
    const write = WRITE_METHODS.has(route.method);
    for (const role of ROLES.filter((r) => !roleAtLeast(r, minRole))) {
      const person = staff.get(role);
      if (person === undefined) throw new Error(`no ${role} to audit with`);
      const attempts: [string, Record<string, string>][] = [[`a ${role}'s session`, { cookie: person.cookie, ...(write ? { 'x-csrf-token': person.csrf } : {}) }]];
      if (api || write) attempts.push([`a ${role}'s write token`, { authorization: `Bearer ${await person.token('write')}` }]);
      for (const [who, headers] of attempts) {
        const before = await fingerprint();
        const res = await target.inject({
          method: route.method as 'GET',
          url,
          headers: { ...headers, ...(write ? (api ? json : form) : {}) },
          ...(write ? { payload: api ? '{}' : '' } : {}),
        });
        if (res.statusCode !== 403) problems.push(`${route.method} ${route.url} (${minRole}) answered ${who}: ${res.statusCode}`);
        if ((await fingerprint()) !== before) problems.push(`${route.method} ${route.url} (${minRole}) changed state for ${who}`);
      }
    }
  }
  return problems;
}

test('every route under /admin or /api/admin is a staff route', () => {
  const open = routes.filter((r) => /^\/(api\/)?admin(\/|$)/.test(r.url) && r.minRole === undefined).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(open, []);
});

test('staff routes declare the role the issue gives them', () => {
  const declared = new Map(routes.map((r) => [`${r.method} ${r.url}`, r.minRole]));
  for (const [route, role] of STAFF_ROUTES) assert.equal(declared.get(route), role, `${route} should be for ${role} and above`);
});

test('every staff route refuses each role below its own and changes nothing', async () => {
  assert.ok(routes.some((r) => r.minRole !== undefined), 'the app has staff routes');
  assert.deepEqual(await auditRoles(app, routes), []);
});

test('staff routes let their own role and those above it in', async () => {
  const problems: string[] = [];
  for (const route of routes.filter((r) => r.minRole !== undefined && r.method === 'GET')) {
    for (const role of ROLES.filter((r) => route.minRole !== undefined && roleAtLeast(r, route.minRole))) {
      const res = await app.inject({ url: pathFor(route.url), headers: { cookie: staff.get(role)?.cookie ?? '' } });
      if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode >= 500) problems.push(`GET ${route.url} refused a ${role}: ${res.statusCode}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the role audit catches a staff page that lets a lower role in', async () => {
  const table: Route[] = [];
  const leaky = await build(table);
  // Declares a moderator page but checks for any signed-in person instead of the role.
  leaky.get('/admin/leaky', async (req, reply) => (req.auth === null ? reply.code(401).send() : { ok: true }));
  try {
    const problems = await auditRoles(leaky, [{ method: 'GET', url: '/admin/leaky', minRole: 'moderator' }]);
    assert.ok(problems.includes("GET /admin/leaky (moderator) answered a user's session: 200"), problems.join('\n'));
    assert.ok(problems.includes("GET /admin/leaky (moderator) answered a curator's session: 200"), problems.join('\n'));
  } finally {
    await leaky.close();
  }
});

test('no GET changes state, signed in or not', async () => {
  const gets = routes.filter((r) => r.method === 'GET');
  assert.ok(gets.length > 20);
  for (const route of gets) {
    const url = pathFor(route.url);
    for (const headers of [{}, { cookie: user.cookie }, { authorization: `Bearer ${readToken}` }]) {
      const before = await fingerprint();
      const res = await app.inject({ url, headers });
      // /readyz may say 503 while the server-mode search index builds; nothing else may fail.
      assert.ok(res.statusCode < 500 || route.url === '/readyz', `GET ${url}: ${res.statusCode}`);
      assert.equal(await fingerprint(), before, `GET ${route.url} changed state`);
    }
  }
});
