/**
 * The authorship journey in a real browser, on both engines: a user claims
 * an author name from the paper page, a curator verifies it from the queue
 * at /admin/claims, the user's comment then carries the "author" badge and
 * the paper shows on their profile. axe checks the claim page and the queue.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { createUser } from '../../src/accounts/users.js';
import { assertNoPageErrors, browserSkip, checkA11y, clickAndWait, startBrowserEnv, submit, type BrowserEnv } from './support.js';

const skip = browserSkip();
const PAPER = '0704.0001';

describe('authorship claims in the browser', { skip }, () => {
  let env: BrowserEnv;

  before(async () => {
    env = await startBrowserEnv();
    for (const [username, role] of [
      ['ada', 'user'],
      ['cora', 'curator'],
    ] as const) {
      const made = await createUser(env.t.ctx.database, { email: `${username}@example.org`, username, password: `a long passphrase for ${username}`, role, verified: true });
      assert.ok(made.ok);
    }
  });
  after(async () => env?.close());

  async function logIn(page: Page, username: string): Promise<void> {
    await page.goto('/login');
    await page.fill('#f-login', username);
    await page.fill('#f-password', `a long passphrase for ${username}`);
    await submit(page, page.locator('form[action="/login"]'));
  }

  test('claim, verify as a curator, see the badge and the profile', async () => {
    const ada = await env.page();
    await logIn(ada, 'ada');
    await ada.goto(`/papers/${PAPER}`);
    await clickAndWait(ada, ada.locator('.claims-panel a', { hasText: 'Claim authorship' }));
    assert.equal(new URL(ada.url()).pathname, `/papers/${PAPER}/claim`);
    await checkA11y(ada);
    const radio = ada.locator('input[name="authorName"]').first();
    const name = (await radio.getAttribute('value')) ?? '';
    await radio.check();
    await ada.fill('#evidence', 'https://example.org/~ada');
    await submit(ada, ada.locator('form.claim-form'));
    assert.match((await ada.locator('main').textContent()) ?? '', /waiting for a curator/);
    assertNoPageErrors(ada);

    const cora = await env.page();
    await logIn(cora, 'cora');
    await cora.goto('/admin/claims');
    await checkA11y(cora);
    const item = cora.locator('li.claim-item', { hasText: 'ada' });
    assert.match((await item.textContent()) ?? '', /example\.org\/~ada/);
    await submit(cora, item.locator('form[action$="/verify"]'));
    assert.match((await cora.locator('main').textContent()) ?? '', /No claims wait/);
    assertNoPageErrors(cora);

    await ada.goto(`/papers/${PAPER}`);
    assert.equal(await ada.locator('.author-list a.verified-author', { hasText: '✓ ada' }).count(), 1);
    await ada.fill('#comment-new', 'Thanks for reading, I am one of the authors.');
    await submit(ada, ada.locator('form.comment-form').last());
    const comment = ada.locator('article.comment', { hasText: 'I am one of the authors' });
    assert.equal(await comment.locator('.author-badge').textContent(), 'author');

    await ada.goto('/u/ada');
    const authored = ada.locator('section[aria-labelledby="authored-h"]');
    assert.match((await authored.textContent()) ?? '', new RegExp(`as ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await checkA11y(ada);
    assertNoPageErrors(ada);
  });
});
