import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, digestSender, loadConfig } from './config.js';

test('defaults give a working embedded configuration', () => {
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.baseUrl, 'http://localhost:3000');
  assert.ok(c.databaseFile.endsWith('/data/paperboy.db'));
  assert.ok(c.arxivCategories.includes('cs.LG'));
});

test('archives expand to their categories', () => {
  const c = loadConfig({ ARXIV_CATEGORIES: 'hep-th math' });
  assert.ok(c.arxivCategories.includes('hep-th'));
  assert.ok(c.arxivCategories.includes('math.AG'));
  assert.ok(!c.arxivCategories.includes('cs.LG'));
});

test('every problem is listed at once, and no value is echoed', () => {
  const secret = 'short-secret-value';
  assert.throws(
    () =>
      loadConfig({
        PORT: 'abc',
        SECRET_KEY: secret,
        ARXIV_CATEGORIES: 'cs.LG,cs.XX',
        DATABASE_URL: 'mysql://localhost/x',
        SMTP_URL: 'http://not-smtp',
        NODE_ENV: 'production',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const fields = err.problems.map((p) => p.split(':')[0]);
      assert.deepEqual(fields.sort(), ['ARXIV_CATEGORIES', 'DATABASE_URL', 'PORT', 'SECRET_KEY', 'SMTP_URL']);
      assert.match(err.message, /unknown arXiv category or archive "cs\.XX"/);
      assert.ok(!err.message.includes(secret));
      return true;
    },
  );
});

test('DATABASE_URL selects PostgreSQL; unset or empty keeps the embedded SQLite file', () => {
  assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@db.example:5432/paperboy' }).database, {
    engine: 'postgres',
    url: 'postgres://u@db.example:5432/paperboy',
  });
  assert.equal(loadConfig({ DATABASE_URL: 'postgresql://db/p' }).database.engine, 'postgres');
  const embedded = loadConfig({ DATABASE_URL: '' });
  assert.equal(embedded.database.engine, 'sqlite');
  assert.deepEqual(embedded.database, { engine: 'sqlite', file: embedded.databaseFile });
});

test('production requires a secret key', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /SECRET_KEY: is required when NODE_ENV=production/);
});

test('TRUST_PROXY: addresses and CIDRs of either family, named ranges, a hop count, true or false', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1,fd00::/8 loopback' }).trustProxy, [
    '10.0.0.0/8',
    '::1',
    'fd00::/8',
    'loopback',
  ]);
  assert.throws(
    () => loadConfig({ TRUST_PROXY: '300.1.1.1,10.0.0.0/33,::1/129,proxy.example,1.2.3.4/8/8' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 5);
      assert.ok(err.problems.every((p) => p.startsWith('TRUST_PROXY: "')));
      return true;
    },
  );
});

test('rate limits, METRICS_ENABLED and LOG_FORMAT: defaults, and every bad value listed', () => {
  const c = loadConfig({});
  assert.deepEqual(
    Object.fromEntries(Object.entries(c.rateLimits).map(([name, limit]) => [name, limit.max])),
    { searchPage: 120, apiSearch: 60, searchFeed: 30, arxivFetch: 10, auth: 10, write: 60, submit: 5, subscribe: 10 },
  );
  assert.deepEqual(c.tokenRateLimit, { max: 600, timeWindow: 60_000 });
  assert.deepEqual(c.sessions, { idleMs: 30 * 86_400_000, maxMs: 90 * 86_400_000 });
  assert.equal(c.submissionMaxAgeDays, 14);
  assert.equal(c.metricsEnabled, false);
  assert.equal(c.logFormat, 'auto');
  const set = loadConfig({ RATE_LIMIT_ARXIV_FETCH: '3', METRICS_ENABLED: 'true', LOG_FORMAT: 'pretty' });
  assert.deepEqual(set.rateLimits.arxivFetch, { max: 3, timeWindow: 60_000 });
  assert.equal(set.metricsEnabled, true);
  assert.equal(set.logFormat, 'pretty');
  assert.throws(
    () =>
      loadConfig({
        RATE_LIMIT_SEARCH_PAGE: '0',
        RATE_LIMIT_API_SEARCH: 'lots',
        RATE_LIMIT_SEARCH_FEED: '2.5',
        RATE_LIMIT_ARXIV_FETCH: '-1',
        METRICS_ENABLED: 'on',
        LOG_FORMAT: 'xml',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
        'LOG_FORMAT',
        'METRICS_ENABLED',
        'RATE_LIMIT_API_SEARCH',
        'RATE_LIMIT_ARXIV_FETCH',
        'RATE_LIMIT_SEARCH_FEED',
        'RATE_LIMIT_SEARCH_PAGE',
      ]);
      return true;
    },
  );
});

test('digest settings: defaults, the digest sender, and every bad value listed', () => {
  const c = loadConfig({ MAIL_FROM: 'Paperboy <news@papers.example.org>' });
  assert.deepEqual(c.digest, {
    from: 'Paperboy digest <digest@papers.example.org>',
    replyTo: undefined,
    enabled: true,
    hour: 8,
    timeZone: 'UTC',
    weeklyDay: 'mon',
    uncertain: 'resend',
    sendRatePerSecond: 1000,
  });
  assert.equal(c.dkim, undefined);
  assert.equal(digestSender('news@example.org'), 'Paperboy digest <digest@example.org>');
  assert.equal(digestSender('"Ann B" <x@y.z>'), 'Ann B digest <digest@y.z>');
  assert.equal(loadConfig({ DIGEST_FROM: 'Papers <p@example.org>' }).digest.from, 'Papers <p@example.org>');
  assert.equal(loadConfig({ DIGEST_TIMEZONE: 'Pacific/Auckland' }).digest.timeZone, 'Pacific/Auckland');
  assert.throws(
    () =>
      loadConfig({
        DIGEST_TIMEZONE: 'Mars/Olympus',
        DIGEST_HOUR: '24',
        DIGEST_WEEKLY_DAY: 'monday',
        DIGEST_UNCERTAIN: 'maybe',
        DKIM_DOMAIN: 'example.org',
        MAIL_WEBHOOK_SECRET: 'short',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
        'DIGEST_HOUR',
        'DIGEST_TIMEZONE',
        'DIGEST_UNCERTAIN',
        'DIGEST_WEEKLY_DAY',
        'DKIM_DOMAIN',
        'MAIL_WEBHOOK_SECRET',
      ]);
      return true;
    },
  );
});

test('embedder settings: the built-in model by default with its training budget, and bad values listed', () => {
  assert.deepEqual(loadConfig({}).embedder, { kind: 'builtin', trainingPairs: 150_000 });
  assert.deepEqual(loadConfig({ EMBEDDER_TRAINING_PAIRS: '0' }).embedder, { kind: 'builtin', trainingPairs: 0 });
  assert.equal(loadConfig({ EMBEDDER: 'onnx:/models/x' }).embedder.kind, 'onnx');
  assert.throws(
    () => loadConfig({ EMBEDDER: 'word2vec', EMBEDDER_TRAINING_PAIRS: '-5' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.some((p) => p.startsWith('EMBEDDER:')) &&
      err.problems.some((p) => p.startsWith('EMBEDDER_TRAINING_PAIRS:')),
  );
});
