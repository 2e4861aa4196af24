import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { ImportSummary } from '../src/ingest/import.js';
import { BIN, runCli, tempDataDir } from './support/cli.js';

const PAPERS = 40_000;

/** Starts an import and SIGKILLs it once its first batches are committed. */
function importUntilKilled(file: string, dataDir: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'import', file], {
      env: { ...process.env, PAPERBOY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', PAPERBOY_PROGRESS: 'plain' },
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

  await importUntilKilled(file, dataDir);
  const db = new BetterSqlite3(join(dataDir, 'paperboy.db'), { readonly: true });
  const committed = db.prepare('SELECT count(*) FROM papers').pluck().get() as number;
  db.close();
  assert.ok(committed > 0 && committed < PAPERS, `committed ${committed} before the kill`);

  const result = await runCli(['import', '--json', file], { PAPERBOY_DATA_DIR: dataDir });
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as ImportSummary;
  assert.equal(summary.files[0]?.resumedAfter, committed);
  assert.equal(summary.imported, PAPERS - committed);

  const after = new BetterSqlite3(join(dataDir, 'paperboy.db'), { readonly: true });
  try {
    assert.equal(after.prepare('SELECT count(*) FROM papers').pluck().get(), PAPERS);
    assert.equal(after.prepare('SELECT count(DISTINCT arxiv_id) FROM papers').pluck().get(), PAPERS);
    assert.equal(after.prepare('SELECT count(*) FROM papers_fts').pluck().get(), PAPERS);
  } finally {
    after.close();
  }
});
