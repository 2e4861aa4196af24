import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { computeDigest, DIGEST_MODEL, digestAll, storedDigest } from '../src/papers/digest.js';
import { sql } from 'kysely';
import { rows, run, value } from './support/database.js';
import { importedApp } from './support/app.js';

test('the digest job stores every paper once, redoes changed papers, and pages read what it stored', async () => {
  const t = await importedApp();
  try {
    const papers = Number(await value(t.ctx.database, sql`SELECT count(*) FROM papers`));
    const written = await digestAll(t.ctx.database, 0, new Date('2026-11-20T08:00:00Z'));
    assert.equal(written, papers);
    assert.equal(await digestAll(t.ctx.database), 0, 'a second pass has nothing to do');

    const [paper] = await rows<{ id: number; title: string; abstract: string }>(
      t.ctx.database,
      sql`SELECT id, title, abstract FROM papers WHERE arxiv_id = '0704.0002'`,
    );
    assert.ok(paper);
    const stored = await storedDigest(t.ctx.database, paper.id);
    assert.ok(stored);
    assert.deepEqual({ ...stored, createdAt: null }, computeDigest(paper.title, paper.abstract));
    assert.equal(stored.model, DIGEST_MODEL);

    const page = await t.app.inject({ url: '/papers/0704.0002' });
    assert.match(page.body, new RegExp(`Method: ${DIGEST_MODEL}, from the abstract of v\\d+, computed on 2026-11-20`));

    // A changed paper (new content hash) is no longer served the old digest, and the next pass redoes it.
    await run(t.ctx.database, sql`UPDATE papers SET content_hash = 'changed' WHERE id = ${paper.id}`);
    assert.equal(await storedDigest(t.ctx.database, paper.id), undefined);
    const fresh = await t.app.inject({ url: '/papers/0704.0002' });
    assert.match(fresh.body, /computed for this view/);
    assert.equal(await digestAll(t.ctx.database), 1);
    assert.ok(await storedDigest(t.ctx.database, paper.id));
  } finally {
    await t.close();
  }
});
