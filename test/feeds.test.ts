import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { featurePaper } from '../src/feeds/featuring.js';
import { emptyApp, importedApp, type TestApp } from './support/app.js';
import { sharedData } from './support/shared-data.js';
import { all, one, parseXml } from './support/xml.js';
import { sql } from 'kysely';
import { rows, run, testEngine, value } from './support/database.js';

const shared = sharedData();
const skip = shared.skip;
const ATOM = 'http://www.w3.org/2005/Atom';
const DC = 'http://purl.org/dc/elements/1.1/';
const RSS_TYPE = 'application/rss+xml; charset=utf-8';
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let t: TestApp;
let base: string;

before(async () => {
  if (skip !== false) return;
  t = await importedApp();
  base = t.ctx.config.baseUrl;
});

after(async () => {
  await t?.close();
});


interface Parsed {
  /** Item guids / entry ids, in document order. */
  ids: string[];
  /** arXiv ids of the items, in document order. */
  arxivIds: string[];
  titles: string[];
  categories: string[][];
}

function arxivIdOf(url: string): string {
  const prefix = `${base}/papers/`;
  assert.ok(url.startsWith(prefix), `${url} is a paper URL of this instance`);
  return url.slice(prefix.length);
}

/** Checks every element RSS 2.0 requires (and the ones Paperboy promises) and returns the items. */
function checkRss(res: LightMyRequestResponse, selfPath: string): Parsed {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], RSS_TYPE);
  assert.equal(res.headers['cache-control'], 'public, max-age=300');
  const rss = parseXml(res.body);
  assert.equal(rss.name, 'rss');
  assert.equal(rss.attributes.version, '2.0');
  const channel = one(rss, 'channel');
  assert.match(one(channel, 'title').text, /^Paperboy/);
  assert.match(one(channel, 'link').text, new RegExp(`^${base}/`));
  assert.ok(one(channel, 'description').text.length > 0);
  assert.match(one(channel, 'lastBuildDate').text, RFC822);
  const self = one(channel, 'atom:link');
  assert.equal(self.uri, ATOM);
  assert.equal(self.attributes.rel, 'self');
  assert.equal(self.attributes.type, 'application/rss+xml');
  assert.equal(self.attributes.href, `${base}${selfPath}`);
  const items = all(channel, 'item');
  for (const item of items) {
    const link = one(item, 'link').text;
    const guid = one(item, 'guid');
    assert.equal(guid.text, link, 'the guid is the permanent paper URL');
    assert.equal(guid.attributes.isPermaLink, 'true');
    assert.ok(one(item, 'title').text.trim().length > 0);
    assert.match(one(item, 'pubDate').text, RFC822);
    assert.ok(one(item, 'description').text.length > 0);
    assert.equal(one(item, 'dc:creator').uri, DC);
    assert.ok(all(item, 'category').length > 0);
  }
  if (items.length > 0) assert.match(String(res.headers['last-modified']), /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  else assert.equal(res.headers['last-modified'], undefined);
  return {
    ids: items.map((i) => one(i, 'guid').text),
    arxivIds: items.map((i) => arxivIdOf(one(i, 'link').text)),
    titles: items.map((i) => one(i, 'title').text),
    categories: items.map((i) => all(i, 'category').map((c) => c.text)),
  };
}

