/**
 * The collections journey in a real browser (Debian chromium), on both
 * engines: create a collection, add papers with notes from a paper page and
 * from a card's Save link, reorder, make it public, open it signed out and
 * download its BibTeX export; axe on the pages on the way.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { signedInUser } from '../support/accounts.js';
import { assertNoPageErrors, browserSkip, checkA11y, clickAndWait, startBrowserEnv, submit, type BrowserEnv } from './support.js';

const skip = browserSkip();

describe('collections journey in the browser', { skip }, () => {
  let env: BrowserEnv;
  let page: Page;

  before(async () => {
    env = await startBrowserEnv();
  });
  after(async () => {
    await env?.close();
  });

  /** The arXiv ids of the collection page's papers, in order. */
  const order = (p: Page): Promise<string[]> =>
    p.locator('ol.collection-items > li h2 a').evaluateAll((links) => links.map((a) => (a.getAttribute('href') ?? '').replace('/papers/', '')));

  test('create, add from a paper page and a card, reorder, share, export', async () => {
    const user = await signedInUser(env.t.ctx, env.t.app, { username: 'grace' });
    page = await env.page();
    const session = /paperboy_session=([^;]+)/.exec(user.cookie)?.[1] ?? '';
    await page.context().addCookies([{ name: 'paperboy_session', value: session, url: env.base }]);

    await page.goto('/collections/mine');
    await checkA11y(page, 'my collections');
    await page.fill('#new-name', 'Journal club');
    await page.fill('#new-description', 'Papers for Friday');
    await submit(page, page.locator('form[action="/collections"]'));
    await page.locator('h1', { hasText: 'Journal club' }).waitFor();
    const collectionUrl = new URL(page.url()).pathname;

    // From a paper page: the side panel's form.
    await page.goto('/');
    const firstHref = await page.locator('article.card h2 a, article.card h3 a').first().getAttribute('href');
    assert.ok(firstHref);
    await page.goto(firstHref);
    const panel = page.locator('section[aria-labelledby="collections-h"]');
    await panel.locator('select[name="collection"]').selectOption({ label: 'Journal club' });
    await panel.locator('textarea[name="note"]').fill('Start with section 2');
    await submit(page, panel.locator('form'));
    await panel.locator('a', { hasText: 'Journal club' }).waitFor();
    await checkA11y(page, 'a paper page with the collections panel');

    // From a card: its Save link opens the save page.
    // Search results: cached for everyone, so their cards only link to the Save page.
    await page.goto('/search?q=theory');
    const secondCard = page.locator('article.card').filter({ hasNot: page.locator(`a[href="${firstHref}"]`) }).first();
    const secondHref = await secondCard.locator('h2 a, h3 a').first().getAttribute('href');
    assert.ok(secondHref && secondHref !== firstHref);
    await clickAndWait(page, secondCard.locator('a.save-link'));
    await page.locator('h1', { hasText: 'Save to a collection' }).waitFor();
    await checkA11y(page, 'the save page');
    await page.fill('#save-note', 'Compare with the first');
    await submit(page, page.locator('form.save-form'));

    await page.goto(collectionUrl);
    const first = firstHref.replace('/papers/', '');
    const second = secondHref.replace('/papers/', '');
    assert.deepEqual(await order(page), [first, second]);
    assert.ok((await page.locator('.collection-note').allTextContents()).includes('Start with section 2'));
    await checkA11y(page, 'the collection page of its owner');

    // Reorder: move the second paper up.
    await submit(page, page.locator('#paper-2 form', { hasText: 'Move up' }));
    assert.deepEqual(await order(page), [second, first]);

    // Share it.
    await page.check('#edit-public');
    await submit(page, page.locator(`form[action="${collectionUrl}"]`));
    await page.locator('.badge', { hasText: 'public' }).first().waitFor();
    assertNoPageErrors(page);

    // Signed out: the page shows, without the owner's forms, and the BibTeX downloads.
    const visitor = await env.page();
    await visitor.goto(collectionUrl);
    assert.deepEqual(await order(visitor), [second, first]);
    assert.equal(await visitor.locator('form[action$="/delete"]').count(), 0);
    await checkA11y(visitor, 'the public collection, signed out');
    const [download] = await Promise.all([visitor.waitForEvent('download'), visitor.locator('a', { hasText: 'Export BibTeX' }).click()]);
    const path = await download.path();
    const bib = readFileSync(path, 'utf8');
    const eprints = [...bib.matchAll(/eprint = \{([^}]+)\}/g)].map((m) => m[1]);
    assert.deepEqual(eprints, [second, first]);
    assert.ok(bib.includes('note = {Start with section 2'), bib);
    assertNoPageErrors(visitor);
  });
});
