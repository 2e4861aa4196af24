/**
 * `paperboy backup` while another process keeps writing: the copy is one
 * consistent snapshot (every transaction in it whole), passes SQLite's
 * integrity check, and the command finishes although writes never pause.
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connection.js';
import { runCli, tempDataDir } from './support/cli.js';
import { envFor, openTestDatabase, testEngine, value } from './support/database.js';

const ROWS = 20_000;
const PAYLOAD = 'x'.repeat(1_000);

/** A jobs row: any table would do; this one needs nothing else to exist. */
function row(uniqueKey: string, payload: string, now: number) {
  return {
    type: 'test.pair',
    payload,
    unique_key: uniqueKey,
    status: 'done' as const,
    priority: 0,
    run_at: now,
    attempts: 0,
    max_attempts: 1,
    created_at: now,
    updated_at: now,
  };
}

test('backup of a SQLite database that another process writes to throughout', { skip: testEngine !== 'sqlite' }, async () => {
  const dataDir = tempDataDir('paperboy-backup-');
  const database = await openTestDatabase(dataDir);
  try {
    // About 20 MB, so the copy takes long enough for writes to land while it runs.
    const now = Date.now();
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ROWS; i += 500) {
        const batch = Array.from({ length: 500 }, (_, j) => row(`seed-${i + j}`, PAYLOAD, now));
        await trx.insertInto('jobs').values(batch).execute();
      }
    });

    const target = join(tempDataDir('paperboy-backup-target-'), 'copy.db');
    const backup = runCli(['backup', target], envFor(dataDir, database.location));
    let finished = false;
    void backup.finally(() => (finished = true));
    // Two rows per transaction: a consistent copy holds an even number of them.
    let pairs = 0;
    while (!finished) {
      await database.db.transaction().execute(async (trx) => {
        for (const half of ['a', 'b']) {
          await trx.insertInto('jobs').values(row(`pair-${pairs}-${half}`, '{}', now)).execute();
        }
      });
      pairs++;
      await tick();
    }
    const result = await backup;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^backed up .* to .*copy\.db: \d+\.\d MB in \d+\.\d s$/m);
    assert.ok(pairs > 0, 'writes went on during the backup');

    const copy = openDatabase(target);
    try {
      assert.equal(await value(copy, sql`PRAGMA integrity_check`), 'ok');
      const seeded = Number(await value(copy, sql`SELECT count(*) FROM jobs WHERE unique_key LIKE 'seed-%'`));
      const halves = Number(await value(copy, sql`SELECT count(*) FROM jobs WHERE unique_key LIKE 'pair-%'`));
      assert.equal(seeded, ROWS);
      assert.equal(halves % 2, 0, `${halves} rows of pairs: a transaction was copied in part`);
      assert.ok(halves <= pairs * 2);
    } finally {
      await copy.close();
    }
  } finally {
    await database.close();
  }
});
