import { test } from 'node:test';
import assert from 'node:assert/strict';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { CSRF_FIELD, CSRF_HEADER, csrfProtection } from './csrf.js';
import { installErrorHandlers } from './errors.js';

const SECRET = 'x'.repeat(40);

async function app(config: { secretKey: string | undefined; baseUrl: string }): Promise<FastifyInstance> {
  const server = Fastify();
  await server.register(cookie);
  await server.register(formbody);
  installErrorHandlers(server);
  const csrf = csrfProtection(config);
  server.get('/form', (req, reply) => reply.type('text/html').send(`<form>${csrf.field(req, reply).value}</form>`));
  server.get('/token', (req, reply) => ({ a: csrf.csrfToken(req, reply), b: csrf.csrfToken(req, reply) }));
  server.post('/submit', { preHandler: csrf.requireCsrf }, async () => ({ ok: true }));
  server.post('/api/submit', { preHandler: csrf.requireCsrf }, async () => ({ ok: true }));
  return server;
}

/** A browser's visit to the form: its cookie header and the token in the page. */
async function visit(server: FastifyInstance, cookieHeader?: string): Promise<{ cookie: string; token: string; setCookie: string | undefined }> {
  const res = await server.inject({ url: '/form', headers: cookieHeader ? { cookie: cookieHeader } : {} });
  const setCookie = res.headers['set-cookie'] as string | undefined;
  const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? '';
  return { cookie: cookieHeader ?? (setCookie ?? '').split(';')[0] ?? '', token, setCookie };
}

const form = (body: Record<string, string>): string => new URLSearchParams(body).toString();
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };

test('a form post with the token of its own cookie passes; the cookie is HttpOnly, SameSite=Lax, Path=/', async () => {
  const server = await app({ secretKey: SECRET, baseUrl: 'http://localhost:3000' });
  const v = await visit(server);
  assert.match(v.setCookie ?? '', /^paperboy_csrf=[A-Za-z0-9_-]{43};/);
  assert.match(v.setCookie ?? '', /HttpOnly/);
  assert.match(v.setCookie ?? '', /SameSite=Lax/);
  assert.match(v.setCookie ?? '', /Path=\//);
  assert.doesNotMatch(v.setCookie ?? '', /Secure/);
  assert.match(v.token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(v.token, v.cookie.split('=')[1], 'the token is a signature, not the cookie value');

  const ok = await server.inject({ method: 'POST', url: '/submit', headers: { ...FORM_TYPE, cookie: v.cookie }, payload: form({ [CSRF_FIELD]: v.token }) });
  assert.equal(ok.statusCode, 200);
  const viaHeader = await server.inject({ method: 'POST', url: '/submit', headers: { cookie: v.cookie, [CSRF_HEADER]: v.token } });
  assert.equal(viaHeader.statusCode, 200);

  // The same browser keeps its cookie and gets the same token (cached pages stay valid).
  const again = await visit(server, v.cookie);
  assert.equal(again.setCookie, undefined);
  assert.equal(again.token, v.token);
  await server.close();
});

test('missing cookie, missing token, wrong token or another browser’s token: 403 with a clear page', async () => {
  const server = await app({ secretKey: SECRET, baseUrl: 'http://localhost:3000' });
  const mine = await visit(server);
  const theirs = await visit(server);
  const attempts = [
    { headers: FORM_TYPE, payload: form({ [CSRF_FIELD]: mine.token }) },
    { headers: { ...FORM_TYPE, cookie: mine.cookie }, payload: form({ other: '1' }) },
    { headers: { ...FORM_TYPE, cookie: mine.cookie }, payload: form({ [CSRF_FIELD]: 'forged' }) },
    { headers: { ...FORM_TYPE, cookie: mine.cookie }, payload: form({ [CSRF_FIELD]: `${mine.token.slice(0, -1)}A` === mine.token ? `${mine.token.slice(0, -1)}B` : `${mine.token.slice(0, -1)}A` }) },
    { headers: { ...FORM_TYPE, cookie: mine.cookie }, payload: form({ [CSRF_FIELD]: theirs.token }) },
    // A cookie the attacker planted, with a token they made up from it.
    { headers: { ...FORM_TYPE, cookie: `paperboy_csrf=${'a'.repeat(43)}` }, payload: form({ [CSRF_FIELD]: 'a'.repeat(43) }) },
  ];
  for (const [i, a] of attempts.entries()) {
    const res = await server.inject({ method: 'POST', url: '/submit', ...a });
    assert.equal(res.statusCode, 403, `attempt ${i}`);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /could not be verified/);
    assert.match(res.body, /Reload the page/);
  }
  const json = await server.inject({ method: 'POST', url: '/api/submit', headers: { cookie: mine.cookie } });
  assert.equal(json.statusCode, 403);
  assert.equal(json.json().error, 'forbidden');
  await server.close();
});

test('tokens depend on the secret key; without one a per-process key is used consistently', async () => {
  const a = await app({ secretKey: SECRET, baseUrl: 'http://localhost:3000' });
  const b = await app({ secretKey: 'y'.repeat(40), baseUrl: 'http://localhost:3000' });
  const v = await visit(a);
  const cross = await b.inject({ method: 'POST', url: '/submit', headers: { ...FORM_TYPE, cookie: v.cookie }, payload: form({ [CSRF_FIELD]: v.token }) });
  assert.equal(cross.statusCode, 403, 'a token signed with another key is refused');

  // Two modules of one dev process (no SECRET_KEY) accept each other's tokens.
  const dev1 = await app({ secretKey: undefined, baseUrl: 'http://localhost:3000' });
  const dev2 = await app({ secretKey: undefined, baseUrl: 'http://localhost:3000' });
  const d = await visit(dev1);
  const ok = await dev2.inject({ method: 'POST', url: '/submit', headers: { ...FORM_TYPE, cookie: d.cookie }, payload: form({ [CSRF_FIELD]: d.token }) });
  assert.equal(ok.statusCode, 200);
  for (const s of [a, b, dev1, dev2]) await s.close();
});

test('over https the cookie is Secure and __Host- prefixed; one token per request', async () => {
  const server = await app({ secretKey: SECRET, baseUrl: 'https://papers.example.org' });
  const res = await server.inject('/token');
  const setCookie = res.headers['set-cookie'];
  assert.equal(typeof setCookie, 'string', 'one cookie even when the token is asked for twice');
  assert.match(setCookie as string, /^__Host-paperboy_csrf=/);
  assert.match(setCookie as string, /Secure/);
  const { a, b } = res.json<{ a: string; b: string }>();
  assert.equal(a, b);
  await server.close();
});
