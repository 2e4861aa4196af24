/**
 * The moderation journey in a real browser (Debian chromium), on both
 * engines: a reader reports a comment from the paper page, a moderator hides
 * it from the reports queue with a reason, the comment shows as hidden to
 * everyone else, and the public log shows the action. Axe checks each page.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { createUser } from '../../src/accounts/users.js';
import { createComment, findPaperRef } from '../../src/community/comments.js';
import type { Role } from '../../src/db/schema.js';
import { assertNoPageErrors, browserSkip, checkA11y, startBrowserEnv, submit, type BrowserEnv } from './support.js';
import type { Page } from 'playwright-core';

const skip = browserSkip();
const PAPER = '0704.0001';
const SPAM = 'Cheap watches at totally-legit.example';

describe('moderation journey in the browser', { skip }, () => {
  let env: BrowserEnv;
  let commentId = 0;

  async function account(username: string, role: Role): Promise<void> {
    const created = await createUser(env.t.ctx.database, { email: `${username}@example.org`, username, password: `passphrase of ${username}`, role, verified: true });
    assert.ok(created.ok);
  }

  async function logIn(username: string): Promise<Page> {
    const page = await env.page();
    await page.goto('/login');
    await page.fill('#f-login', username);
    await page.fill('#f-password', `passphrase of ${username}`);
    await submit(page, page.locator('form[action="/login"]'));
    return page;
  }

  before(async () => {
    env = await startBrowserEnv();
    await Promise.all([account('spammer', 'user'), account('reader', 'user'), account('mod', 'moderator')]);
    const paper = await findPaperRef(env.t.ctx.database, PAPER);
    const author = await env.t.ctx.database.db.selectFrom('users').select(['id', 'username', 'role']).where('username', '=', 'spammer').executeTakeFirstOrThrow();
    assert.ok(paper);
    const result = await createComment(env.t.ctx.database, { paper, author: { ...author, emailVerified: true }, body: SPAM, parentId: null });
    assert.ok(result.ok);
    commentId = result.comment.id;
  });
  after(async () => {
    await env?.close();
  });

  test('a reader reports the comment from the paper page', async () => {
    const page = await logIn('reader');
    await page.goto(`/papers/${PAPER}`);
    const comment = page.locator(`#comment-${commentId}`);
    await comment.locator('details.comment-report summary').click();
    await comment.locator('input[name="reason"][value="spam"]').check();
    await comment.locator('textarea[name="details"]').fill('An advert');
    await checkA11y(page, 'a paper page with an open report form');
    await submit(page, comment.locator('details.comment-report form'));
    assert.ok(page.url().includes(`/papers/${PAPER}`), page.url());
    assertNoPageErrors(page);
  });

  test('a moderator hides it from the queue; it shows as hidden; the log shows the action', async () => {
    const page = await logIn('mod');
    await page.goto('/admin');
    await page.locator('a[href="/admin/reports"]').click();
    await page.waitForURL('**/admin/reports');
    const item = page.locator(`#reported-${commentId}`);
    assert.match((await item.textContent()) ?? '', /spam.*from reader/s);
    await checkA11y(page, 'the reports queue');
    await item.locator(`#hide-${commentId}`).fill('advertising');
    await submit(page, item.locator(`form[action="/comments/${commentId}/hide"]`));
    await page.locator('text=No open reports.').waitFor();

    const visitor = await env.page();
    await visitor.goto(`/papers/${PAPER}`);
    const hidden = visitor.locator(`#comment-${commentId}`);
    assert.match((await hidden.textContent()) ?? '', /\[hidden by a moderator: advertising\]/);
    assert.equal(await visitor.locator(`text=${SPAM}`).count(), 0, 'the text is gone for others');

    await visitor.goto('/moderation');
    const row = visitor.locator('table.moderation-log tbody tr').first();
    assert.match((await row.textContent()) ?? '', /mod.*moderator.*hide comment.*comment by spammer.*advertising/s);
    await checkA11y(visitor, 'the moderation log');
    assertNoPageErrors(page);
    assertNoPageErrors(visitor);
  });
});