/** Checks every element RFC 4287 requires and returns the entries. */
function checkAtom(res: LightMyRequestResponse, selfPath: string): Parsed {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], ATOM_TYPE);
  assert.equal(res.headers['cache-control'], 'public, max-age=300');
  const feed = parseXml(res.body);
  assert.equal(feed.name, 'feed');
  assert.equal(feed.uri, ATOM);
  assert.match(one(feed, 'id').text, new RegExp(`^${base}/feeds/`));
  assert.match(one(feed, 'title').text, /^Paperboy/);
  assert.match(one(feed, 'updated').text, RFC3339);
  const links = all(feed, 'link').map((l) => l.attributes);
  assert.equal(links.find((l) => l.rel === 'self')?.href, `${base}${selfPath}`);
  assert.match(links.find((l) => l.rel === 'alternate')?.href ?? '', new RegExp(`^${base}/`));
  const entries = all(feed, 'entry');
  for (const entry of entries) {
    const id = one(entry, 'id').text;
    assert.equal(one(entry, 'link').attributes.href, id);
    assert.ok(one(entry, 'title').text.trim().length > 0);
    const published = one(entry, 'published').text;
    const updated = one(entry, 'updated').text;
    assert.match(published, RFC3339);
    assert.match(updated, RFC3339);
    assert.ok(Date.parse(updated) >= Date.parse(published), 'updated is not before published');
    assert.ok(all(entry, 'author').length > 0);
    for (const author of all(entry, 'author')) assert.ok(one(author, 'name').text.trim().length > 0);
    const summary = one(entry, 'summary');
    // Some records (withdrawn papers) have no abstract: the summary is then empty, still valid.
    assert.equal(summary.attributes.type, 'text');
    assert.ok(all(entry, 'category').length > 0);
    for (const c of all(entry, 'category')) assert.ok((c.attributes.term ?? '').length > 0);
  }
  return {
    ids: entries.map((e) => one(e, 'id').text),
    arxivIds: entries.map((e) => arxivIdOf(one(e, 'id').text)),
    titles: entries.map((e) => one(e, 'title').text),
    categories: entries.map((e) => all(e, 'category').map((c) => c.attributes.term ?? '')),
  };
}

function get(url: string, remoteAddress?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'GET', url, ...(remoteAddress ? { remoteAddress } : {}) });
}

async function featuredDayOf(arxivId: string): Promise<string | undefined> {
  return value<string>(
    t.ctx.database,
    sql`SELECT f.featured_on FROM featured f JOIN papers p ON p.id = f.paper_id WHERE p.arxiv_id = ${arxivId}`,
  );
}

async function featuredDaysOf(arxivIds: readonly string[]): Promise<(string | undefined)[]> {
  return Promise.all(arxivIds.map(featuredDayOf));
}

test('daily feed: the featured papers of the newest 7 featured days, newest day first, in RSS and Atom', { skip }, async () => {
  const expected = (
    await rows<{ arxiv_id: string }>(
      t.ctx.database,
      sql`SELECT p.arxiv_id FROM featured f JOIN papers p ON p.id = f.paper_id
       WHERE f.hidden_at IS NULL AND f.featured_on IN
         (SELECT DISTINCT featured_on FROM featured WHERE hidden_at IS NULL ORDER BY featured_on DESC LIMIT 7)`,
    )
  ).map((r) => r.arxiv_id);
  assert.ok(expected.length >= 7, 'the shared data features papers on at least 7 days');
  const rss = checkRss(await get('/feeds/daily.rss'), '/feeds/daily.rss');
  const atom = checkAtom(await get('/feeds/daily.atom'), '/feeds/daily.atom');
  assert.deepEqual([...rss.arxivIds].sort(), [...expected].sort());
  assert.deepEqual(atom.arxivIds, rss.arxivIds, 'both formats list the same papers in the same order');
  assert.deepEqual(atom.ids, rss.ids, 'Atom ids and RSS guids agree');
  const days = await featuredDaysOf(rss.arxivIds);
  assert.deepEqual(days, [...days].sort().reverse(), 'newest featured day first');
  // Titles are the TeX-stripped plain text, exactly as stored.
  assert.deepEqual(
    rss.titles,
    await Promise.all(rss.arxivIds.map((id) => value<string>(t.ctx.database, sql`SELECT title_text FROM papers WHERE arxiv_id = ${id}`))),
  );
});

test('GUIDs and documents are stable across requests; the ETag answers 304', { skip }, async () => {
  for (const url of ['/feeds/daily.rss', '/feeds/trending.atom', '/feeds/c/hep-th.rss', '/feeds/search.atom?q=diphoton']) {
    const first = await get(url);
    const second = await get(url);
    assert.equal(first.statusCode, 200, url);
    assert.equal(second.body, first.body, `${url} is the same document twice`);
    assert.ok(first.headers.etag, `${url} has an ETag`);
    assert.equal(first.headers['last-modified'], second.headers['last-modified']);
    const cached = await t.app.inject({ url, headers: { 'if-none-match': String(first.headers.etag) } });
    assert.equal(cached.statusCode, 304, url);
  }
  // Ids are derived from the base URL and the arXiv id only, so they survive restarts and re-imports.
  const { ids, arxivIds } = checkRss(await get('/feeds/daily.rss'), '/feeds/daily.rss');
  assert.deepEqual(
    ids,
    arxivIds.map((id) => `${base}/papers/${id}`),
  );
});

