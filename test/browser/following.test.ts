/**
 * The Following journey in a real browser (Debian chromium), on both engines:
 * follow an author from their page, find their new paper on /following with
 * the reason, follow a category through the link of its (cached) page and
 * the confirm button, unfollow the author. Forms only: no JavaScript needed.
 */
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createUser } from '../../src/accounts/users.js';
import { importPaths } from '../../src/ingest/import.js';
import { authorPath } from '../../src/web/paper-page.js';
import { tempDataDir } from '../support/cli.js';
import { assertNoPageErrors, browserSkip, checkA11y, clickAndWait, pathOf, startBrowserEnv, submit, type BrowserEnv } from './support.js';

const skip = browserSkip();
const AUTHOR = "Zoë O'Brien-Núñez";
const DAY = 86_400_000;

function record(id: string, daysAgo: number, authors: string, categories: string, title: string): string {
  const created = new Date(Date.now() - daysAgo * DAY).toUTCString();
  return JSON.stringify({ id, authors, title, categories, abstract: `About ${title.toLowerCase()}.`, versions: [{ version: 'v1', created }] });
}

describe('following in the browser', { skip }, () => {
  let env: BrowserEnv;

  before(async () => {
    env = await startBrowserEnv();
    const file = join(tempDataDir('paperboy-following-'), 'papers.jsonl');
    writeFileSync(
      file,
      `${[record('2601.10001', 3, `${AUTHOR} and Ann Other`, 'cs.LG', 'Following the gradient'), record('2601.10002', 2, 'Carol Chem', 'math.CO', 'Colourful graphs')].join('\n')}\n`,
    );
    await importPaths(env.t.ctx.database, [file]);
    const made = await createUser(env.t.ctx.database, {
      email: 'reader@example.org',
      username: 'reader',
      password: 'a long passphrase for reading',
      role: 'user',
      verified: true,
    });
    assert.ok(made.ok);
  });
  after(async () => {
    await env?.close();
  });

  test('follow an author and a category, see why each paper is there, unfollow', async () => {
    const page = await env.page();
    await page.goto('/login');
    await page.fill('#f-login', 'reader');
    await page.fill('#f-password', 'a long passphrase for reading');
    await submit(page, page.locator('form[action="/login"]'));

    await page.goto(authorPath(AUTHOR));
    const follow = page.locator('form.follow');
    assert.equal((await follow.locator('button').textContent())?.trim(), `Follow ${AUTHOR}`);
    await submit(page, follow);
    assert.equal(pathOf(page), authorPath(AUTHOR), 'back on the author page');
    assert.match((await page.locator('form.follow button').textContent()) ?? '', /Following .* · Unfollow/);

    await clickAndWait(page, page.locator('nav.account-nav a', { hasText: 'Following' }));
    assert.equal(pathOf(page), '/following');
    const item = page.locator('li.following-item', { hasText: 'Following the gradient' });
    assert.match((await item.locator('p.why').textContent()) ?? '', new RegExp(`by an author you follow: ${AUTHOR}`));
    await checkA11y(page, 'the Following page');

    await page.goto('/c/math');
    await clickAndWait(page, page.locator('a', { hasText: 'Follow math' }));
    assert.equal(pathOf(page), '/following?follow=category%3Amath');
    await submit(page, page.locator('form[action="/following"]', { hasText: 'Follow math' }));
    const math = page.locator('li.following-item', { hasText: 'Colourful graphs' });
    assert.equal((await math.locator('p.why').textContent())?.replace(/\s+/g, ' ').trim(), 'Why: in math');
    assert.equal(await page.locator('li.following-item').count(), 2);

    await submit(page, page.locator('form[action="/following/remove"]', { has: page.locator(`button[aria-label="Unfollow ${AUTHOR}"]`) }));
    assert.equal(pathOf(page), '/following');
    assert.equal(await page.locator('li.following-item', { hasText: 'Following the gradient' }).count(), 0);
    assert.equal(await page.locator('li.following-item').count(), 1);
    await checkA11y(page, 'the Following page after unfollowing');
    assertNoPageErrors(page);
  });
});
