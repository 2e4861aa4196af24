/**
 * Operations: whose address a rate limit counts, limits shared by every web
 * process of an instance, configurable limits, and readiness.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { buildApp } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { createLogger } from '../src/log.js';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connection.js';
import { featurePaper } from '../src/feeds/featuring.js';
import { emptyApp, importedApp } from './support/app.js';
import { runCli, tempDataDir } from './support/cli.js';
import { envFor, instanceEnv, testEngine, value } from './support/database.js';

const search = (n: number) => `/api/papers/search?q=graphene${n}`;

test('a client cannot escape a rate limit with its own X-Forwarded-For (no proxy trusted by default)', async () => {
  const t = await emptyApp({ RATE_LIMIT_API_SEARCH: '3' });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ url: search(i), headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const limited = await t.app.inject({ url: search(9) });
    assert.ok(Number(limited.headers['retry-after']) > 0, 'the answer says when to retry');
    assert.equal(limited.headers['x-ratelimit-limit'], '3');
    assert.equal(limited.json<{ error: string }>().error, 'rate_limited');
  } finally {
    await t.close();
  }
});

test('behind a trusted proxy each forwarded client has its own budget', async () => {
  const t = await emptyApp({ RATE_LIMIT_API_SEARCH: '2', TRUST_PROXY: '127.0.0.1' });
  try {
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({ url: search(i), headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      assert.equal(res.statusCode, 200, `client ${i}`);
    }
    const same = [];
    for (let i = 0; i < 3; i++) {
      same.push((await t.app.inject({ url: search(i), headers: { 'x-forwarded-for': '198.51.100.7' } })).statusCode);
    }
    assert.deepEqual(same, [200, 200, 429]);
  } finally {
    await t.close();
  }
});

test('two web processes on one database share one budget per client', async () => {
  const env = { ...(await instanceEnv()), RATE_LIMIT_API_SEARCH: '4', HARVEST_ENABLED: 'false' };
  const contexts = [
    await createContext(loadConfig(env), createLogger('silent')),
    await createContext(loadConfig(env), createLogger('silent')),
  ];
  const apps = await Promise.all(contexts.map((ctx) => buildApp(ctx)));
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await apps[i % 2]!.inject({ url: search(i) })).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  } finally {
    for (const app of apps) await app.close();
    for (const ctx of contexts) await ctx.database.close();
  }
});

test('TRUST_PROXY and rate limits are validated with the rest of the configuration', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }).trustProxy, ['10.0.0.0/8', '192.168.1.1']);
  assert.deepEqual(loadConfig({ RATE_LIMIT_SEARCH_PAGE: '500' }).rateLimits.searchPage, { max: 500, timeWindow: 60_000 });
  assert.throws(
    () => loadConfig({ TRUST_PROXY: 'everyone', RATE_LIMIT_API_SEARCH: '0' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.some((p) => p.startsWith('TRUST_PROXY')) &&
      err.problems.some((p) => p.startsWith('RATE_LIMIT_API_SEARCH')),
  );
});

test('/healthz answers without the database; /readyz checks database, migrations and the search index', async () => {
  const t = await emptyApp();
  try {
    assert.deepEqual((await t.app.inject('/healthz')).json(), { status: 'ok' });
    // In server mode a fresh process builds its search index first: not ready until then.
    let ready = await t.app.inject('/readyz');
    for (let i = 0; i < 50 && ready.statusCode !== 200; i++) {
      assert.equal(ready.json<{ checks: { searchIndex: { ok: boolean } } }>().checks.searchIndex.ok, false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await t.app.inject('/readyz');
    }
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), {
      status: 'ok',
      checks: { database: { ok: true }, migrations: { ok: true }, searchIndex: { ok: true } },
    });
  } finally {
    await t.close();
  }
});

test('paperboy backup copies the live SQLite database; on PostgreSQL it points to pg_dump', async () => {
  const t = await importedApp();
  try {
    const env = envFor(t.ctx.config.dataDir, t.ctx.database.location);
    const target = join(tempDataDir('paperboy-backup-'), 'copy.db');
    if (testEngine === 'postgres') {
      const refused = await runCli(['backup', target], env);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /pg_dump/);
      return;
    }
    // The server keeps writing while the copy is taken.
    const writes = featurePaper(t.ctx.database, { arxivId: '0704.0001', on: '2026-12-01', source: 'curator', by: 'ada' });
    const result = await runCli(['backup', target], env);
    await writes;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /backed up .* MB in/);
    const copy = openDatabase(target);
    try {
      const papers = await value(copy, sql`SELECT count(*) FROM papers`);
      assert.equal(Number(papers), Number(await value(t.ctx.database, sql`SELECT count(*) FROM papers`)));
      assert.equal(await value(copy, sql`PRAGMA integrity_check`), 'ok');
    } finally {
      await copy.close();
    }
    const again = await runCli(['backup', target], env);
    assert.equal(again.code, 2, 'an existing file is never overwritten');
  } finally {
    await t.close();
  }
});

test('paperboy reindex rebuilds the keyword index and search still finds the papers', async () => {
  const t = await importedApp();
  try {
    const env = envFor(t.ctx.config.dataDir, t.ctx.database.location);
    const result = await runCli(['reindex'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rebuilt the keyword index/);
    const found = await runCli(['search', 'diphoton', '--json'], env);
    assert.equal(JSON.parse(found.stdout).hits[0]?.arxivId, '0704.0001');
  } finally {
    await t.close();
  }
});

test('logs: JSON lines when stderr is not a terminal; LOG_FORMAT=pretty writes readable lines and still exits', async () => {
  const isJson = (line: string): boolean => {
    try {
      return typeof JSON.parse(line) === 'object';
    } catch {
      return false;
    }
  };
  const json = await runCli(['migrate'], { ...(await instanceEnv()), LOG_LEVEL: 'info' });
  assert.equal(json.code, 0, json.stderr);
  const jsonLines = json.stderr.split('\n').filter((l) => l.includes('applied migration'));
  assert.ok(jsonLines.length > 0 && jsonLines.every(isJson), json.stderr);

  const pretty = await runCli(['migrate'], { ...(await instanceEnv()), LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
  assert.equal(pretty.code, 0, pretty.stderr);
  const lines = pretty.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.some((l) => /INFO.*applied migration/.test(l)), pretty.stderr);
  assert.deepEqual(lines.filter(isJson), [], 'no JSON line');
  assert.match(pretty.stdout, /schema version/);
});
