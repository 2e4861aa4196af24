import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { importPaths } from '../src/ingest/import.js';
import { startArxivServer, type ArxivFixtureServer } from './support/arxiv-server.js';
import { emptyApp, importedApp, type TestApp } from './support/app.js';
import { freePort, tempDataDir } from './support/cli.js';
import { sharedData } from './support/shared-data.js';
import { sql } from 'kysely';
import { searchKeyword } from '../src/search/keyword.js';
import { value } from './support/database.js';

const shared = sharedData();

const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;

/** The fetch form of a 404 page: its action, the browser cookie and the CSRF token. */
function fetchForm(res: LightMyRequestResponse): { action: string; cookie: string; token: string } {
  const action = /<form class="fetch-form" method="post" action="([^"]+)">/.exec(res.body)?.[1] ?? '';
  const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? '';
  const setCookie = res.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie[0] : setCookie)?.split(';')[0] ?? '';
  return { action, cookie, token };
}

let clients = 0;

/** Posts a form as a new client address each time, so the fetch rate limit only bites where a test wants it. */
function postForm(t: TestApp, url: string, cookie: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  clients += 1;
  return t.app.inject({
    method: 'POST',
    url,
    remoteAddress: `10.0.${Math.floor(clients / 250)}.${(clients % 250) + 1}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    payload: new URLSearchParams(fields).toString(),
  });
}


describe('paper pages on the imported shared data', { skip: shared.skip }, () => {
  let t: TestApp;
  before(async () => {
    t = await importedApp();
    const file = join(tempDataDir('paperboy-inputs-'), 'hostile.jsonl');
    writeFileSync(
      file,
      JSON.stringify({
        id: '2101.00001',
        authors: 'A. <b>Person</b>',
        title: 'Attacks with <script>alert(1)</script> in *titles*',
        categories: 'cs.CR',
        abstract: 'An abstract with <img src=x onerror=alert(1)> and [a](javascript:alert(1)).',
        comments: 'See <script>x</script>',
        versions: [{ version: 'v1', created: 'Mon, 4 Jan 2021 10:00:00 GMT' }],
      }) + '\n',
    );
    await importPaths(t.ctx.database, [file]);
  });
  after(() => t.close());

  test('a real paper: one h1, TeX title and abstract for KaTeX, authors, dates, versions, categories, links, facts', async () => {
    const res = await t.app.inject('/papers/0704.0016');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    const body = res.body;
    assert.equal(count(body, /<h1[\s>]/g), 1);
    assert.match(body, /<h1 id="paper-title" class="tex">Lifetime of doubly charmed baryons<\/h1>/);
    assert.match(body, /<div class="abstract-text tex"><p>In this work, we evaluate the lifetimes of the doubly charmed baryons \$\\Xi_\{cc\}\^\{\+\}\$/);
    assert.match(body, /katex\.min\.js/);
    for (const name of ['Chao-Hsi Chang', 'Tong Li', 'Xue-Qian Li', 'Yu-Ming Wang']) assert.ok(body.includes(`>${name}</a>`), name);
    assert.match(body, /<dt>First version<\/dt><dd><time datetime="2007-03-31T07:04:26.000Z">31 Mar 2007<\/time><\/dd>/);
    assert.match(body, /<dt>Announced<\/dt><dd><time datetime="2007-04-03">3 Apr 2007<\/time>/);
    assert.match(body, /<a href="https:\/\/arxiv\.org\/abs\/0704\.0016v1" rel="noopener">v1<\/a> <time[^>]*>31 Mar 2007<\/time> <span class="muted small">\(58kb\)<\/span>/);
    assert.match(body, /<a class="chip primary" href="\/c\/hep-ph">hep-ph<\/a>/);
    assert.match(body, /href="https:\/\/arxiv\.org\/abs\/0704\.0016" rel="noopener">arXiv abstract page/);
    assert.match(body, /href="https:\/\/arxiv\.org\/pdf\/0704\.0016" rel="noopener">PDF/);
    assert.match(body, /<dt>DOI<\/dt><dd><a href="https:\/\/doi\.org\/10\.1088\/0253-6102\/49\/4\/38"/);
    assert.match(body, /<dt>Journal ref<\/dt><dd>Commun\.Theor\.Phys\.49:993-1000,2008<\/dd>/);
    assert.match(body, /<dt>Comments<\/dt><dd><span class="tex">17 pages, 3 figures and 1 table<\/span><\/dd>/);
    assert.match(body, /<section id="discussion" aria-labelledby="discussion-h"><h2 id="discussion-h">Discussion<\/h2>\n<p>No comments yet\.<\/p>/);
    assert.match(body, /<a href="\/login\?next=%2Fpapers%2F0704\.0016%23discussion">Log in<\/a> or <a href="\/signup">sign up<\/a> to comment\./);
    assert.match(body, /<span class="count">0<\/span> upvotes/);
    assert.match(body, /<link rel="alternate" type="text\/markdown" title="This paper as Markdown" href="\/papers\/0704\.0016\.md">/);
    assert.match(body, /<link rel="canonical" href="http:\/\/localhost:3000\/papers\/0704\.0016">/);
    // Every section is labelled by its heading.
    for (const m of body.matchAll(/<section[^>]*aria-labelledby="([^"]+)"/g)) assert.ok(body.includes(`id="${m[1]}"`), m[1]);
    assert.equal(res.headers['link'], '</papers/0704.0016.md>; rel="alternate"; type="text/markdown"');
  });

  test('summary and keyphrases are labelled as computed locally, with method, version and date', async () => {
    const body = (await t.app.inject('/papers/0704.0016')).body;
    assert.match(
      body,
      /Computed locally by Paperboy&#39;s built-in extractive summariser \(key sentences of the abstract\), not written by a person or an LLM\. Method: paperboy-extractive-v1, from the abstract of v1, computed for this view\./,
    );
    const summary = /<ul class="summary">([\s\S]*?)<\/ul>/.exec(body)?.[1] ?? '';
    assert.equal(count(summary, /<li class="tex">/g), 2);
    assert.match(body, /<span class="label">Keyphrases<\/span> (<a class="chip" href="\/search\?q=[^"]+">[^<]+<\/a> ){5,8}/);
    assert.match(body, />doubly charmed baryons<\/a>/);
  });

  test('a featured paper with code, versions and a licence', async () => {
    const body = (await t.app.inject('/papers/2101.04061')).body;
    assert.match(body, /Featured: new announcement on <a href="\/papers\/date\/2021-01-12"><time datetime="2021-01-12">12 Jan 2021<\/time><\/a>/);
    assert.match(body, /<li>Code: <a href="https:\/\/github\.com\/TencentARC\/GFPGAN" rel="nofollow noopener">github\.com\/TencentARC\/GFPGAN<\/a><\/li>/);
    assert.match(body, /<dt>Latest update<\/dt><dd>v2, <time datetime="2021-06-11T02:29:27\.000Z">11 Jun 2021<\/time><\/dd>/);
    assert.equal(count(body, /<a href="https:\/\/arxiv\.org\/abs\/2101\.04061v\d" rel="noopener">/g), 2);
    assert.match(body, /rel="license noopener">arXiv non-exclusive distribution licence<\/a>/);
  });

  test('old-style ids: page, affiliations, citation files', async () => {
    const page = await t.app.inject('/papers/hep-th/9901001');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1 id="paper-title" class="tex">String Junctions and Their Duals in Heterotic String Theory<\/h1>/);
    assert.match(page.body, /href="https:\/\/arxiv\.org\/abs\/hep-th\/9901001"/);
    assert.match(page.body, /<a class="button secondary" href="\/papers\/hep-th\/9901001\.bib" download>/);
    const affiliated = await t.app.inject('/papers/acc-phys/9502001');
    assert.match(affiliated.body, />Robert D\. Ryne<\/a> <span class="muted small">\(Los Alamos National Laboratory\)<\/span>/);

    const bib = await t.app.inject('/papers/hep-th/9901001.bib');
    assert.equal(bib.statusCode, 200);
    assert.equal(bib.headers['content-type'], 'application/x-bibtex; charset=utf-8');
    assert.match(bib.headers['content-disposition'] as string, /filename="hep-th_9901001\.bib"/);
    assert.match(bib.body, /^@misc\{imamura1999string,\n/);
    assert.match(bib.body, /eprint = \{hep-th\/9901001\},\n {2}archivePrefix = \{arXiv\},\n {2}primaryClass = \{hep-th\},/);
  });

  test('Markdown, BibTeX and RIS variants', async () => {
    const md = await t.app.inject('/papers/0704.0016.md');
    assert.equal(md.statusCode, 200);
    assert.equal(md.headers['content-type'], 'text/markdown; charset=utf-8');
    assert.match(md.body, /^# Lifetime of doubly charmed baryons\n/);
    assert.match(md.body, /\$\\Xi_\{cc\}\^\{\+\}\$/);
    assert.match(md.body, /## Summary\n\n_Computed locally by Paperboy's built-in extractive summariser/);
    assert.match(md.body, /```bibtex\n@misc\{chang2007lifetime,/);

    const bib = await t.app.inject('/papers/0704.0016.bib');
    assert.equal(bib.headers['content-type'], 'application/x-bibtex; charset=utf-8');
    assert.match(bib.body, /title = \{\{Lifetime of doubly charmed baryons\}\},\n {2}author = \{Chang, Chao-Hsi and Li, Tong and Li, Xue-Qian and Wang, Yu-Ming\},/);
    assert.match(bib.body, /doi = \{10\.1088\/0253-6102\/49\/4\/38\},/);

    const ris = await t.app.inject('/papers/0704.0016.ris');
    assert.equal(ris.headers['content-type'], 'application/x-research-info-systems; charset=utf-8');
    assert.ok(ris.body.startsWith('TY  - PREP\r\n'));
    assert.ok(ris.body.endsWith('ER  - \r\n'));
    assert.equal(count(ris.body, /^AU {2}- /gm), 4);
    assert.match(ris.body, /\r\nDO {2}- 10\.1088\/0253-6102\/49\/4\/38\r\n/);
    assert.match(ris.body, /\r\nUR {2}- https:\/\/arxiv\.org\/abs\/0704\.0016\r\n/);
  });

  test('versions, prefixes and subject classes redirect to the one canonical URL', async () => {
    const cases: [string, string][] = [
      ['/papers/0704.0016v1', '/papers/0704.0016'],
      ['/papers/0704.0016v1.bib', '/papers/0704.0016.bib'],
      ['/papers/arXiv:0704.0016', '/papers/0704.0016'],
      ['/papers/hep-th/9901001v2', '/papers/hep-th/9901001'],
      ['/papers/hep-th/9901001v3.md', '/papers/hep-th/9901001.md'],
      ['/papers/math.GT/0309136', '/papers/math/0309136'],
    ];
    for (const [from, to] of cases) {
      const res = await t.app.inject(from);
      assert.equal(res.statusCode, 301, from);
      assert.equal(res.headers.location, to, from);
    }
  });

  test('Last-Modified from the stored record, and 304 for a current copy', async () => {
    const first = await t.app.inject('/papers/0704.0016');
    const lastModified = first.headers['last-modified'] as string;
    const row = (await value<string>(t.ctx.database, sql`SELECT modified_at FROM papers WHERE arxiv_id = '0704.0016'`)) as string;
    assert.equal(lastModified, new Date(Math.floor(Date.parse(row) / 1000) * 1000).toUTCString());
    assert.equal(first.headers['cache-control'], 'no-cache');

    const cached = await t.app.inject({ url: '/papers/0704.0016', headers: { 'if-modified-since': lastModified } });
    assert.equal(cached.statusCode, 304);
    assert.equal(cached.body, '');
    const later = await t.app.inject({ url: '/papers/0704.0016.bib', headers: { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() } });
    assert.equal(later.statusCode, 304);
    const stale = await t.app.inject({ url: '/papers/0704.0016', headers: { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() } });
    assert.equal(stale.statusCode, 200);
    const junk = await t.app.inject({ url: '/papers/0704.0016', headers: { 'if-modified-since': 'yesterday' } });
    assert.equal(junk.statusCode, 200);
  });

  test('titles, authors, abstracts and comments are escaped on the page and in Markdown', async () => {
    const res = await t.app.inject('/papers/2101.00001');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Attacks with &lt;script&gt;alert\(1\)&lt;\/script&gt; in \*titles\*/);
    assert.ok(!res.body.includes('<script>alert(1)'));
    assert.ok(!res.body.includes('<script>x'));
    assert.ok(!res.body.includes('<img src=x'));
    assert.ok(!res.body.includes('<b>Person'));
    assert.ok(!/href="javascript:/i.test(res.body));
    const md = await t.app.inject('/papers/2101.00001.md');
    assert.match(md.body, /^# Attacks with \\<script\\>alert\(1\)\\<\/script\\> in \\\*titles\\\*\n/);
    assert.match(md.body, /\\\[a\\\]\(javascript:alert\(1\)\)/);
  });

  test('a withdrawn paper says so clearly', async () => {
    const body = (await t.app.inject('/papers/0704.0156')).body;
    assert.match(body, /<div class="notice error" role="note"><p><strong>This paper has been withdrawn\.<\/strong>/);
  });

  test('an unknown well-formed id: 404 offering to fetch it, with a CSRF token', async () => {
    const res = await t.app.inject('/papers/2501.00001');
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const form = fetchForm(res);
    assert.equal(form.action, '/papers/2501.00001/fetch');
    assert.match(form.token, /^[A-Za-z0-9_-]{43}$/);
    assert.match(form.cookie, /^paperboy_csrf=/);
    assert.match(res.body, /<h1>arXiv:2501\.00001 is not here yet<\/h1>/);

    const old = await t.app.inject('/papers/hep-th/9912999.bib');
    assert.equal(old.statusCode, 404);
    assert.equal(fetchForm(old).action, '/papers/hep-th/9912999/fetch');
  });

  test('a malformed id: 404 saying it is not an arXiv id, without a fetch offer', async () => {
    for (const url of ['/papers/not-an-id', '/papers/0000.0000', '/papers/2101.1', '/papers/foo/bar', '/papers/%3Cscript%3E']) {
      const res = await t.app.inject(url);
      assert.equal(res.statusCode, 404, url);
      assert.match(res.body, /is not an arXiv id/, url);
      assert.ok(!res.body.includes('<form class="fetch-form"'), url);
      assert.ok(!res.body.includes('<script>'), url);
    }
  });

  test('feed routes under /papers stay with the feed module', async () => {
    for (const url of ['/papers/trending', '/papers/date/2021-01-12']) {
      const res = await t.app.inject(url);
      assert.ok(!res.body.includes('is not an arXiv id'), url);
    }
  });
});

