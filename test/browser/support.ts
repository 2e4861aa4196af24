/**
 * End-to-end browser support: one imported app and one headless Debian
 * chromium per test file (playwright-core drives it; nothing is downloaded),
 * page helpers, and an axe-core accessibility check.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { AxeResults, Result as AxeResult } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { importedApp, type TestApp } from '../support/app.js';
import { sharedData } from '../support/shared-data.js';

export const CHROMIUM = process.env.PAPERBOY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Archives the shared arXiv data covers well: days with hundreds of papers. */
export const CATEGORIES = 'math,hep-th,astro-ph,cond-mat,quant-ph,cs';

/**
 * Why the browser suite cannot run here, or false. Without chromium it is
 * skipped locally, but CI (`CI=true`) installs it, so there it fails instead.
 */
export function browserSkip(): string | false {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing in CI: .ci/run installs the chromium package`);
    return `browser tests skipped: ${CHROMIUM} not found (apt-get install chromium, or set PAPERBOY_CHROMIUM)`;
  }
  const data = sharedData();
  return data.skip ? `browser tests skipped: ${data.skip}` : false;
}

export interface BrowserEnv {
  t: TestApp;
  browser: Browser;
  /** http://127.0.0.1:port, no trailing slash. */
  base: string;
  /** A fresh context (cookies, viewport, colour scheme, JavaScript) with one page; closed by `close()`. */
  page(options?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

/** Starts an imported app on a free port and launches chromium, in parallel. */
export async function startBrowserEnv(env: Record<string, string> = { ARXIV_CATEGORIES: CATEGORIES }): Promise<BrowserEnv> {
  const [t, browser] = await Promise.all([
    importedApp(env),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const contexts: BrowserContext[] = [];
  return {
    t,
    browser,
    base,
    async page(options = {}) {
      const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, ...options });
      context.setDefaultTimeout(10_000);
      contexts.push(context);
      const page = await context.newPage();
      watchErrors(page);
      return page;
    },
    async close() {
      await Promise.allSettled(contexts.map((c) => c.close()));
      await browser.close();
      await t.close();
    },
  };
}

const pageErrors = new WeakMap<Page, string[]>();

/**
 * Records uncaught exceptions, console errors (CSP violations among them) and
 * same-origin responses >= 400. The browser's own /favicon.ico probe is not
 * the page's doing, so its 404 is left out.
 */
function watchErrors(page: Page): void {
  const errors: string[] = [];
  pageErrors.set(page, errors);
  const ignored = (url: string): boolean => new URL(url, 'http://x').pathname === '/favicon.ico';
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' || ignored(msg.location().url || 'about:blank')) return;
    // Failed loads are reported with their URL by the response listener.
    if (msg.text().startsWith('Failed to load resource: the server responded')) return;
    errors.push(`console: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !ignored(res.url())) errors.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    // ERR_ABORTED: the page navigated away while e.g. a font was still loading.
    const reason = req.failure()?.errorText ?? '?';
    if (!ignored(req.url()) && reason !== 'net::ERR_ABORTED') errors.push(`request failed: ${req.url()} (${reason})`);
  });
}

/** Fails if the page logged errors, threw, or had requests fail since it opened (or since the last call). */
export function assertNoPageErrors(page: Page): void {
  const errors = pageErrors.get(page) ?? [];
  const found = errors.splice(0);
  assert.deepEqual(found, [], `errors on ${page.url()}:\n${found.join('\n')}`);
}

/** The path and query of the page's URL, e.g. `/papers/date/2007-04-09?category=math`. */
export function pathOf(page: Page): string {
  const url = new URL(page.url());
  return `${url.pathname}${url.search}`;
}

/** Clicks and waits for the navigation the click starts to finish loading. */
export async function clickAndWait(page: Page, target: ReturnType<Page['locator']>): Promise<void> {
  await Promise.all([page.waitForEvent('framenavigated'), target.click()]);
  await page.waitForLoadState('load');
}

/** Submits a form with a click on its submit button, waiting for the new page. */
export async function submit(page: Page, form: ReturnType<Page['locator']>): Promise<void> {
  await clickAndWait(page, form.locator('button[type="submit"]'));
}

/** The visible paper cards. */
export function cards(page: Page): ReturnType<Page['locator']> {
  return page.locator('article.card');
}

/** The arXiv ids the cards on the page link to, in order. */
export async function cardIds(page: Page): Promise<string[]> {
  return cards(page).evaluateAll((articles) =>
    articles.map((a) => /\/papers\/([^/#?]+)/.exec(a.querySelector('h2 a, h3 a')?.getAttribute('href') ?? '')?.[1] ?? ''),
  );
}

let axeSource: string | undefined;
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return axeSource;
}

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function formatViolations(violations: AxeResult[]): string {
  return violations
    .map((v) => {
      const targets = v.nodes.slice(0, 6).map((n) => {
        const why = n.any[0]?.message ?? n.all[0]?.message ?? n.none[0]?.message ?? '';
        return `    - ${n.target.join(' ')}${why ? `: ${why}` : ''}`;
      });
      const more = v.nodes.length > 6 ? [`    … and ${v.nodes.length - 6} more`] : [];
      return [`  [${v.impact ?? 'n/a'}] ${v.id}: ${v.help} (${v.nodes.length} ${v.nodes.length === 1 ? 'node' : 'nodes'})`, ...targets, ...more].join('\n');
    })
    .join('\n');
}

/**
 * Runs axe-core with the WCAG 2.0/2.1 A and AA rules on the page as it is now
 * and fails with a readable list of violations.
 *
 * axe's source is evaluated through the DevTools protocol rather than added
 * with `page.addScriptTag({ content })`: the app's CSP (`script-src 'self'`)
 * refuses inline scripts, and a context with `bypassCSP` would no longer catch
 * pages that break under the real policy.
 */
export async function checkA11y(page: Page, label = pathOf(page)): Promise<AxeResults> {
  const hasAxe = (): Promise<boolean> => page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!(await hasAxe())) await page.evaluate(axeScript());
  const results = (await page.evaluate(
    (tags) =>
      (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } }).axe.run(
        (globalThis as unknown as { document: unknown }).document,
        { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] },
      ),
    WCAG_TAGS,
  )) as AxeResults;
  assert.ok(results.violations.length === 0, `axe found WCAG A/AA violations on ${label}:\n${formatViolations(results.violations)}`);
  return results;
}
