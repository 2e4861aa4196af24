/**
 * The community journeys in a real browser (Debian chromium), on both
 * engines: sign up and confirm from the email an SMTP server received, log
 * out and in, upvote, comment, reply, edit, delete, submit a paper and find
 * it featured with "Submitted by"; and an XSS corpus posted as comments that
 * never runs.
 */
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { startArxivServer, type ArxivFixtureServer } from '../support/arxiv-server.js';
import { sharedData } from '../support/shared-data.js';
import { assertNoPageErrors, browserSkip, CATEGORIES, checkA11y, clickAndWait, startBrowserEnv, submit, type BrowserEnv } from './support.js';

// Browser globals inside page.evaluate callbacks (the project compiles without the DOM library).
declare const window: unknown;
declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null; querySelectorAll(s: string): ArrayLike<{ attributes: ArrayLike<{ name: string }> }> & Iterable<{ attributes: Iterable<{ name: string }> }> };

const skip = browserSkip();
/** A new paper: the fixture API serves the real recording of 1707.08567 under this id, dated two days ago. */
const SUBMITTED = '2611.90001';
const RECORDING = 'arxiv/api-atom/arxiv.py-2026/xml/id_1707.08567_s0_m100_6a1afebfc6a3.xml';

function recentRecord(): string {
  const at = new Date(Date.now() - 2 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return readFileSync(join(sharedData().dir, RECORDING), 'utf8')
    .replaceAll('1707.08567', SUBMITTED)
    .replace(/<(published|updated)>[^<]*</g, `<$1>${at}<`);
}

/** Script that must never run: each payload would set window.__xss or open a dialog. */
const XSS = [
  '<script>window.__xss = 1</script>',
  '<img src=x onerror="window.__xss = 2">',
  '<svg onload="window.__xss = 3"></svg>',
  '[click me](javascript:window.__xss=4)',
  '[data](data:text/html,<script>alert(5)</script>)',
  '<a href="jav&#x61;script:window.__xss=6">entity</a>',
  '<iframe src="javascript:alert(7)"></iframe>',
  '![img](x" onerror="window.__xss=8)',
  '<style>body{display:none}</style><b style="background:url(javascript:alert(9))">styled</b>',
  '[ref][r]\n\n[r]: javascript:window.__xss=10',
  '<javascript:alert(11)>',
];

describe('community journeys in the browser', { skip }, () => {
  let env: BrowserEnv;
  let arxiv: ArxivFixtureServer;
  let smtp: SMTPServer;
  const mail: ParsedMail[] = [];

  before(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, done) {
        simpleParser(stream).then((m) => (mail.push(m), done()), done);
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    arxiv = await startArxivServer({
      sharedData: sharedData().dir,
      handle: (req) =>
        req.params['id_list'] === SUBMITTED ? { status: 200, body: recentRecord(), headers: { 'content-type': 'application/atom+xml; charset=utf-8' } } : undefined,
    });
    env = await startBrowserEnv({
      ARXIV_CATEGORIES: CATEGORIES,
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      ARXIV_API_URL: arxiv.apiUrl,
      ARXIV_MIN_INTERVAL_MS: '0',
    });
  });
  after(async () => {
    await env?.close();
    await arxiv?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  });

  async function confirmationLink(to: string): Promise<string> {
    for (let i = 0; i < 200; i += 1) {
      const found = mail.find((m) => m.to && !Array.isArray(m.to) && m.to.value[0]?.address === to);
      const link = found && /https?:\/\/[^/\s]+(\/verify\?token=[A-Za-z0-9_-]+)/.exec(found.text ?? '')?.[1];
      if (link) return link;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no confirmation mail to ${to}`);
  }

  async function signedInAs(page: Page): Promise<string | null> {
    const name = page.locator('nav.account-nav a[href^="/u/"]');
    return (await name.count()) === 0 ? null : name.first().textContent();
  }

  let page: Page;

  /** The form for a new top-level comment (reply and edit forms sit in closed disclosures). */
  const newComment = (p: Page) => p.locator('#discussion form.comment-form:not(details form)');

  test('sign up, confirm from the email, log out and back in', async () => {
    page = await env.page();
    await page.goto('/');
    await clickAndWait(page, page.locator('nav.account-nav a', { hasText: 'Sign up' }));
    await page.fill('#f-email', 'hedy@example.org');
    await page.fill('#f-username', 'hedy');
    await page.fill('#f-password', 'frequency hopping spread spectrum');
    await submit(page, page.locator('form[action="/signup"]'));
    await page.locator('h1', { hasText: 'Check your email' }).waitFor();
    assert.equal(await signedInAs(page), null);

    await page.goto(await confirmationLink('hedy@example.org'));
    await checkA11y(page, 'the confirmation page');
    await submit(page, page.locator('form[action="/verify"]'));
    assert.equal(await signedInAs(page), 'hedy');

    await submit(page, page.locator('form[action="/logout"]'));
    assert.equal(await signedInAs(page), null);
    await clickAndWait(page, page.locator('nav.account-nav a', { hasText: 'Log in' }));
    await page.fill('#f-login', 'hedy');
    await page.fill('#f-password', 'frequency hopping spread spectrum');
    await submit(page, page.locator('form[action="/login"]'));
    assert.equal(await signedInAs(page), 'hedy');
    assertNoPageErrors(page);
  });

  test('upvote in place (with JavaScript); the vote survives a reload', async () => {
    await page.goto('/');
    const first = page.locator('article.card').first();
    const href = await first.locator('h2 a, h3 a').first().getAttribute('href');
    assert.ok(href);
    await page.goto(href);
    const button = page.locator('main form.votes-page button.upvote-button, main .votes-page button.upvote-button').first();
    const count = page.locator('main .votes-page .count').first();
    const before = Number(await count.textContent());
    assert.equal(await button.getAttribute('aria-pressed'), 'false');
    await button.click();
    await page.waitForFunction(() => document.querySelector('main .votes-page button.upvote-button')?.getAttribute('aria-pressed') === 'true');
    assert.equal(Number(await count.textContent()), before + 1);
    await page.reload();
    assert.equal(await page.locator('main .votes-page button.upvote-button').first().getAttribute('aria-pressed'), 'true');
    assert.equal(Number(await page.locator('main .votes-page .count').first().textContent()), before + 1);
    assertNoPageErrors(page);
  });

  test('comment, reply, edit, delete: the tombstone keeps the reply', async () => {
    await newComment(page).locator('textarea[name="body"]').fill('A first comment with math: $E = mc^2$.');
    await submit(page, newComment(page));
    const comment = page.locator('article.comment', { hasText: 'A first comment with math' });
    await comment.waitFor();

    await comment.locator('details.comment-reply summary').click();
    await comment.locator('details.comment-reply textarea[name="body"]').fill('A reply to it.');
    await submit(page, comment.locator('details.comment-reply form'));
    const reply = page.locator('article.comment', { hasText: 'A reply to it.' });
    await reply.waitFor();

    const parent = page.locator('article.comment', { hasText: 'A first comment with math' });
    await parent.locator('details.comment-edit summary').click();
    await parent.locator('details.comment-edit textarea[name="body"]').fill('An edited first comment.');
    await submit(page, parent.locator('details.comment-edit form'));
    const edited = page.locator('article.comment', { hasText: 'An edited first comment.' });
    await edited.waitFor();
    assert.match((await edited.locator('details.comment-history summary').textContent()) ?? '', /edited/);

    await edited.locator('details.comment-delete summary').click();
    await submit(page, edited.locator('details.comment-delete form'));
    await page.locator('article.comment.deleted').first().waitFor();
    assert.equal(await page.locator('article.comment', { hasText: 'An edited first comment.' }).count(), 0);
    assert.equal(await page.locator('article.comment', { hasText: 'A reply to it.' }).count(), 1, 'the reply stays');
    await checkA11y(page, 'a paper page with a discussion');
    assertNoPageErrors(page);
  });

  test('an XSS corpus posted as comments renders as inert text', async () => {
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs += 1;
      void d.dismiss();
    });
    for (const payload of XSS) {
      await newComment(page).locator('textarea[name="body"]').fill(payload);
      await submit(page, newComment(page));
    }
    await page.reload();
    assert.ok((await page.locator('#discussion article.comment:not(.deleted)').count()) >= XSS.length + 1, 'every payload was posted');
    // Follow every link in the discussion that the sanitiser left: none may run script.
    const hrefs = await page.locator('#discussion .comment-body a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    for (const href of hrefs) assert.match(href, /^(https?:|mailto:|\/|#)/, href);
    const unsafe = await page.evaluate(() => ({
      xss: (window as unknown as { __xss?: number }).__xss,
      scripts: document.querySelectorAll('#discussion script, #discussion iframe, #discussion svg, #discussion style, #discussion img').length,
      handlers: [...document.querySelectorAll('#discussion *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on') || a.name === 'style')).length,
    }));
    assert.deepEqual(unsafe, { xss: undefined, scripts: 0, handlers: 0 });
    assert.equal(dialogs, 0);
    assertNoPageErrors(page);
  });

  test('submit a paper: fetched from arXiv, featured today with "Submitted by"', async () => {
    await page.goto('/');
    await clickAndWait(page, page.locator('header a', { hasText: 'Submit' }));
    await page.fill('#f-id', `https://arxiv.org/abs/${SUBMITTED}v1`);
    await submit(page, page.locator('form[action="/papers/submit"]'));
    assert.equal(new URL(page.url()).pathname, `/papers/${SUBMITTED}`, (await page.locator('main').textContent()) ?? '');
    await page.locator('main', { hasText: 'Submitted by hedy' }).first().waitFor();

    await page.goto('/');
    const card = page.locator('article.card', { has: page.locator(`a[href="/papers/${SUBMITTED}"]`) });
    await card.first().waitFor();
    assert.match((await card.first().textContent()) ?? '', /Submitted by hedy/);
    assertNoPageErrors(page);

    await submit(page, page.locator('form[action="/logout"]'));
    assert.equal(await signedInAs(page), null);
  });
});
