/**
 * `paperboy user create` and `paperboy token create|revoke` as real child
 * processes, on both engines; the tokens they print work against the API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import { buildApp } from '../src/app.js';
import { createLogger } from '../src/log.js';
import type { FastifyInstance } from 'fastify';
import { runCli, tempDataDir } from './support/cli.js';
import { instanceEnv } from './support/database.js';

let env: Record<string, string>;
let ctx: AppContext;
let app: FastifyInstance;

before(async () => {
  env = { ...(await instanceEnv(tempDataDir())), HARVEST_ENABLED: 'false' };
  ctx = await createContext(loadConfig(env), createLogger('silent'));
  app = await buildApp(ctx);
});
after(async () => {
  await app.close();
  await ctx.database.close();
});

test('an admin made on the command line signs in with the password from stdin', async () => {
  const made = await runCli(['user', 'create', '--email', 'root@example.org', '--username', 'rootie', '--role', 'admin', '--password-stdin'], env, 60_000, 'a very long admin passphrase\n');
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /created admin rootie/);
  const user = await ctx.database.db.selectFrom('users').selectAll().where('username', '=', 'rootie').executeTakeFirstOrThrow();
  assert.equal(user.role, 'admin');
  assert.ok(user.email_verified_at !== null, 'trusted with its address');
  const { verifyPassword } = await import('../src/accounts/passwords.js');
  assert.equal(await verifyPassword('a very long admin passphrase', user.password_hash), true, 'the pipe\'s newline is not part of it');
});

test('user create explains bad input and exits 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--email', 'nope', '--username', 'someone'], /email: Enter an email address/],
    [['--email', 'x@example.org', '--username', 'no spaces'], /username: Use 3 to 30/],
    [['--email', 'root@example.org', '--username', 'another'], /email: An account with this email address exists/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['user', 'create', ...args], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  const weak = await runCli(['user', 'create', '--email', 'w@example.org', '--username', 'weakling', '--password-stdin'], env, 60_000, 'password\n');
  assert.equal(weak.code, 2);
  assert.match(weak.stderr, /password: Use at least 8|password: This password is one of the most common/);
  const role = await runCli(['user', 'create', '--email', 'r@example.org', '--username', 'roleplay', '--role', 'king'], env);
  assert.notEqual(role.code, 0);
  assert.match(role.stderr, /Allowed choices are user, curator, moderator, admin/);
});

test('a token printed once on the last line works as a bearer token until revoked', async () => {
  const created = await runCli(['token', 'create', '--user', 'rootie', '--scope', 'write', '--name', 'ci'], env);
  assert.equal(created.code, 0, created.stderr);
  const lines = created.stdout.trim().split('\n');
  const token = lines.at(-1) ?? '';
  assert.match(token, /^pb_[A-Za-z0-9_-]{43}$/);
  const id = /\(id (\d+)\)/.exec(created.stdout)?.[1] ?? '';
  const search = () => app.inject({ url: '/api/papers/search?q=x', headers: { authorization: `Bearer ${token}` } });
  assert.equal((await search()).statusCode, 200);

  assert.equal((await runCli(['token', 'create', '--user', 'nobody'], env)).code, 2);
  const wrongOwner = await runCli(['token', 'revoke', '--user', 'root@example.org', '999999'], env);
  assert.equal(wrongOwner.code, 2);
  assert.match(wrongOwner.stderr, /has no token 999999/);
  const revoked = await runCli(['token', 'revoke', '--user', 'rootie', id], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal((await search()).statusCode, 401);
});
