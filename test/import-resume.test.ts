import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connection.js';
import type { ImportSummary } from '../src/ingest/import.js';
import { BIN, runCli, tempDataDir } from './support/cli.js';
import { envFor, freshLocation, testEngine, value } from './support/database.js';

const PAPERS = 40_000;

/** Starts an import and SIGKILLs it once its first batches are committed. */
function importUntilKilled(file: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'import', file], {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn', PAPERBOY_PROGRESS: 'plain' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => {
      const m = /progress (\d+) records/.exec(d.toString());
      if (m !== null && Number(m[1]) >= 10_000) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) =>
      signal === 'SIGKILL' ? resolvePromise() : reject(new Error('the import finished before it could be killed')),
    );
  });
}

test('an import killed mid-file resumes after its last committed batch: no gap, no duplicate', async () => {
  const dir = tempDataDir('paperboy-resume-');
  const file = join(dir, 'corpus.jsonl');
  const gen = spawnSync(process.execPath, [resolve('dist/src/bench/generate.js'), '--count', String(PAPERS), '--seed', '7', '--out', file]);
  assert.equal(gen.status, 0, gen.stderr.toString());
  const dataDir = join(dir, 'data');
  const location = await freshLocation(dataDir);
  const env = envFor(dataDir, location);

  await importUntilKilled(file, env);
  const db = openDatabase(location, { dataDir: tempDataDir() });
  const count = async (query: ReturnType<typeof sql>) => Number(await value(db, query));
  try {
    const committed = await count(sql`SELECT count(*) FROM papers`);
    assert.ok(committed > 0 && committed < PAPERS, `committed ${committed} before the kill`);

    const result = await runCli(['import', '--json', file], env);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as ImportSummary;
    assert.equal(summary.files[0]?.resumedAfter, committed);
    assert.equal(summary.imported, PAPERS - committed);

    assert.equal(await count(sql`SELECT count(*) FROM papers`), PAPERS);
    assert.equal(await count(sql`SELECT count(DISTINCT arxiv_id) FROM papers`), PAPERS);
    if (testEngine === 'sqlite') assert.equal(await count(sql`SELECT count(*) FROM papers_fts`), PAPERS);
  } finally {
    await db.close();
  }
});
