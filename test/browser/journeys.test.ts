/**
 * User journeys in a real browser (Debian chromium through playwright-core)
 * over an instance with the shared arXiv records imported: browsing the feed,
 * day/week navigation and filters, search, a paper page with rendered math,
 * no-JavaScript use, a phone viewport and dark mode, with axe-core WCAG checks.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  assertNoPageErrors,
  browserSkip,
  cardIds,
  cards,
  checkA11y,
  clickAndWait,
  pathOf,
  startBrowserEnv,
  submit,
  type BrowserEnv,
} from './support.js';

// The project compiles without the DOM lib: the browser globals that code in
// page.evaluate callbacks uses, as far as it uses them.
interface DomElement {
  tagName: string;
  id: string;
  className: unknown;
  textContent: string | null;
  open?: boolean;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { right: number };
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & ArrayLike<DomElement>;
  cloneNode(deep: boolean): DomElement;
  remove(): void;
}
declare const window: { innerWidth: number };
declare const document: {
  documentElement: { scrollWidth: number };
  body: DomElement;
  activeElement: unknown;
  querySelectorAll(selector: string): Iterable<DomElement> & ArrayLike<DomElement>;
  fonts: Iterable<{ family: string; status: string }> & { ready: Promise<unknown> };
};
declare function getComputedStyle(element: DomElement): { backgroundColor: string };

const skip = browserSkip();

/** The categories shown as chips on each card. */
function cardCategories(page: Page): Promise<string[][]> {
  return cards(page).evaluateAll((articles: DomElement[]) =>
    articles.map((a) => [...a.querySelectorAll('a.chip')].map((c) => c.textContent?.trim() ?? '')),
  );
}

/** True when `category` is the filter or lies in the archive the filter names. */
function inFilter(category: string, filter: string): boolean {
  return category === filter || category.startsWith(`${filter}.`);
}

