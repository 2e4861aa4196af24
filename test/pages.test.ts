import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/connection.js';
import { rows, run, value } from './support/database.js';
import { featurePaper, unfeaturePaper } from '../src/feeds/featuring.js';
import { importedApp, emptyApp, type TestApp } from './support/app.js';

// Archives the shared arXiv data covers well: days with hundreds of papers.
const CATEGORIES = 'math,hep-th,astro-ph,cond-mat,quant-ph,cs';

function cards(body: string): string[] {
  return [...body.matchAll(/<article class="card"[^>]*>[\s\S]*?<\/article>/g)].map((m) => m[0]);
}

function paperIds(body: string): string[] {
  return cards(body).map((c) => /href="\/papers\/([^"#]+)"/.exec(c)?.[1] ?? '');
}

describe('feed pages over the real arXiv records', () => {
  let t: TestApp;
  before(async () => {
    t = await importedApp({ ARXIV_CATEGORIES: CATEGORIES });
  });
  after(() => t.close());

  const get = (url: string) => t.app.inject({ url });
  /**
   * The page once `shows` holds. A write made a moment ago drops cached pages
   * when its notification reaches this process: at once on SQLite, within
   * milliseconds on PostgreSQL.
   */
  const eventually = async (url: string, shows: (body: string) => boolean) => {
    for (let i = 0; ; i += 1) {
      const res = await get(url);
      if (shows(res.body)) return res;
      assert.ok(i < 100, `${url} did not change within 2 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  test('/ and /papers show the latest day with featured papers', async () => {
    const latest = await value<string>(t.ctx.database, sql`SELECT max(featured_on) FROM featured WHERE hidden_at IS NULL`);
    for (const url of ['/', '/papers']) {
      const res = await get(url);
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /text\/html/);
      assert.match(res.body, new RegExp(`<link rel="canonical" href="/papers/date/${latest}">`));
      assert.ok(cards(res.body).length > 0);
    }
  });

  test('a day lists its featured papers with who featured them, paginated by 50', async () => {
    const res = await get('/papers/date/2007-04-03');
    assert.equal(res.statusCode, 200);
    const total = Number(
      await value(t.ctx.database, sql`SELECT count(*) FROM featured WHERE featured_on = '2007-04-03' AND hidden_at IS NULL`),
    );
    assert.ok(total > 50, 'the day has more than one page');
    assert.match(res.body, new RegExp(`${total} papers, 50 per page`));
    assert.equal(cards(res.body).length, 50);
    assert.match(res.body, /Featured: new announcement/);
    const page2 = await get('/papers/date/2007-04-03?page=2');
    const ids1 = new Set(paperIds(res.body));
    for (const id of paperIds(page2.body)) assert.ok(!ids1.has(id), `${id} on both pages`);
    assert.match(res.body, /rel="next" href="\/papers\/date\/2007-04-03\?page=2"/);
  });

  test('previous and next skip days without papers', async () => {
    const days = (
      await rows<{ featured_on: string }>(
        t.ctx.database,
        sql`SELECT DISTINCT featured_on FROM featured WHERE hidden_at IS NULL AND featured_on BETWEEN '2007-04-01' AND '2007-04-30' ORDER BY 1`,
      )
    ).map((r) => r.featured_on);
    assert.ok(days.includes('2007-04-06') && days.includes('2007-04-09') && !days.includes('2007-04-07'));
    const friday = await get('/papers/date/2007-04-06');
    assert.match(friday.body, /rel="next" href="\/papers\/date\/2007-04-09"/);
    const monday = await get('/papers/date/2007-04-09');
    assert.match(monday.body, /rel="prev" href="\/papers\/date\/2007-04-06"/);
    const empty = await get('/papers/date/2007-04-07');
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /No papers were featured on this day/);
    assert.match(empty.body, /rel="prev" href="\/papers\/date\/2007-04-06"/);
    assert.match(empty.body, /rel="next" href="\/papers\/date\/2007-04-09"/);
  });

  test('week and month views cover their days and link to neighbouring periods', async () => {
    const week = await get('/papers/week/2007-W14');
    assert.equal(week.statusCode, 200);
    assert.match(week.body, /Week 14 of 2007 \(2 Apr 2007 – 8 Apr 2007\)/);
    assert.match(week.body, /rel="next" href="\/papers\/week\/2007-W15"/);
    const month = await get('/papers/month/2007-04?sort=newest');
    assert.equal(month.statusCode, 200);
    assert.match(month.body, /April 2007/);
    assert.match(month.body, /sorted by newest/);
    assert.match(month.body, /rel="next" href="\/papers\/month\/[0-9]{4}-[0-9]{2}\?sort=newest"/);
  });

  test('the category filter keeps only matching papers and survives navigation', async () => {
    const res = await get('/papers/date/2007-04-03?category=hep-th');
    assert.equal(res.statusCode, 200);
    const ids = paperIds(res.body);
    assert.ok(ids.length > 0);
    const outside = Number(
      await value(
        t.ctx.database,
        sql`SELECT count(*) FROM papers p WHERE p.arxiv_id IN (${sql.join(ids)})
         AND NOT EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND pc.category = 'hep-th')`,
      ),
    );
    assert.equal(outside, 0);
    assert.match(res.body, /href="\/papers\/date\/[0-9-]+\?category=hep-th"/);
    assert.match(res.body, /<link rel="alternate" type="application\/rss\+xml" title="Daily papers \(RSS\)" href="\/feeds\/daily.rss\?category=hep-th">/);
  });

  test('sorting by newest orders by first-version date', async () => {
    const res = await get('/papers/date/2007-04-03?sort=newest');
    const dates = [...res.body.matchAll(/<time datetime="([^"]+)">/g)].map((m) => m[1] ?? '');
    assert.ok(dates.length > 1);
    assert.deepEqual(dates, [...dates].sort().reverse());
  });

  test('bad periods and parameters get clear errors, never a 500', async () => {
    for (const [url, status, text] of [
      ['/papers/date/2007-02-30', 404, /not a day/],
      ['/papers/week/2007-W60', 404, /not a week/],
      ['/papers/month/2007-13', 404, /not a month/],
      ['/papers/date/2007-04-03?sort=popular', 400, /sort/],
      ['/papers/date/2007-04-03?page=0', 400, /page/],
      ['/papers/date/2007-04-03?category=cs.NOPE', 400, /Unknown category/],
      ['/c/not-a-category', 404, /Unknown category/],
      ['/c/hep-th?date=yesterday', 400, /Invalid date/],
    ] as const) {
      const res = await get(url);
      assert.equal(res.statusCode, status, url);
      assert.match(res.body, text, url);
      assert.match(res.headers['content-type'] as string, /text\/html/);
    }
  });

  test('category pages list every paper announced in the category by day', async () => {
    const res = await get('/c/math.AG?date=2007-04-03');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Algebraic Geometry \(math.AG\)/);
    assert.ok(cards(res.body).length > 0);
    assert.match(res.body, /href="\/feeds\/c\/math.AG.atom"/);
    const archive = await get('/c/hep-th');
    assert.equal(archive.statusCode, 200);
    assert.match(archive.body, /rel="prev" href="\/c\/hep-th\?date=/);
  });

  test('trending ranks by votes and discussion with time decay', async () => {
    const day = (await value<string>(t.ctx.database, sql`SELECT max(featured_on) FROM featured`)) as string;
    // The newest day has a single paper; feature two more on it to rank them.
    for (const arxivId of ['0704.0003', '0704.0004']) {
      await featurePaper(t.ctx.database, { arxivId, on: day, source: 'curator', by: 'ada' });
    }
    const ids = ['0704.0003', '0704.0004'];
    const [a, b] = ids as [string, string];
    await run(t.ctx.database, sql`UPDATE papers SET upvotes = 50 WHERE arxiv_id = ${b}`);
    const res = await get('/papers/trending');
    assert.equal(res.statusCode, 200);
    const order = paperIds(res.body);
    assert.equal(order[0], b);
    assert.ok(order.includes(a));
    await run(t.ctx.database, sql`UPDATE papers SET upvotes = 0 WHERE arxiv_id = ${b}`);
  });

  test('curators feature and unfeature; a curated paper says who featured it', async () => {
    await featurePaper(t.ctx.database, { arxivId: '0704.0002', on: '2007-04-08', source: 'curator', by: 'ada' });
    const day = await eventually('/papers/date/2007-04-08', (body) => paperIds(body).includes('0704.0002'));
    assert.match(day.body, /Featured by ada/);
    assert.equal(await unfeaturePaper(t.ctx.database, '0704.0002', 'ada'), true);
    await eventually('/papers/date/2007-04-08', (body) => !paperIds(body).includes('0704.0002'));
  });

  test('pages are served from the cache until the database changes, also from another process', async () => {
    const url = '/papers/date/2007-04-08?sort=newest';
    const first = await t.app.inject({ url, headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.equal(first.headers.vary, 'accept-encoding, cookie');
    const plain = await get(url);
    assert.equal(gunzipSync(first.rawPayload).toString('utf8'), plain.body);
    assert.equal(first.headers.etag, plain.headers.etag);
    // A second connection stands for an import or worker process writing to the same database.
    const other = openDatabase(t.ctx.database.location);
    try {
      await featurePaper(other, { arxivId: '0704.0005', on: '2007-04-08', source: 'curator', by: 'grace' });
    } finally {
      await other.close();
    }
    const after = await eventually(url, (body) => paperIds(body).includes('0704.0005'));
    assert.notEqual(after.headers.etag, plain.headers.etag);
  });

  test('pages carry landmarks, a labelled search box and an ETag that revalidates', async () => {
    const res = await get('/papers/date/2007-04-03');
    for (const landmark of ['<header', '<main id="content"', '<footer', '<nav class="site-nav" aria-label="Main"', 'role="search"']) {
      assert.ok(res.body.includes(landmark), landmark);
    }
    assert.match(res.body, /<label class="skip" for="site-q">/);
    const etag = res.headers.etag as string;
    assert.ok(etag);
    const again = await t.app.inject({ url: '/papers/date/2007-04-03', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.match(res.headers['content-security-policy'] as string, /script-src 'self'/);
  });
});

describe('search page', () => {
  let t: TestApp;
  before(async () => {
    t = await importedApp({ ARXIV_CATEGORIES: CATEGORIES });
  });
  after(() => t.close());
  const get = (url: string) => t.app.inject({ url });

  test('finds papers with highlighted snippets and paginates', async () => {
    const res = await get('/search?q=quantum');
    assert.equal(res.statusCode, 200);
    assert.ok(cards(res.body).length === 20);
    assert.match(res.body, /<mark>[Qq]uantum<\/mark>/);
    assert.match(res.body, /rel="next" href="\/search\?q=quantum&amp;page=2"/);
    const page2 = await get('/search?q=quantum&page=2');
    const first = new Set(paperIds(res.body));
    for (const id of paperIds(page2.body)) assert.ok(!first.has(id));
    assert.match(res.body, /href="\/feeds\/search.rss\?q=quantum"/);
  });

  test('/papers?q= is the same search', async () => {
    const res = await get('/papers?q=black+hole');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/search?q=black+hole');
  });

  test('filters by category, date range and featured only', async () => {
    const res = await get('/search?q=field&category=hep-th&from=2007-04-01&to=2007-04-30');
    assert.equal(res.statusCode, 200);
    const ids = paperIds(res.body);
    assert.ok(ids.length > 0);
    for (const id of ids) {
      const [row] = await rows<{ announced_on: string; inside: number }>(
        t.ctx.database,
        sql`SELECT announced_on,
            CASE WHEN EXISTS (SELECT 1 FROM paper_categories pc WHERE pc.paper_id = p.id AND pc.category = 'hep-th') THEN 1 ELSE 0 END AS inside
           FROM papers p WHERE arxiv_id = ${id}`,
      );
      assert.ok(row);
      assert.equal(row.inside, 1, id);
      assert.ok(row.announced_on >= '2007-04-01' && row.announced_on <= '2007-04-30', id);
    }
    const candidates = await rows<{ arxiv_id: string; title_text: string }>(
      t.ctx.database,
      sql`SELECT arxiv_id, title_text FROM papers p WHERE NOT EXISTS (SELECT 1 FROM featured f WHERE f.paper_id = p.id) ORDER BY id`,
    );
    const plain = candidates.find((c) => /^[A-Za-z]+( [A-Za-z]+){4,}$/.test(c.title_text));
    assert.ok(plain, 'an unfeatured paper with a plain title');
    const unfeatured = plain.arxiv_id;
    const q = encodeURIComponent(`"${plain.title_text}"`);
    assert.ok(paperIds((await get(`/search?q=${q}`)).body).includes(unfeatured));
    assert.ok(!paperIds((await get(`/search?q=${q}&featured=1`)).body).includes(unfeatured));
  });

  test('empty, nothing-searchable, no-result and invalid states', async () => {
    const empty = await get('/search');
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /Search tips/);
    const negation = await get('/search?q=-quantum');
    assert.equal(negation.statusCode, 200);
    assert.match(negation.body, /Nothing to search for/);
    const none = await get('/search?q=zzzqqqxxy');
    assert.equal(none.statusCode, 200);
    assert.match(none.body, /No papers match/);
    for (const url of ['/search?q=a&from=2007-13-01', '/search?q=a&category=nope', '/search?q=a&page=0', '/search?q=a&from=2008-01-01&to=2007-01-01']) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.match(res.body, /role="alert"/, url);
    }
  });

  test('hostile query syntax never breaks the page and is escaped', async () => {
    for (const q of ['"unbalanced', 'NEAR(a b', 'title:', '<script>alert(1)</script>', '*', 'a AND OR NOT', '^x']) {
      const res = await get(`/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.statusCode, 200, q);
      assert.ok(!res.body.includes('<script>alert(1)</script>'), q);
    }
  });
});

test('an empty instance explains how to get papers', async () => {
  const t = await emptyApp();
  try {
    const res = await t.app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /no papers yet/);
    const trending = await t.app.inject({ url: '/papers/trending' });
    assert.match(trending.body, /Nothing is trending/);
  } finally {
    await t.close();
  }
});
