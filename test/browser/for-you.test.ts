/**
 * The For you journey in a real browser (Debian chromium), on both engines,
 * over the shared arXiv records with built-in model vectors: upvote two
 * papers of the daily feed, open For you from the header, read "Similar to …"
 * reasons, mark a paper "Not interested" (a plain form: no JavaScript
 * needed), find it gone from For you, and bring it back. (That dismissed
 * papers leave the feed pages, search and digests is tested through HTTP in
 * test/for-you.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createUser } from '../../src/accounts/users.js';
import { activateModel, createModel, writeVectors } from '../../src/db/vector-store.js';
import { builtinEmbedder, fitBuiltinModel } from '../../src/semantic/builtin.js';
import { documentText } from '../../src/semantic/embedder.js';
import { assertNoPageErrors, browserSkip, cardIds, checkA11y, clickAndWait, pathOf, startBrowserEnv, submit, type BrowserEnv } from './support.js';

const skip = browserSkip();

describe('For you in the browser', { skip }, () => {
  let env: BrowserEnv;

  before(async () => {
    env = await startBrowserEnv();
    const { database } = env.t.ctx;
    // Vectors as the embed job would write them: the built-in model fitted on the instance's papers.
    const papers = await database.db.selectFrom('papers').select(['id', 'title_text', 'abstract', 'abstract_text']).orderBy('id').execute();
    const texts = papers.map((p) => documentText(p.title_text, p.abstract_text ?? p.abstract));
    const fitted = fitBuiltinModel(texts, { dimensions: 64 });
    const vectors = await builtinEmbedder(fitted, 'browser-test').embed(texts, 'document');
    const model = await createModel(database, { embedder: 'builtin', fingerprint: 'browser-test', dimensions: 64, corpusSize: texts.length, state: null });
    for (let i = 0; i < papers.length; i += 500) {
      await writeVectors(database, model.id, papers.slice(i, i + 500).map((p, j) => ({ paperId: p.id, vector: vectors[i + j] ?? new Float32Array(64) })));
    }
    await activateModel(database, model.id);
    const made = await createUser(database, { email: 'picky@example.org', username: 'picky', password: 'a long passphrase for picking', role: 'user', verified: true });
    assert.ok(made.ok);
  });
  after(async () => {
    await env?.close();
  });

  test('upvote two papers, read why For you picks papers, dismiss one and bring it back', async () => {
    const page = await env.page();
    await page.goto('/login');
    await page.fill('#f-login', 'picky');
    await page.fill('#f-password', 'a long passphrase for picking');
    await submit(page, page.locator('form[action="/login"]'));

    await page.goto('/papers/date/2007-04-03');
    const daily = await cardIds(page);
    assert.ok(daily.length > 4, 'the day has papers');
    for (const n of [0, 1]) {
      const button = page.locator('main form[data-upvotes-of] button.upvote-button').nth(n);
      await button.click();
      await page.waitForFunction(
        (i) =>
          (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> } }).document
            .querySelectorAll('main form[data-upvotes-of] button.upvote-button')[i]
            ?.getAttribute('aria-pressed') === 'true',
        n,
      );
    }

    await clickAndWait(page, page.locator('nav.site-nav a', { hasText: 'For you' }));
    assert.equal(pathOf(page), '/for-you');
    const items = page.locator('li.following-item');
    assert.ok((await items.count()) > 0, 'For you has papers');
    const why = (await page.locator('li.following-item p.why .reason').allTextContents()).join('\n');
    assert.match(why, /Similar to “[^”]+”, which you upvoted/);
    await checkA11y(page, 'For you');

    // Dismiss the best recommendation, then undo.
    const recommended = await cardIds(page);
    const target = recommended[0];
    assert.ok(target !== undefined);
    const item = page.locator('li.following-item', { has: page.locator(`a[href="/papers/${target}"]`) });
    await submit(page, item.locator('form.not-interested'));
    assert.equal(pathOf(page), `/for-you?dismissed=${encodeURIComponent(target)}`);
    assert.ok(!(await cardIds(page)).includes(target), 'gone from For you');
    await submit(page, page.locator('form[action="/for-you/show-again"]'));
    assert.ok((await cardIds(page)).includes(target), 'back after "Show again"');
    assertNoPageErrors(page);
  });
});
