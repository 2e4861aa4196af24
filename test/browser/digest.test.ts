/**
 * The email journey in a real browser (Debian chromium), on both engines,
 * with mail through a real SMTP server parsed by mailparser: subscribe from
 * the header box, confirm from the emailed link, set preferences, receive the
 * digest (its HTML rendered in the browser, its links followed), then
 * unsubscribe in one click the way a mail client does (a POST with no
 * cookie), after which the next digest skips the address.
 */
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { Page } from 'playwright-core';
import { createRun } from '../../src/digests/runs.js';
import { deliverRun } from '../../src/digests/delivery.js';
import { headerOf, startSmtpServer, type ReceivedMessage, type TestSmtpServer } from '../support/smtp-server.js';
import { assertNoPageErrors, browserSkip, CATEGORIES, checkA11y, startBrowserEnv, submit, type BrowserEnv } from './support.js';

const skip = browserSkip();
const READER = 'lise@example.org';

describe('email digest journey in the browser', { skip }, () => {
  let env: BrowserEnv;
  let smtp: TestSmtpServer;
  let page: Page;

  before(async () => {
    smtp = await startSmtpServer();
    env = await startBrowserEnv({ ARXIV_CATEGORIES: CATEGORIES, SMTP_URL: smtp.url, MAIL_FROM: 'Paperboy <news@paperboy.test>' });
  });
  after(async () => {
    await env?.close();
    await smtp?.close();
  });

  /** The first message to `to` from `sender` (envelope), raw and parsed; waits for it. */
  async function mailTo(to: string, sender: string): Promise<{ raw: ReceivedMessage; mail: ParsedMail }> {
    for (let i = 0; i < 400; i += 1) {
      const found = smtp.received.find((m) => m.to.includes(to) && m.from === sender);
      if (found !== undefined) return { raw: found, mail: await simpleParser(found.raw) };
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no mail from ${sender} to ${to}`);
  }

  /** The path of the first link in `text` matching `pattern` (mail links name the configured BASE_URL, not the test port). */
  function pathIn(text: string, pattern: RegExp): string {
    const url = new RegExp(`https?://[^/\\s]+(${pattern.source})`).exec(text)?.[1];
    assert.ok(url, `no link matching ${pattern} in:\n${text}`);
    return url;
  }

  /** The day with the most featured papers: a digest of several papers. */
  async function busiestDay(): Promise<string> {
    const row = await env.t.ctx.database.db
      .selectFrom('featured')
      .select(['featured_on', (eb) => eb.fn.countAll<number>().as('n')])
      .where('hidden_at', 'is', null)
      .groupBy('featured_on')
      .orderBy('n', 'desc')
      .orderBy('featured_on', 'desc')
      .executeTakeFirstOrThrow();
    assert.ok(Number(row.n) >= 3, 'the imported data has a day with several featured papers');
    return row.featured_on;
  }

  async function sendDigest(day: string): Promise<number> {
    await env.t.ctx.database.db.deleteFrom('digest_runs').where('period_end', '=', day).execute();
    const run = await createRun(env.t.ctx, { cadence: 'daily', periodEnd: day });
    await deliverRun(env.t.ctx, run.runId);
    return run.runId;
  }

  test('subscribe from the header box and confirm from the email', async () => {
    page = await env.page();
    await page.goto('/');
    await page.fill('#subscribe-email', READER);
    await submit(page, page.locator('form.subscribe-box'));
    assert.equal(await page.inputValue('#f-email'), READER, 'the box carries the address to the subscribe page');
    await checkA11y(page, 'the subscribe page');
    await submit(page, page.locator('form[action="/subscribe"][method="post"]'));
    await page.locator('h1', { hasText: 'Check your inbox' }).waitFor();

    const { raw: confirmationRaw, mail: confirmation } = await mailTo(READER, 'news@paperboy.test');
    assert.equal(headerOf(confirmationRaw.raw, 'List-Unsubscribe'), undefined, 'transactional mail carries no list headers');
    await page.goto(pathIn(confirmation.text ?? '', /\/subscriptions\/confirm\?token=[A-Za-z0-9_-]+/));
    await checkA11y(page, 'the confirmation page');
    const row = () => env.t.ctx.database.db.selectFrom('subscribers').selectAll().where('email_key', '=', READER).executeTakeFirstOrThrow();
    assert.equal((await row()).status, 'pending', 'opening the link changes nothing');
    await submit(page, page.locator('form[action="/subscriptions/confirm"]'));
    await page.locator('h1', { hasText: 'You are subscribed' }).waitFor();
    assert.equal((await row()).status, 'confirmed');

    await page.locator('main a', { hasText: 'Choose how often' }).click();
    await page.locator('h1', { hasText: 'Your digest' }).waitFor();
    await page.fill('#f-paperCount', '3');
    await submit(page, page.locator('form.preferences-form'));
    await page.locator('text=Saved.').waitFor();
    assert.equal((await row()).paper_count, 3);
    await checkA11y(page, 'the preferences page');
    assertNoPageErrors(page);
  });

  test('the digest arrives with list headers, renders in a browser and links to the papers', async () => {
    const runId = await sendDigest(await busiestDay());
    const { raw, mail: digest } = await mailTo(READER, 'digest@paperboy.test');
    const subscriber = await env.t.ctx.database.db.selectFrom('subscribers').select(['id', 'link_token']).where('email_key', '=', READER).executeTakeFirstOrThrow();
    assert.equal(digest.messageId, `<digest-${runId}-${subscriber.id}@localhost>`);
    assert.equal(headerOf(raw.raw, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    const listUnsubscribe = headerOf(raw.raw, 'List-Unsubscribe') ?? '';
    assert.ok(listUnsubscribe.includes(`/unsubscribe/${subscriber.link_token}>`), listUnsubscribe);
    assert.ok(listUnsubscribe.includes('<mailto:'), listUnsubscribe);
    assert.ok(headerOf(raw.raw, 'List-Id'));
    assert.ok(typeof digest.html === 'string' && digest.text);

    // The HTML as a mail client shows it: three papers, each linked to its page here and its PDF.
    const mailView = await env.page();
    await mailView.setContent(digest.html);
    const paperLinks = await mailView.locator('a', { hasText: 'PDF' }).count();
    assert.equal(paperLinks, 3, 'the preference of three papers holds');
    const pagePath = new URL((await mailView.locator('a[href*="/papers/"]').first().getAttribute('href')) ?? '').pathname;
    await page.goto(pagePath);
    assert.match(await page.locator('h1').first().innerText(), /\S/);
    assert.equal(await page.locator('text=404').count(), 0);

    // The visible unsubscribe link opens a page whose GET changes nothing.
    await page.goto(pathIn(digest.text, /\/unsubscribe\/[A-Za-z0-9_-]+/));
    await page.locator('h1', { hasText: 'Unsubscribe' }).waitFor();
    const status = await env.t.ctx.database.db.selectFrom('subscribers').select('status').where('email_key', '=', READER).executeTakeFirstOrThrow();
    assert.equal(status.status, 'confirmed');
    await checkA11y(page, 'the unsubscribe page');
    assertNoPageErrors(page);
  });

  test('one-click unsubscribe as a mail client sends it; the next digest skips the address', async () => {
    const { raw } = await mailTo(READER, 'digest@paperboy.test');
    const target = /<(https?:\/\/[^>]+\/unsubscribe\/[^>]+)>/.exec(headerOf(raw.raw, 'List-Unsubscribe') ?? '')?.[1];
    assert.ok(target);
    // RFC 8058: a POST with this body, no cookie, no CSRF token; the answer must not redirect.
    const res = await fetch(`${env.base}${new URL(target).pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    assert.equal(res.status, 200);
    const before = smtp.received.length;
    await sendDigest(await busiestDay());
    assert.equal(smtp.received.slice(before).filter((m) => m.to.includes(READER)).length, 0, 'no digest after unsubscribing');

    // The preferences page says so, and offers to subscribe again.
    const link = await env.t.ctx.database.db.selectFrom('subscribers').select('link_token').where('email_key', '=', READER).executeTakeFirstOrThrow();
    await page.goto(`/unsubscribe/${link.link_token}`);
    await page.locator('h1', { hasText: 'You are unsubscribed' }).waitFor();
    assertNoPageErrors(page);
  });
});