describe('fetching a paper from arXiv', { skip: shared.skip }, () => {
  let server: ArxivFixtureServer;
  let t: TestApp;
  const EMPTY_FEED =
    '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><opensearch:totalResults>0</opensearch:totalResults></feed>';
  before(async () => {
    server = await startArxivServer({
      sharedData: shared.dir,
      handle: (req) => (req.params['id_list'] === '2401.00001' ? { status: 200, body: EMPTY_FEED } : undefined),
    });
    t = await emptyApp({ ARXIV_API_URL: server.apiUrl, ARXIV_MIN_INTERVAL_MS: '0' });
  });
  after(async () => {
    await t.close();
    await server.close();
  });
  const stored = async (id: string): Promise<number> =>
    Number(await value(t.ctx.database, sql`SELECT count(*) FROM papers WHERE arxiv_id = ${id}`));

  test('the form fetches, stores (with its search index row) and redirects to the page', async () => {
    const notFound = await t.app.inject('/papers/1707.08567');
    assert.equal(notFound.statusCode, 404);
    const form = fetchForm(notFound);
    const res = await postForm(t, form.action, form.cookie, { _csrf: form.token });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/papers/1707.08567');
    assert.deepEqual(server.requests.at(-1)?.params, { id_list: '1707.08567', start: '0', max_results: '100' });

    const page = await t.app.inject('/papers/1707.08567');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Proceedings of Workshop AEW10: Concepts in Information Theory and Communications/);
    const found = await searchKeyword(t.ctx.database, 'boppard', { limit: 5 });
    assert.deepEqual(found.hits.map((h) => h.arxivId), ['1707.08567'], 'the keyword index has it');

    // A second submit (double click, back button) asks arXiv nothing more.
    const before = server.requests.length;
    const again = await postForm(t, form.action, form.cookie, { _csrf: form.token });
    assert.equal(again.statusCode, 303);
    assert.equal(server.requests.length, before);
  });

  test('old-style ids are fetched through their own form action', async () => {
    const form = fetchForm(await t.app.inject('/papers/astro-ph/0601001'));
    assert.equal(form.action, '/papers/astro-ph/0601001/fetch');
    const res = await postForm(t, form.action, form.cookie, { _csrf: form.token });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/papers/astro-ph/0601001');
    assert.equal((await t.app.inject('/papers/astro-ph/0601001')).statusCode, 200);
  });

  test('arXiv has no such paper: 404 saying so, nothing stored', async () => {
    const form = fetchForm(await t.app.inject('/papers/2401.00001'));
    const res = await postForm(t, form.action, form.cookie, { _csrf: form.token });
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /arXiv has no paper with the id 2401\.00001/);
    assert.equal(await stored('2401.00001'), 0);
  });

  test('without a valid CSRF token: 403, arXiv is not asked, nothing stored', async () => {
    const form = fetchForm(await t.app.inject('/papers/1605.08386'));
    const before = server.requests.length;
    const attempts = [
      postForm(t, form.action, '', { _csrf: form.token }),
      postForm(t, form.action, form.cookie, {}),
      postForm(t, form.action, form.cookie, { _csrf: 'not-the-token' }),
      postForm(t, form.action, 'paperboy_csrf=' + 'A'.repeat(43), { _csrf: form.token }),
    ];
    for (const res of await Promise.all(attempts)) {
      assert.equal(res.statusCode, 403);
      assert.match(res.body, /could not be verified/);
    }
    assert.equal(server.requests.length, before);
    assert.equal(await stored('1605.08386'), 0);
  });

  test('GET on a fetch URL changes nothing', async () => {
    const before = server.requests.length;
    for (const url of ['/papers/1605.08386/fetch', '/papers/quant-ph/0201082/fetch']) {
      const res = await t.app.inject(url);
      assert.equal(res.statusCode, 405, url);
      assert.equal(res.headers['allow'], 'POST');
    }
    assert.equal(server.requests.length, before);
    assert.equal(await stored('1605.08386'), 0);
    assert.equal(await stored('quant-ph/0201082'), 0);
  });

  test('fetching is rate-limited per client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await t.app.inject({ method: 'POST', url: '/papers/2402.00001/fetch', remoteAddress: '10.9.9.9' })).statusCode);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(403));
    assert.deepEqual(statuses.slice(10), [429, 429]);
  });
});

test('arXiv unreachable: 503 with a clear message, nothing stored', { skip: shared.skip }, async () => {
  const port = await freePort();
  const t = await emptyApp({ ARXIV_API_URL: `http://127.0.0.1:${port}/api/query`, ARXIV_MIN_INTERVAL_MS: '0' });
  try {
    const form = fetchForm(await t.app.inject('/papers/1707.08567'));
    const res = await postForm(t, form.action, form.cookie, { _csrf: form.token });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '60');
    assert.match(res.body, /arXiv cannot be reached from this server right now/);
    assert.match(res.body, /arXiv:1707\.08567 was not fetched; try again later/);
    assert.equal(Number(await value(t.ctx.database, sql`SELECT count(*) FROM papers`)), 0);
  } finally {
    await t.close();
  }
});
