import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.js';

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