/** How far the page is wider than the viewport, with the first elements that stick out. */
async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const innerWidth = window.innerWidth;
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`);
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, culprits };
  });
}

describe('browser journeys', { skip }, () => {
  let env: BrowserEnv;
  /** A paper of the 0704 batch whose abstract has inline `$...$` math. */
  let mathPaper: { arxivId: string; plainLead: string };

  before(async () => {
    env = await startBrowserEnv();
    const candidates = await env.t.ctx.database.db
      .selectFrom('papers')
      .select(['arxiv_id', 'abstract'])
      .where('arxiv_id', 'like', '0704.%')
      .where('abstract', 'like', '%$%$%')
      .orderBy('arxiv_id')
      .execute();
    const row = candidates.find((c) => c.abstract.indexOf('$') > 39);
    assert.ok(row, 'the shared data has a 0704.* paper with $...$ math in its abstract');
    // Words before the first formula: still plain text after KaTeX has run.
    const plain = row.abstract.slice(0, row.abstract.indexOf('$')).trim();
    mathPaper = { arxivId: row.arxiv_id, plainLead: plain.split(/\s+/).slice(0, 5).join(' ') };
  });
  after(() => env?.close());

  test('(a) the home feed shows the imported papers and passes axe', async () => {
    const page = await env.page();
    await page.goto('/');
    await assert.doesNotReject(page.locator('h1', { hasText: 'Daily papers' }).waitFor());
    const count = cards(page);
    assert.ok((await count.count()) > 0, 'cards on the front page');
    await count.first().waitFor({ state: 'visible' });
    const total = await page.locator('main p.muted', { hasText: /\d+ papers?/ }).first().textContent();
    assert.match(total ?? '', /^\d+ papers?/);
    assert.equal(Math.min(50, Number(/^(\d+)/.exec(total ?? '')?.[1])), await count.count(), 'the count text matches the cards');
    // Titles are real arXiv titles, linked to the paper page.
    const ids = await cardIds(page);
    assert.ok(ids.every((id) => /^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?\/\d{7})$/.test(id)), `arXiv ids: ${ids.join(', ')}`);
    await page.waitForSelector('html.math-rendered');
    assertNoPageErrors(page);
    await checkA11y(page, 'the home feed');

    // The daily feed of a busy day: 50 cards per page and a pager.
    await page.goto('/papers/date/2007-04-03');
    assert.equal(await cards(page).count(), 50);
    assert.match((await page.locator('main p.muted.small').first().textContent()) ?? '', /^173 papers, 50 per page/);
    assert.match((await page.locator('nav.pager').textContent()) ?? '', /Page 1 of 4/);
    await page.waitForSelector('html.math-rendered');
    assertNoPageErrors(page);
    await checkA11y(page, 'the 2007-04-03 feed');

    // The skip link is the first stop of the keyboard and shows itself.
    await page.keyboard.press('Tab');
    const skipLink = page.locator('a.skip');
    assert.equal(await skipLink.evaluate((el: DomElement) => el === document.activeElement), true);
    const box = await skipLink.boundingBox();
    assert.ok(box && box.x >= 0 && box.y >= 0, 'the focused skip link is on screen');
  });

  test('(b) day navigation skips the weekend; week tab; category and sort filters', async () => {
    const page = await env.page();
    await page.goto('/papers/date/2007-04-06');
    assert.match((await page.locator('h1').textContent()) ?? '', /Friday, 6 April 2007/);

    await clickAndWait(page, page.getByRole('link', { name: 'Next day' }));
    assert.equal(pathOf(page), '/papers/date/2007-04-09', 'Saturday and Sunday have nothing featured');
    assert.match((await page.locator('h1').textContent()) ?? '', /Monday, 9 April 2007/);
    assert.ok((await cards(page).count()) > 0);

    await clickAndWait(page, page.getByRole('link', { name: 'Previous day' }));
    assert.equal(pathOf(page), '/papers/date/2007-04-06');

    await clickAndWait(page, page.locator('.period-tabs').getByRole('link', { name: 'Week' }));
    assert.equal(pathOf(page), '/papers/week/2007-W14');
    assert.equal(await page.locator('.period-tabs a[aria-current="page"]').textContent(), 'Week');
    assert.match((await page.locator('h1').textContent()) ?? '', /Week 14 of 2007/);
    const weekTotal = Number(/^(\d+)/.exec((await page.locator('main p.muted.small').first().textContent()) ?? '')?.[1]);
    assert.ok(weekTotal > 500, `a busy week: ${weekTotal}`);

    const form = page.locator('form.filters');
    await form.locator('select[name="category"]').selectOption('hep-th');
    await form.locator('select[name="sort"]').selectOption('newest');
    await submit(page, form);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/papers/week/2007-W14');
    assert.equal(url.searchParams.get('category'), 'hep-th');
    assert.equal(url.searchParams.get('sort'), 'newest');
    assert.match((await page.locator('h1').textContent()) ?? '', /Daily papers in hep-th/);
    assert.equal(await form.locator('select[name="category"]').inputValue(), 'hep-th', 'the form keeps the filter');
    const chips = await cardCategories(page);
    assert.ok(chips.length > 0);
    chips.forEach((c, i) => assert.ok(c.some((x) => inFilter(x, 'hep-th')), `card ${i + 1} is in hep-th: ${c.join(' ')}`));
    const filteredTotal = Number(/^(\d+)/.exec((await page.locator('main p.muted.small').first().textContent()) ?? '')?.[1]);
    assert.ok(filteredTotal > 0 && filteredTotal < weekTotal, `${filteredTotal} of ${weekTotal}`);
    // Newest first.
    const times = await page.locator('article.card time').evaluateAll((els: DomElement[]) => els.map((e) => e.getAttribute('datetime') ?? ''));
    assert.deepEqual(times, [...times].sort().reverse(), 'sorted by publication time, newest first');

    // Tabs and day links keep the filter.
    await clickAndWait(page, page.locator('.period-tabs').getByRole('link', { name: 'Day' }));
    assert.equal(new URL(page.url()).searchParams.get('category'), 'hep-th');
    (await cardCategories(page)).forEach((c) => assert.ok(c.some((x) => inFilter(x, 'hep-th')), c.join(' ')));

    // An archive filter (astro-ph) keeps cards from all of its categories.
    await page.goto('/papers/date/2007-04-03');
    await page.locator('form.filters select[name="category"]').selectOption('astro-ph');
    await submit(page, page.locator('form.filters'));
    assert.equal(new URL(page.url()).searchParams.get('category'), 'astro-ph');
    const astroChips = await cardCategories(page);
    assert.ok(astroChips.length > 0);
    astroChips.forEach((c) => assert.ok(c.some((x) => inFilter(x, 'astro-ph')), c.join(' ')));
    assertNoPageErrors(page);
  });

  test('(c) search from the header, narrow by category, highlighted results, page 2', async () => {
    const page = await env.page();
    await page.goto('/papers/date/2007-04-03');
    await page.locator('#site-q').fill('entanglement');
    await clickAndWait(page, page.locator('form.site-search button[type="submit"]'));
    let url = new URL(page.url());
    assert.equal(url.pathname, '/search');
    assert.equal(url.searchParams.get('q'), 'entanglement');
    assert.equal(await page.locator('#site-q').inputValue(), 'entanglement', 'the header box keeps the query');
    const allStatus = (await page.locator('main p[role="status"]').textContent()) ?? '';
    const allTotal = Number(/([\d,]+) results?/.exec(allStatus)?.[1]?.replace(/,/g, ''));
    assert.ok(allTotal > 20, allStatus);
    assert.ok((await page.locator('article.card mark').count()) > 0, 'highlighted snippets');

    const form = page.locator('main form.filters');
    assert.equal(await form.locator('input[name="q"]').inputValue(), 'entanglement');
    await form.locator('input[name="category"]').fill('quant-ph');
    await submit(page, form);
    url = new URL(page.url());
    assert.equal(url.searchParams.get('q'), 'entanglement');
    assert.equal(url.searchParams.get('category'), 'quant-ph');
    const status = (await page.locator('main p[role="status"]').textContent()) ?? '';
    const total = Number(/([\d,]+) results?/.exec(status)?.[1]?.replace(/,/g, ''));
    assert.ok(total > 20 && total < allTotal, `${status} (of ${allTotal})`);
    assert.equal(await cards(page).count(), 20);
    const marks = await page.locator('article.card mark').allTextContents();
    assert.ok(marks.length >= 10, `highlighted snippets: ${marks.length}`);
    assert.ok(marks.every((m) => /^entangl/i.test(m.trim())), `marks are query words: ${marks.slice(0, 10).join(', ')}`);
    (await cardCategories(page)).forEach((c) => assert.ok(c.some((x) => inFilter(x, 'quant-ph')), c.join(' ')));
    const firstPage = await cardIds(page);
    assert.equal(await page.locator('.snippet mark').first().isVisible(), true);
    await checkA11y(page, 'search results');

    await clickAndWait(page, page.locator('nav.pager').getByRole('link', { name: /Next/ }));
    url = new URL(page.url());
    assert.equal(url.searchParams.get('page'), '2');
    assert.equal(url.searchParams.get('category'), 'quant-ph', 'pagination keeps the filter');
    assert.match((await page.locator('nav.pager').textContent()) ?? '', /Page 2 of/);
    assert.match((await page.locator('main p[role="status"]').textContent()) ?? '', /showing 21–/);
    const secondPage = await cardIds(page);
    assert.ok(secondPage.length > 0);
    assert.deepEqual(secondPage.filter((id) => firstPage.includes(id)), [], 'page 2 shows other papers');
    assert.ok((await page.locator('article.card mark').count()) > 0);
    assertNoPageErrors(page);
  });

  test('(d) a paper page renders the TeX of its abstract with KaTeX and passes axe', async () => {
    const page = await env.page();
    // Reach it the way a reader does: search for words of its abstract, open the result.
    await page.goto('/search');
    await page.locator('main form.filters input[name="q"]').fill(`"${mathPaper.plainLead}"`);
    await submit(page, page.locator('main form.filters'));
    await clickAndWait(page, page.locator(`article.card h2 a[href="/papers/${mathPaper.arxivId}"]`));
    assert.equal(pathOf(page), `/papers/${mathPaper.arxivId}`);
    assert.equal(await page.locator('main h1').count(), 1);
    await page.waitForSelector('html.math-rendered');

    const abstract = page.locator('main .tex', { hasText: mathPaper.plainLead }).last();
    assert.equal(await abstract.count(), 1, `the abstract (starting "${mathPaper.plainLead}") is a .tex element`);
    const katex = await abstract.locator('.katex').count();
    assert.ok(katex > 0, 'KaTeX rendered the abstract math');
    const leftover = await abstract.evaluate((el) => {
      const copy = (el as DomElement).cloneNode(true);
      for (const k of [...copy.querySelectorAll('.katex, .katex-display')]) k.remove();
      return /\$[^$]+\$/.exec(copy.textContent ?? '')?.[0] ?? null;
    });
    assert.equal(leftover, null, 'no raw $...$ left in the abstract');
    // Neither parse errors nor unknown commands (drawn in KaTeX's error colour).
    assert.equal(await abstract.locator('.katex-error, .katex [style*="rgb(204, 0, 0)"], .katex [style*="#cc0000"]').count(), 0, 'no KaTeX errors');
    // KaTeX fonts load from the app itself (CSP font-src 'self').
    await page.evaluate(() => document.fonts.ready);
    assert.ok(await page.evaluate(() => [...document.fonts].some((f) => f.family.includes('KaTeX') && f.status === 'loaded')), 'KaTeX fonts loaded');
    assertNoPageErrors(page);
    await checkA11y(page, `paper ${mathPaper.arxivId}`);
  });

  test('(e) without JavaScript: feed, filter form, abstracts and search work', async () => {
    const page = await env.page({ javaScriptEnabled: false });
    await page.goto('/papers/date/2007-04-03');
    assert.equal(await cards(page).count(), 50);
    assert.equal(await page.locator('html.math-rendered').count(), 0, 'app.js did not run');
    // TeX titles stay readable as source.
    assert.ok((await page.locator('article.card .tex').count()) > 0);

    // The abstract expands with <details>, no script needed.
    const details = page.locator('article.card details.abstract').first();
    await details.locator('summary').click();
    assert.equal(await details.evaluate((d: DomElement) => d.open), true);
    assert.equal(await details.locator('p.tex').isVisible(), true);

    const form = page.locator('form.filters');
    await form.locator('select[name="category"]').selectOption('quant-ph');
    await form.locator('select[name="sort"]').selectOption('newest');
    await submit(page, form);
    assert.equal(pathOf(page), '/papers/date/2007-04-03?category=quant-ph&sort=newest');
    const chips = await cardCategories(page);
    assert.ok(chips.length > 0);
    chips.forEach((c) => assert.ok(c.some((x) => inFilter(x, 'quant-ph')), c.join(' ')));

    await page.locator('#site-q').fill('entanglement');
    await page.locator('#site-q').press('Enter');
    await page.waitForURL(/\/search\?q=entanglement/);
    assert.ok((await cards(page).count()) > 0);
    assert.ok((await page.locator('article.card mark').count()) > 0);
    const form2 = page.locator('main form.filters');
    await form2.locator('input[name="featured"]').check();
    await submit(page, form2);
    assert.equal(new URL(page.url()).searchParams.get('featured'), '1');
    assert.ok((await cards(page).count()) > 0);
    assertNoPageErrors(page);
  });

  test('(f) a 390×844 phone viewport has no horizontal overflow', async () => {
    const page = await env.page({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const pages = [
      '/',
      '/papers/date/2007-04-03',
      '/papers/week/2007-W14',
      '/papers/trending',
      '/c/hep-th?date=2007-04-03',
      '/search?q=entanglement',
      '/search',
      `/papers/${mathPaper.arxivId}`,
    ];
    for (const path of pages) {
      await page.goto(path);
      if ((await page.locator('script[src*="app"]').count()) > 0) await page.waitForSelector('html.math-rendered');
      // Open every abstract: expanded TeX must wrap too.
      await page.locator('details.abstract').evaluateAll((ds: DomElement[]) => ds.forEach((d) => (d.open = true)));
      const o = await horizontalOverflow(page);
      assert.ok(o.scrollWidth <= o.innerWidth, `${path}: scrollWidth ${o.scrollWidth} > ${o.innerWidth}; wide: ${o.culprits.join(', ')}`);
    }
    assertNoPageErrors(page);
  });

  test('(g) dark mode passes axe, contrast included', async () => {
    const page = await env.page({ colorScheme: 'dark' });
    // Every element kind of the feed, search and paper pages (tabs, filters,
    // chips, marks, pager, panels, KaTeX); a filtered day keeps the page short.
    const pages = ['/papers/date/2007-04-03?category=quant-ph', '/search?q=entanglement', '/papers/trending', `/papers/${mathPaper.arxivId}`];
    for (const path of pages) {
      await page.goto(path);
      await page.waitForSelector('html.math-rendered');
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(17, 17, 20)', 'the dark palette is in use');
      await checkA11y(page, `${path} (dark)`);
    }
    assertNoPageErrors(page);
  });
});
