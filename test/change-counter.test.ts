/**
 * The data version page caches compare (src/db/change-counter.ts): it moves
 * when any connection to the instance commits a write to what pages show, and
 * not when another instance of the same PostgreSQL database (another schema)
 * writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dataVersion } from '../src/db/change-counter.js';
import { featurePaper } from '../src/feeds/featuring.js';
import type { Database } from '../src/db/connection.js';
import { openTestDatabase, reopen, testEngine } from './support/database.js';

async function insertPaper(database: Database, arxivId: string): Promise<void> {
  const now = new Date().toISOString();
  await database.db
    .insertInto('papers')
    .values({
      arxiv_id: arxivId, version: 1, title: 'T', title_text: 'T', abstract: 'A', abstract_text: null, authors_text: 'X',
      authors: '[]', versions: '[]', links: '[]', primary_category: 'cs.LG', categories: 'cs.LG', announced_on: '2026-11-24',
      announced_estimated: 0, withdrawn: 0, content_hash: arxivId, created_at: now, modified_at: now,
    })
    .execute();
}

/** The version once notifications in flight have arrived. */
async function settled(database: Database): Promise<string> {
  await sleep(300);
  return dataVersion(database);
}

test('a commit by another connection of the instance moves its version', async () => {
  const mine = await openTestDatabase();
  const other = reopen(mine);
  try {
    const before = await settled(mine);
    assert.equal(await settled(mine), before, 'stable while nothing is written');
    await insertPaper(other, '2611.10001');
    await featurePaper(other, { arxivId: '2611.10001', on: '2026-11-24', source: 'curator', by: 'ada' });
    assert.notEqual(await settled(mine), before);
  } finally {
    await other.close();
    await mine.close();
  }
});

test('another instance in the same PostgreSQL database does not move it', { skip: testEngine !== 'postgres' && 'PostgreSQL only: SQLite instances are separate files' }, async () => {
  const mine = await openTestDatabase();
  const neighbour = await openTestDatabase();
  try {
    const before = await settled(mine);
    await insertPaper(neighbour, '2611.10002');
    assert.equal(await settled(mine), before, "the neighbour's write is not ours");
    await insertPaper(mine, '2611.10003');
    assert.notEqual(await settled(mine), before);
  } finally {
    await neighbour.close();
    await mine.close();
  }
});