test('daily and trending feeds take a category or archive filter; unknown ones are a 400', { skip }, async () => {
  const lg = checkRss(await get('/feeds/daily.rss?category=cs.LG'), '/feeds/daily.rss?category=cs.LG');
  assert.ok(lg.arxivIds.length > 0);
  for (const cats of lg.categories) assert.ok(cats.includes('cs.LG'), cats.join(' '));
  const cs = checkAtom(await get('/feeds/daily.atom?category=cs'), '/feeds/daily.atom?category=cs');
  assert.ok(cs.arxivIds.length > 0);
  for (const cats of cs.categories) assert.ok(cats.some((c) => c.startsWith('cs.')), cats.join(' '));
  const trending = checkAtom(await get('/feeds/trending.atom?category=cs.LG'), '/feeds/trending.atom?category=cs.LG');
  for (const cats of trending.categories) assert.ok(cats.includes('cs.LG'), cats.join(' '));
  for (const url of [
    '/feeds/daily.rss?category=nope',
    '/feeds/daily.atom?category=cs.XX',
    '/feeds/trending.rss?category=zz',
    '/feeds/daily.rss?category=cs.LG&category=cs.AI',
    `/feeds/trending.atom?category=${'x'.repeat(41)}`,
  ]) {
    const res = await get(url);
    assert.equal(res.statusCode, 400, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  }
});

test('trending feed: at most 50 featured papers in RSS and Atom', { skip }, async () => {
  const rss = checkRss(await get('/feeds/trending.rss'), '/feeds/trending.rss');
  const atom = checkAtom(await get('/feeds/trending.atom'), '/feeds/trending.atom');
  assert.ok(rss.arxivIds.length > 0 && rss.arxivIds.length <= 50);
  assert.deepEqual(atom.arxivIds, rss.arxivIds);
  for (const id of rss.arxivIds) assert.ok(await featuredDayOf(id), `${id} is featured`);
});

test('category feed: the newest announced papers of a category, featured or not', { skip }, async () => {
  const inCategory = await rows<{ arxiv_id: string; announced_on: string }>(
    t.ctx.database,
    sql`SELECT p.arxiv_id, p.announced_on FROM papers p
     WHERE p.announced_on IS NOT NULL AND EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND pc.category = 'cs.LG')`,
  );
  const papers = new Map(inCategory.map((r) => [r.arxiv_id, r.announced_on]));
  const rss = checkRss(await get('/feeds/c/cs.LG.rss'), '/feeds/c/cs.LG.rss');
  assert.equal(rss.arxivIds.length, Math.min(100, papers.size));
  for (const cats of rss.categories) assert.ok(cats.includes('cs.LG'));
  const days = rss.arxivIds.map((id) => papers.get(id) ?? '');
  assert.deepEqual(days, [...days].sort().reverse(), 'newest announcement first');
  const oldest = days[days.length - 1] ?? '';
  const listed = new Set(rss.arxivIds);
  for (const [id, day] of papers) if (!listed.has(id)) assert.ok(day <= oldest, `${id} (${day}) is newer than the feed's oldest`);
  const atom = checkAtom(await get('/feeds/c/cs.LG.atom'), '/feeds/c/cs.LG.atom');
  assert.deepEqual(atom.arxivIds, rss.arxivIds);
});

test('category feed of an archive covers its categories', { skip }, async () => {
  const math = checkAtom(await get('/feeds/c/math.atom'), '/feeds/c/math.atom');
  assert.ok(math.arxivIds.length > 0);
  for (const cats of math.categories) assert.ok(cats.some((c) => c.startsWith('math.') || c === 'math-ph'), cats.join(' '));
  const hep = checkRss(await get('/feeds/c/hep-th.rss'), '/feeds/c/hep-th.rss');
  assert.ok(hep.arxivIds.length > 0);
  for (const cats of hep.categories) assert.ok(cats.includes('hep-th'));
});

test('unknown categories and bad feed file names are a 404', { skip }, async () => {
  for (const url of ['/feeds/c/nope.rss', '/feeds/c/cs.XX.atom', '/feeds/c/cs.LG', '/feeds/c/cs.LG.json', '/feeds/c/.rss', '/feeds/daily.json']) {
    const res = await get(url);
    assert.equal(res.statusCode, 404, url);
  }
});

test('search feed: keyword results by relevance in RSS and Atom', { skip }, async () => {
  const rss = checkRss(await get('/feeds/search.rss?q=diphoton'), '/feeds/search.rss?q=diphoton');
  assert.equal(rss.arxivIds[0], '0704.0001');
  const atom = checkAtom(await get('/feeds/search.atom?q=diphoton'), '/feeds/search.atom?q=diphoton');
  assert.deepEqual(atom.arxivIds, rss.arxivIds);
  const channel = one(parseXml((await get('/feeds/search.rss?q=diphoton')).body), 'channel');
  assert.match(one(channel, 'title').text, /diphoton/);
  const wide = checkRss(await get('/feeds/search.rss?q=quantum'), '/feeds/search.rss?q=quantum');
  assert.equal(wide.arxivIds.length, 50, 'the first 50 results');
  // The query is kept, encoded, in the self link.
  const phrase = '"dark matter" -galaxy';
  checkAtom(await get(`/feeds/search.atom?q=${encodeURIComponent(phrase)}`), `/feeds/search.atom?q=${encodeURIComponent(phrase)}`);
});

test('search feed: titles with & and < come through escaped and intact', { skip }, async () => {
  const [row] = await rows<{ arxiv_id: string; title_text: string }>(
    t.ctx.database,
    sql`SELECT arxiv_id, title_text FROM papers WHERE title_text LIKE '%&%' ORDER BY id LIMIT 1`,
  );
  assert.ok(row, 'the shared data has a title with &');
  const words = row.title_text.match(/[A-Za-z]{4,}/g)?.slice(0, 6).join(' ') ?? '';
  const res = await get(`/feeds/search.atom?q=${encodeURIComponent(words)}`);
  assert.match(res.body, /&amp;/);
  const atom = checkAtom(res, `/feeds/search.atom?q=${encodeURIComponent(words)}`);
  const index = atom.arxivIds.indexOf(row.arxiv_id);
  assert.ok(index >= 0, `${row.arxiv_id} is found by "${words}"`);
  assert.equal(atom.titles[index], row.title_text);
});

test('search feed: a missing or empty query is a 400, a query with nothing searchable an empty feed', { skip }, async () => {
  for (const url of ['/feeds/search.rss', '/feeds/search.atom?q=', '/feeds/search.rss?q=%20%20', `/feeds/search.rss?q=${'a'.repeat(501)}`, '/feeds/search.rss?q=a&q=b']) {
    const res = await get(url);
    assert.equal(res.statusCode, 400, url);
  }
  const empty = checkRss(await get('/feeds/search.rss?q=-x'), '/feeds/search.rss?q=-x');
  assert.equal(empty.arxivIds.length, 0);
  const emptyAtom = checkAtom(await get('/feeds/search.atom?q=*'), '/feeds/search.atom?q=*');
  assert.equal(emptyAtom.arxivIds.length, 0);
  const none = checkAtom(await get('/feeds/search.atom?q=zzzqqqxxx'), '/feeds/search.atom?q=zzzqqqxxx');
  assert.equal(none.arxivIds.length, 0);
});

test('search feeds are rate limited per client: 30 a minute, then 429', { skip }, async () => {
  const ip = '203.0.113.7';
  for (let i = 0; i < 30; i++) {
    const res = await get(`/feeds/search.rss?q=diphoton${i % 2 ? '' : '+prompt'}`, ip);
    assert.equal(res.statusCode, 200, `request ${i + 1}`);
    assert.ok(res.headers['x-ratelimit-limit'], 'rate-limit headers are sent');
  }
  const limited = await get('/feeds/search.rss?q=diphoton', ip);
  assert.equal(limited.statusCode, 429);
  assert.ok(limited.headers['retry-after']);
  // Another client, and the other feeds, are not affected.
  assert.equal((await get('/feeds/search.rss?q=diphoton', '203.0.113.8')).statusCode, 200);
  assert.equal((await get('/feeds/daily.rss', ip)).statusCode, 200);
});

test('feeds index page lists every feed with its URL and announces them as alternates', { skip }, async () => {
  const res = await get('/feeds');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
  for (const [type, href] of [
    ['application/rss+xml', '/feeds/daily.rss'],
    ['application/atom+xml', '/feeds/daily.atom'],
    ['application/rss+xml', '/feeds/trending.rss'],
    ['application/atom+xml', '/feeds/trending.atom'],
  ]) {
    const link = res.body.match(new RegExp(`<link rel="alternate" type="([^"]+)" title="[^"]+" href="${href}">`));
    assert.equal(link?.[1], type, href);
  }
  for (const text of [`${base}/feeds/daily.rss`, `${base}/feeds/trending.atom`, `${base}/feeds/c/{category}.rss`, `${base}/feeds/search.rss?q={query}`, '?category=']) {
    assert.ok(res.body.includes(text), `the page shows ${text}`);
  }
  // Every feed the page links to works.
  const hrefs = [...res.body.matchAll(/href="(\/feeds\/[^"]+)"/g)].map((m) => (m[1] ?? '').replaceAll('&amp;', '&'));
  assert.ok(hrefs.some((h) => h.startsWith('/feeds/c/')));
  for (const href of new Set(hrefs)) {
    const feed = await get(href);
    assert.equal(feed.statusCode, 200, href);
    assert.match(String(feed.headers['content-type']), /^application\/(rss|atom)\+xml/);
  }
});

test('an instance without papers serves valid empty feeds', async () => {
  const empty = await emptyApp();
  try {
    for (const url of ['/feeds/daily.rss', '/feeds/daily.atom', '/feeds/trending.atom', '/feeds/c/cs.LG.rss', '/feeds/search.atom?q=x']) {
      const res = await empty.app.inject(url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['last-modified'], undefined, `${url}: no item to date it by`);
      const root = parseXml(res.body);
      const items = root.name === 'feed' ? all(root, 'entry') : all(one(root, 'channel'), 'item');
      assert.equal(items.length, 0, url);
    }
  } finally {
    await empty.close();
  }
});

// Mutates the instance: keep it last.
test('a day with more than 100 featured papers is cut at 100; control characters in stored text are stripped', { skip }, async () => {
  const ids = (await rows<{ arxiv_id: string }>(t.ctx.database, sql`SELECT arxiv_id FROM papers ORDER BY id LIMIT 120`)).map(
    (r) => r.arxiv_id,
  );
  for (const arxivId of ids) await featurePaper(t.ctx.database, { arxivId, on: '2099-01-01', source: 'curator', by: 'tester' });
  const first = checkRss(await get('/feeds/daily.rss'), '/feeds/daily.rss').arxivIds[0];
  assert.ok(first);
  // PostgreSQL text cannot hold NUL at all; SQLite's can, and the feed must strip it.
  const nul = testEngine === 'sqlite' ? '\u0000' : '';
  await run(
    t.ctx.database,
    sql`UPDATE papers SET title_text = ${`Bell\u0007 & <b>bold</b>${nul} title`}, abstract = 'x',
      abstract_text = ${'Tab\there, form feed\u000C, escape\u001B.'} WHERE arxiv_id = ${first}`,
  );
  const rss = checkRss(await get('/feeds/daily.rss'), '/feeds/daily.rss');
  assert.equal(rss.arxivIds.length, 100);
  for (const day of await featuredDaysOf(rss.arxivIds)) assert.equal(day, '2099-01-01');
  // Cached feeds are dropped when the write's notification arrives (milliseconds later on PostgreSQL).
  let atomRes = await get('/feeds/daily.atom');
  for (let i = 0; i < 100 && !atomRes.body.includes('Bell &amp;'); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    atomRes = await get('/feeds/daily.atom');
  }
  const atom = checkAtom(atomRes, '/feeds/daily.atom');
  assert.equal(atom.arxivIds.length, 100);
  const entry = all(parseXml(atomRes.body), 'entry').find((e) => one(e, 'id').text === `${base}/papers/${first}`);
  assert.ok(entry, `${first} is in the feed`);
  assert.equal(one(entry, 'title').text, 'Bell & <b>bold</b> title');
  assert.equal(one(entry, 'summary').text, 'Tab\there, form feed, escape.');
});
