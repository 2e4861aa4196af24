/**
 * Rate limits: what a limited client is told, the headers on every limited
 * route, and the database store's windows (restart after expiry, pruning).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { sql } from 'kysely';
import { openDatabase, type Database } from '../src/db/connection.js';
import { databaseRateLimitStore, sqliteCountersFile } from '../src/db/rate-limit-store.js';
import { emptyApp } from './support/app.js';
import { openTestDatabase, rows } from './support/database.js';

const UNTIL = /Try again in \d+ seconds? \(at \d\d:\d\d:\d\d UTC\)\./;

test('a limited client is told when to retry: Retry-After, and the JSON or HTML body says when', async () => {
  const t = await emptyApp({ RATE_LIMIT_API_SEARCH: '2', RATE_LIMIT_SEARCH_PAGE: '1' });
  try {
    const first = await t.app.inject('/api/papers/search?q=x');
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['x-ratelimit-limit'], '2');
    assert.equal(first.headers['x-ratelimit-remaining'], '1');
    assert.ok(Number(first.headers['x-ratelimit-reset']) > 0);

    await t.app.inject('/api/papers/search?q=x');
    const api = await t.app.inject('/api/papers/search?q=x');
    assert.equal(api.statusCode, 429);
    const retryAfter = Number(api.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${String(api.headers['retry-after'])}`);
    assert.equal(api.headers['x-ratelimit-remaining'], '0');
    const body = api.json<{ error: string; message: string }>();
    assert.equal(body.error, 'rate_limited');
    assert.match(body.message, /at most 2 requests a minute/);
    assert.match(body.message, UNTIL);

    assert.equal((await t.app.inject('/search?q=x')).statusCode, 200);
    const page = await t.app.inject('/search?q=x');
    assert.equal(page.statusCode, 429);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.ok(Number(page.headers['retry-after']) > 0);
    assert.match(page.body, /Too many requests/);
    assert.match(page.body, UNTIL);
  } finally {
    await t.close();
  }
});

test('HEAD spends the GET budget of its route; routes have separate budgets', async () => {
  const t = await emptyApp({ RATE_LIMIT_API_SEARCH: '2', RATE_LIMIT_SEARCH_PAGE: '5' });
  try {
    assert.equal((await t.app.inject({ method: 'HEAD', url: '/api/papers/search?q=x' })).statusCode, 200);
    assert.equal((await t.app.inject('/api/papers/search?q=x')).statusCode, 200);
    assert.equal((await t.app.inject('/api/papers/search?q=x')).statusCode, 429);
    assert.equal((await t.app.inject('/search?q=x')).statusCode, 200, 'the search page keeps its own budget');
  } finally {
    await t.close();
  }
});

function increment(store: FastifyRateLimitStore, key: string, timeWindow: number): Promise<{ current: number; ttl: number }> {
  return new Promise((resolve, reject) =>
    store.incr(key, (err, result) => (err !== null || result === undefined ? reject(err ?? new Error('no result')) : resolve(result)), timeWindow, 100),
  );
}

/** Where the counters of `database` are: its rate_limits table, or on SQLite the file beside it. */
function countersOf(database: Database): Database {
  return database.location.engine === 'sqlite' ? openDatabase(sqliteCountersFile(database.location.file)) : database;
}

test('the store: a window restarts once it ends, and expired windows are deleted', async () => {
  const database = await openTestDatabase();
  let counters: Database | undefined;
  try {
    const Store = databaseRateLimitStore(database, { pruneEvery: 4 });
    const route = { routeInfo: { method: 'GET', url: '/x' } } as unknown as Parameters<FastifyRateLimitStore['child']>[0];
    const store = new Store({}).child(route);
    assert.deepEqual(
      [(await increment(store, 'a', 50)).current, (await increment(store, 'a', 50)).current],
      [1, 2],
    );
    const long = await increment(store, 'b', 60_000);
    assert.ok(long.ttl > 59_000 && long.ttl <= 60_000, `ttl ${long.ttl}`);
    await new Promise((resolve) => setTimeout(resolve, 80));
    // The fourth increment prunes first: a's window is over, b's is not.
    const restarted = await increment(store, 'a', 50);
    assert.equal(restarted.current, 1, 'a new window after the old one ended');
    await increment(store, 'c', 50);
    counters = countersOf(database);
    const keys = await rows(counters, sql<{ key: string }>`SELECT key FROM rate_limits ORDER BY key`);
    assert.deepEqual(
      keys.map((r) => r.key),
      ['GET /x|a', 'GET /x|b', 'GET /x|c'],
    );
    await new Promise((resolve) => setTimeout(resolve, 80));
    for (let i = 0; i < 4; i++) await increment(store, 'd', 60_000);
    // The prune is not awaited by the request that starts it (on PostgreSQL it runs on another connection).
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = (await rows(counters, sql<{ key: string }>`SELECT key FROM rate_limits ORDER BY key`)).map((r) => r.key);
      if (left.length === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(left, ['GET /x|b', 'GET /x|d']);
  } finally {
    if (counters !== database) await counters?.close();
    await database.close();
  }
});
