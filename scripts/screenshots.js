// Screenshots of the main pages for the docs, taken with Debian's chromium
// over an instance with the shared arXiv records imported (as the browser
// tests do). Run after a build: `npm run screenshots`.
// Writes docs/screenshots/*.png; PAPERBOY_CHROMIUM overrides /usr/bin/chromium.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { sqliteHandle } from '../dist/src/db/connection.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs/screenshots');
const CHROMIUM = process.env.PAPERBOY_CHROMIUM ?? '/usr/bin/chromium';
const APP = join(ROOT, 'dist/test/support/app.js');
const CATEGORIES = 'math,hep-th,astro-ph,cond-mat,quant-ph,cs';

const DESKTOP = { viewport: { width: 1280, height: 860 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} not found: apt-get install chromium (or set PAPERBOY_CHROMIUM)`);
  process.exit(1);
}
if (!existsSync(APP)) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}

const { importedApp } = await import(APP);
const started = Date.now();
const [t, browser] = await Promise.all([
  importedApp({ ARXIV_CATEGORIES: CATEGORIES }),
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--hide-scrollbars'],
  }),
]);

try {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${t.app.server.address().port}`;
  // A paper with TeX in its title and abstract that KaTeX renders cleanly
  // (many abstracts use the authors' own macros, shown as red errors).
  const candidates = sqliteHandle(t.ctx.database)
    .prepare(
      `SELECT arxiv_id FROM papers WHERE arxiv_id LIKE '0704.%' AND title LIKE '%$%$%' AND abstract LIKE '%$%$%$%$%'
       ORDER BY length(abstract) DESC, arxiv_id LIMIT 30`,
    )
    .pluck()
    .all();
  let mathPaper = '0704.0002';
  const probe = await browser.newPage();
  for (const id of candidates) {
    await probe.goto(`${base}/papers/${id}`);
    await probe.waitForSelector('html.math-rendered');
    // Parse errors, and unknown commands drawn in KaTeX's error colour.
    const errors = await probe.locator('.katex-error, .katex [style*="rgb(204, 0, 0)"], .katex [style*="#cc0000"]').count();
    const rendered = await probe.locator('main .katex').count();
    if (errors === 0 && rendered >= 4) {
      mathPaper = id;
      break;
    }
  }
  await probe.close();

  const shots = [
    { file: 'feed-day.png', path: '/papers/date/2007-04-03', context: DESKTOP },
    { file: 'feed-phone.png', path: '/papers/date/2007-04-03', context: PHONE },
    { file: 'feed-dark.png', path: '/papers/date/2007-04-03', context: { ...DESKTOP, colorScheme: 'dark' } },
    { file: 'trending.png', path: '/papers/trending', context: DESKTOP },
    { file: 'search.png', path: '/search?q=entanglement&category=quant-ph', context: DESKTOP },
    { file: 'paper.png', path: `/papers/${mathPaper}`, context: DESKTOP },
    { file: 'category.png', path: '/c/hep-th?date=2007-04-03', context: DESKTOP },
  ];

  mkdirSync(OUT, { recursive: true });
  for (const shot of shots) {
    const context = await browser.newContext({ colorScheme: 'light', ...shot.context });
    const page = await context.newPage();
    const response = await page.goto(base + shot.path);
    if (!response || response.status() !== 200) throw new Error(`${shot.path}: HTTP ${response?.status()}`);
    // Math rendered and its fonts loaded, so the shot shows typeset TeX.
    await page.waitForSelector('html.math-rendered', { timeout: 15_000 }).catch(() => {});
    await page.evaluate(() => globalThis.document.fonts.ready);
    const file = join(OUT, shot.file);
    await page.screenshot({ path: file, caret: 'hide', animations: 'disabled' });
    await context.close();
    console.log(`${relative(ROOT, file)}  ${shot.path}  ${Math.round(statSync(file).size / 1024)} KiB`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await t.close();
}
