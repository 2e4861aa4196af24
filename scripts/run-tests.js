// Runs every compiled test file with node's test runner, on SQLite, then the
// files that use a database again on PostgreSQL (PAPERBOY_TEST_ENGINE=postgres).
// Node 20 has no glob support in `--test`, so the file list is built here.
// Usage: node scripts/run-tests.js [--engine sqlite|postgres] [substring-filter...]
//
// PostgreSQL: PAPERBOY_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
// Where no server answers, the PostgreSQL pass is skipped with a notice, unless
// CI is set or the URL was given explicitly: then it fails.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
let engines = ['sqlite', 'postgres'];
const engineFlag = args.indexOf('--engine');
if (engineFlag !== -1) {
  engines = [args[engineFlag + 1]];
  args.splice(engineFlag, 2);
}
const filters = args;
const files = findTests('dist')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// A test file uses a database when it gets one from test/support (database.js,
// app.js) or is a browser journey; only those run a second time on PostgreSQL.
const usesDatabase = (file) =>
  file.includes(join('test', 'browser')) || /support\/(database|app)\.js/.test(readFileSync(file, 'utf8'));

function run(engine, list, extraEnv = {}) {
  console.log(`\n# ${engine}: ${list.length} test files`);
  // --test-force-exit: a test that fails before closing its database must fail, not leave the run waiting on the pool.
  // Where the run's files share what they would each build alike (test/support/app.ts: the imported records).
  const cacheDir = mkdtempSync(join(tmpdir(), `paperboy-test-run-${engine}-`));
  try {
    const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-force-exit', ...list], {
      stdio: 'inherit',
      env: { ...process.env, PAPERBOY_TEST_ENGINE: engine, PAPERBOY_TEST_CACHE_DIR: cacheDir, ...extraEnv },
    });
    return result.status ?? 1;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

let status = 0;
if (engines.includes('sqlite')) status = run('sqlite', files);

if (engines.includes('postgres')) {
  const pgFiles = files.filter(usesDatabase);
  const explicit = Boolean(process.env.PAPERBOY_TEST_DATABASE_URL);
  const url = process.env.PAPERBOY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const { canConnect, dropTestSchemas } = await import('../dist/src/db/postgres.js');
  if (pgFiles.length === 0) {
    // Nothing matched the filters.
  } else if (await canConnect(url)) {
    await dropTestSchemas(url);
    const pgStatus = run('postgres', pgFiles, { PAPERBOY_TEST_DATABASE_URL: url });
    // The shared imported schema outlives the file that made it; every file is done now.
    await dropTestSchemas(url);
    if (status === 0) status = pgStatus;
  } else if (explicit || process.env.CI) {
    console.error(`PostgreSQL is not reachable at PAPERBOY_TEST_DATABASE_URL; the PostgreSQL suite cannot run`);
    status = 1;
  } else {
    console.log('# postgres: skipped, no PostgreSQL server at 127.0.0.1:5432 (set PAPERBOY_TEST_DATABASE_URL)');
  }
}
process.exit(status);
