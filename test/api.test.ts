import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DailyPaper, ENDPOINTS, Paper, PaperSearchResult, encodeCursor } from '../src/api/schemas.js';
import { featurePaper } from '../src/feeds/featuring.js';
import { emptyApp, importedApp, type TestApp } from './support/app.js';
import { sharedData } from './support/shared-data.js';
import { sql } from 'kysely';
import { run, value } from './support/database.js';

const shared = sharedData();
// Broad categories give days with hundreds of featured papers (173 on 2007-04-03).
const BROAD = { ARXIV_CATEGORIES: 'math,hep-th,astro-ph,cond-mat,quant-ph,cs' };
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json: unknown;
}

async function get(t: TestApp, url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await t.app.inject({ method: 'GET', url, headers });
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, headers: r.headers, body: r.body, json };
}

/** Parses a body with a response schema and checks nothing was dropped: no field missing from the schema. */
function exactly<T>(schema: { parse(v: unknown): T }, value: unknown): T {
  const parsed = schema.parse(value);
  assert.deepEqual(parsed, value, 'the body has only documented fields');
  return parsed;
}

const dailyList = (a: Answer): DailyPaper[] => exactly(DailyPaper.array(), a.json);

/** The path and query of an absolute `Link: <…>; rel="next"` URL, for inject. */
function nextLink(a: Answer): string | undefined {
  const link = a.headers.link;
  if (typeof link !== 'string') return undefined;
  const m = /^<([^>]+)>; rel="next"$/.exec(link);
  assert.ok(m, `Link header ${link}`);
  const url = new URL(m[1] ?? '');
  assert.equal(url.origin, 'http://localhost:3000', 'absolute URL on the configured base URL');
  return url.pathname + url.search;
}

function assertError(a: Answer, status: number, code: string, ...mentions: RegExp[]): string {
  assert.equal(a.status, status, a.body);
  assert.match(String(a.headers['content-type']), /^application\/json/);
  const body = a.json as { error: string; message: string };
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
  assert.equal(body.error, code);
  for (const m of mentions) assert.match(body.message, m);
  return body.message;
}

/** The HF field names and types of a daily-papers item, checked by hand as a client would read them. */
function assertHfItem(item: Record<string, unknown>): void {
  const paper = item.paper as Record<string, unknown>;
  assert.equal(typeof paper.id, 'string');
  assert.equal(typeof paper.title, 'string');
  assert.equal(typeof paper.summary, 'string');
  assert.equal(typeof paper.upvotes, 'number');
  assert.equal(typeof paper.discussionId, 'string');
  assert.match(String(paper.publishedAt), ISO_DATE_TIME);
  assert.ok(Array.isArray(paper.authors) && paper.authors.length > 0);
  for (const a of paper.authors as Record<string, unknown>[]) {
    assert.equal(typeof a._id, 'string');
    assert.equal(typeof a.name, 'string');
    assert.equal(a.hidden, false);
  }
  assert.match(String(item.publishedAt), ISO_DATE_TIME);
  assert.equal(item.title, paper.title);
  assert.equal(item.summary, paper.summary);
  assert.equal(typeof item.thumbnail, 'string');
  assert.equal(typeof item.numComments, 'number');
  assert.equal(item.isAuthorParticipating, false);
}

describe('JSON API over the imported arXiv records', { skip: shared.skip }, () => {
  let t: TestApp;
  before(async () => {
    t = await importedApp(BROAD);
  });
  after(async () => {
    await t.close();
  });

  test('daily_papers without a period: the latest featured day, in the HF shape', async () => {
    const a = await get(t, '/api/daily_papers');
    assert.equal(a.status, 200);
    const items = dailyList(a);
    assert.ok(items.length >= 1);
    const latest = await value<string>(t.ctx.database, sql`SELECT max(featured_on) FROM featured`);
    for (const item of items) {
      assertHfItem(item);
      assert.equal(item.paper.submittedOnDailyAt?.slice(0, 10), latest);
      assert.equal(item.publishedAt, item.paper.submittedOnDailyAt);
      assert.equal(item.submittedBy.type, 'rule');
      assert.equal(typeof item.submittedBy.fullname, 'string');
      assert.equal(typeof item.submittedBy.avatarUrl, 'string');
      assert.equal(item.paper.featured?.on, latest);
    }
    assert.equal(a.headers['x-total-count'], String(items.length));
  });

  test('date, week and month select the featured papers of that period', async () => {
    const day = await get(t, '/api/daily_papers?date=2007-04-03&limit=100');
    assert.equal(day.headers['x-total-count'], '173');
    const dayItems = dailyList(day);
    assert.equal(dayItems.length, 100);
    for (const item of dayItems) assert.equal(item.paper.featured?.on, '2007-04-03');

    const week = await get(t, '/api/daily_papers?week=2007-W14&limit=100');
    assert.equal(week.headers['x-total-count'], '590');
    for (const item of dailyList(week)) {
      const on = item.paper.featured?.on ?? '';
      assert.ok(on >= '2007-04-02' && on <= '2007-04-08', on);
    }

    const month = await get(t, '/api/daily_papers?month=2007-04&limit=100');
    assert.equal(month.headers['x-total-count'], '785');
    for (const item of dailyList(month)) assert.match(item.paper.featured?.on ?? '', /^2007-04-/);

    const none = await get(t, '/api/daily_papers?date=1980-01-01');
    assert.deepEqual(none.json, []);
    assert.equal(none.headers['x-total-count'], '0');
  });

  test('p pages through a day without duplicates or gaps; Link points to the next page', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/api/daily_papers?date=2007-04-03&limit=50';
    let pages = 0;
    while (url !== undefined) {
      const a = await get(t, url);
      assert.equal(a.status, 200);
      assert.match(url, new RegExp(`p=${pages}|^/api/daily_papers\\?date=2007-04-03&limit=50$`));
      seen.push(...dailyList(a).map((i) => i.paper.id));
      url = nextLink(a);
      pages += 1;
    }
    assert.equal(pages, 4);
    assert.equal(seen.length, 173);
    assert.equal(new Set(seen).size, 173);
    const p3 = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&limit=50&p=3'));
    assert.deepEqual(
      p3.map((i) => i.paper.id),
      seen.slice(150),
    );
    assert.deepEqual(dailyList(await get(t, '/api/daily_papers?date=2007-04-03&p=9')), []);
  });

  test('sort=trending ranks by engagement within the period, publishedAt by newest first', async () => {
    const newest = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&sort=publishedAt&limit=100'));
    const published = newest.map((i) => i.paper.publishedAt);
    assert.deepEqual(published, [...published].sort().reverse());

    // Give the two oldest papers of the first page engagement: trending puts them first.
    const [quiet, discussed] = [newest.at(-1), newest.at(-2)].map((i) => i?.paper.id ?? '');
    await run(t.ctx.database, sql`UPDATE papers SET upvotes = 5, comment_count = 0 WHERE arxiv_id = ${quiet}`);
    await run(t.ctx.database, sql`UPDATE papers SET upvotes = 2, comment_count = 7 WHERE arxiv_id = ${discussed}`);
    const trending = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&sort=trending&limit=3'));
    assert.deepEqual(
      trending.slice(0, 2).map((i) => [i.paper.id, i.paper.upvotes, i.numComments]),
      [
        [discussed, 2, 7],
        [quiet, 5, 0],
      ],
    );
    const byDefault = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&limit=3'));
    assert.deepEqual(
      byDefault.map((i) => i.paper.id),
      trending.map((i) => i.paper.id),
      'trending is the default',
    );
  });

  test('category and submitter filters', async () => {
    const hepTh = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&category=hep-th&limit=100'));
    assert.equal(hepTh.length, 20);
    for (const item of hepTh) assert.ok(item.paper.categories.includes('hep-th'));
    const math = dailyList(await get(t, '/api/daily_papers?date=2007-04-03&category=math&limit=100'));
    assert.ok(math.length > 0);
    for (const item of math) assert.ok(item.paper.categories.some((c) => c.startsWith('math.')));

    // A reader submits a paper already on 2011-02-03's feed: the day keeps its size.
    const arxivId = (await value<string>(
      t.ctx.database,
      sql`SELECT p.arxiv_id FROM featured f JOIN papers p ON p.id = f.paper_id WHERE f.featured_on = '2011-02-03' LIMIT 1`,
    )) as string;
    await featurePaper(t.ctx.database, { arxivId, on: '2011-02-03', source: 'submission', by: 'ada' }, new Date('2011-02-03T08:15:00Z'));
    const mine = dailyList(await get(t, '/api/daily_papers?submitter=ada'));
    assert.deepEqual(
      mine.map((i) => i.paper.id),
      [arxivId],
      'without a period: every day',
    );
    assert.deepEqual(mine[0]?.submittedBy, {
      _id: 'user:ada',
      name: 'ada',
      fullname: 'ada',
      avatarUrl: '',
      isPro: false,
      type: 'user',
      user: 'ada',
    });
    assert.equal(mine[0]?.publishedAt, '2011-02-03T08:15:00.000Z');
    assert.equal(mine[0]?.paper.featured?.source, 'submission');
    assert.equal(dailyList(await get(t, '/api/daily_papers?submitter=ada&date=2011-02-03')).length, 1);
    assert.equal(dailyList(await get(t, '/api/daily_papers?submitter=ada&date=2011-02-04')).length, 0);
    assert.equal(dailyList(await get(t, '/api/daily_papers?submitter=bob')).length, 0);
  });

  test('papers/:id answers the HF paper object; old-style ids by path or encoded', async () => {
    const a = await get(t, '/api/papers/0704.0001');
    assert.equal(a.status, 200);
    const paper = exactly(Paper, a.json);
    assert.equal(paper.id, '0704.0001');
    assert.match(paper.title, /diphoton/);
    assert.equal(typeof paper.summary, 'string');
    assert.equal(paper.authors[0]?.name, 'C. Balázs');
    assert.match(paper.publishedAt, ISO_DATE_TIME);
    assert.ok(paper.categories.includes('hep-ph'));

    const versioned = await get(t, '/api/papers/0704.0001v2');
    assert.equal((versioned.json as { id: string }).id, '0704.0001');

    const byPath = await get(t, '/api/papers/hep-th/9901001');
    const encoded = await get(t, '/api/papers/hep-th%2F9901001');
    assert.equal(byPath.status, 200);
    assert.equal(exactly(Paper, byPath.json).id, 'hep-th/9901001');
    assert.equal(encoded.body, byPath.body);

    assertError(await get(t, '/api/papers/2501.99999'), 404, 'not_found', /2501\.99999/);
    assertError(await get(t, '/api/papers/hep-th/9912999'), 404, 'not_found');
    assertError(await get(t, '/api/papers/not-an-id'), 400, 'invalid_request', /not an arXiv id/);
    assertError(await get(t, '/api/papers/0704.0001?fields=all'), 400, 'invalid_request', /unknown parameter fields/);
  });

  test('papers/search answers daily-papers items, best match first', async () => {
    const a = await get(t, '/api/papers/search?q=diphoton&limit=5');
    assert.equal(a.status, 200);
    const items = exactly(PaperSearchResult.array(), a.json);
    assert.equal(items[0]?.paper.id, '0704.0001');
    assert.ok(items.length <= 5);
    for (const item of items) assertHfItem(item);
    assert.match(String(a.headers['x-ratelimit-limit']), /^60$/);

    const inCategory = exactly(PaperSearchResult.array(), (await get(t, '/api/papers/search?q=diphoton&category=math')).json);
    assert.ok(!inCategory.some((i) => i.paper.id === '0704.0001'));

    assertError(await get(t, '/api/papers/search?q='), 400, 'invalid_request', /q: must not be empty/);
    assertError(await get(t, '/api/papers/search?q=%20%20'), 400, 'invalid_request', /q: must not be empty/);
    assertError(await get(t, '/api/papers/search'), 400, 'invalid_request', /q: is required/);
  });

  test('papers: a cursor walk visits every paper once, newest announcement first', async () => {
    const total = Number(await value(t.ctx.database, sql`SELECT count(*) FROM papers`));
    const ids: string[] = [];
    const days: (string | null)[] = [];
    let url: string | undefined = '/api/papers?limit=100';
    let pages = 0;
    while (url !== undefined) {
      const a = await get(t, url);
      assert.equal(a.status, 200, a.body);
      const page = exactly(Paper.array(), a.json);
      assert.ok(page.length > 0 && page.length <= 100);
      ids.push(...page.map((p) => p.id));
      days.push(...page.map((p) => p.announcedOn));
      url = nextLink(a);
      pages += 1;
    }
    assert.equal(pages, Math.ceil(total / 100));
    assert.equal(ids.length, total, 'no gaps');
    assert.equal(new Set(ids).size, total, 'no duplicates');
    // Newest first; papers without an announcement day come last.
    const firstNull = days.indexOf(null);
    const dated = days.slice(0, firstNull === -1 ? undefined : firstNull) as string[];
    assert.deepEqual(dated, [...dated].sort().reverse());
    if (firstNull !== -1) assert.ok(days.slice(firstNull).every((d) => d === null));

    const first = await get(t, '/api/papers?limit=3');
    assert.equal(exactly(Paper.array(), first.json)[0]?.announcedOn, dated[0]);
  });

  test('every validation problem is a 400 naming it, all problems in one message', async () => {
    const cases: [string, RegExp][] = [
      ['/api/daily_papers?foo=1', /unknown parameter foo \(known: date, week, month, submitter, sort, p, limit, category\)/],
      ['/api/daily_papers?date=2007-02-30', /date: must be a calendar day/],
      ['/api/daily_papers?date=yesterday', /date: must be a calendar day as YYYY-MM-DD/],
      ['/api/daily_papers?week=2007-W60', /week: must be an ISO week/],
      ['/api/daily_papers?month=2007-13', /month: must be a month as YYYY-MM/],
      ['/api/daily_papers?limit=0', /limit: must be at least 1/],
      ['/api/daily_papers?limit=101', /limit: must be at most 100/],
      ['/api/daily_papers?limit=ten', /limit: must be a whole number/],
      ['/api/daily_papers?p=-1', /p: must be at least 0/],
      ['/api/daily_papers?sort=popular', /sort: must be "trending" or "publishedAt"/],
      ['/api/daily_papers?date=2007-04-03&week=2007-W14', /at most one of date, week and month/],
      ['/api/daily_papers?date=2007-04-03&date=2007-04-04', /date: must be given once/],
      ['/api/daily_papers?category=cs.XYZ', /category: "cs\.XYZ" is no arXiv category/],
      ['/api/papers?limit=101', /limit: must be at most 100/],
      ['/api/papers/search?q=x&limit=0', /limit: must be at least 1/],
      ['/api/openapi.json?v=2', /unknown parameter v \(this endpoint takes none\)/],
    ];
    for (const [url, message] of cases) assertError(await get(t, url), 400, 'invalid_request', message);

    const all = assertError(
      await get(t, '/api/daily_papers?limit=0&p=-1&sort=x&foo=1&bar=2&date=2007-04-03&month=2007-04'),
      400,
      'invalid_request',
    );
    for (const m of [/limit:/, /p:/, /sort:/, /unknown parameters foo, bar/, /at most one of/]) assert.match(all, m);
  });

  test('a cursor that was not issued, edited or cut is a 400', async () => {
    const first = await get(t, '/api/papers?limit=2');
    const next = nextLink(first) ?? '';
    const cursor = new URL(next, 'http://x').searchParams.get('cursor') ?? '';
    assert.equal((await get(t, next)).status, 200);

    const payload = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { a: string; i: number; c: string };
    const edited = Buffer.from(JSON.stringify({ ...payload, i: payload.i - 1 })).toString('base64url');
    const issuedElsewhere = encodeCursor({ announcedOn: payload.a, id: payload.i - 1 });
    assert.equal((await get(t, `/api/papers?cursor=${issuedElsewhere}`)).status, 200, 'a well-formed cursor is a position');
    for (const bad of ['abc', edited, cursor.slice(0, -3), `${cursor}x`, '%%%', Buffer.from('[1,2]').toString('base64url')]) {
      assertError(await get(t, `/api/papers?cursor=${encodeURIComponent(bad)}`), 400, 'invalid_request', /cursor: is not a cursor/);
    }
  });

  test('reads are cacheable: Cache-Control, Last-Modified, and ETag revalidation with 304', async () => {
    for (const url of ['/api/papers/0704.0001', '/api/daily_papers?date=2007-04-03', '/api/papers?limit=5']) {
      const a = await get(t, url);
      assert.equal(a.headers['cache-control'], 'public, max-age=60', url);
      assert.ok(!Number.isNaN(Date.parse(String(a.headers['last-modified']))), url);
      const etag = String(a.headers.etag);
      assert.match(etag, /^W\/"/);
      const again = await get(t, url, { 'if-none-match': etag });
      assert.equal(again.status, 304, url);
      assert.equal(again.body, '');
    }
    const paper = await get(t, '/api/papers/0704.0001');
    const modified = (await value<string>(t.ctx.database, sql`SELECT modified_at FROM papers WHERE arxiv_id = '0704.0001'`)) as string;
    assert.equal(paper.headers['last-modified'], new Date(modified).toUTCString());
    // Content changed: the old ETag no longer matches.
    await run(t.ctx.database, sql`UPDATE papers SET upvotes = upvotes + 1 WHERE arxiv_id = '0704.0001'`);
    assert.equal((await get(t, '/api/papers/0704.0001', { 'if-none-match': String(paper.headers.etag) })).status, 200);
    const error = await get(t, '/api/papers/2501.99999');
    assert.equal(error.headers['cache-control'], undefined, 'errors are not cached');
  });

  test('the OpenAPI document is valid 3.1 JSON listing every route, parameter and response', async () => {
    const a = await get(t, '/api/openapi.json');
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^application\/json/);
    const doc = a.json as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { operationId: string; parameters: { name: string; in: string; schema: object }[]; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.info.title && doc.info.version);
    // The document lists exactly the route table's endpoints, read and write.
    assert.deepEqual(Object.keys(doc.paths).sort(), [...new Set(ENDPOINTS.map((e) => e.path))].sort());
    for (const path of [
      '/api/daily_papers',
      '/api/papers/{id}',
      '/api/papers/{id}/upvote',
      '/api/papers/{id}/comments',
      '/api/comments/{id}',
      '/api/papers/submit',
    ]) {
      assert.ok(doc.paths[path], path);
    }
    const operationIds = new Set<string>();
    for (const endpoint of ENDPOINTS) {
      const method = endpoint.method ?? 'get';
      const op = (doc.paths[endpoint.path] as Record<string, (typeof doc.paths)[string][string] & { security?: unknown[] }> | undefined)?.[method];
      assert.ok(op, `${method} ${endpoint.path}`);
      assert.ok(!operationIds.has(op.operationId), 'unique operationId');
      operationIds.add(op.operationId);
      for (const name of endpoint.path.match(/\{(\w+)\}/g) ?? []) {
        assert.ok(op.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name), `${endpoint.path} documents ${name}`);
      }
      for (const p of op.parameters) assert.ok(p.name && ['query', 'path'].includes(p.in) && typeof p.schema === 'object');
      assert.ok(op.responses['400'] || method === 'delete' || endpoint.path === '/api/docs', `${method} ${endpoint.path} documents 400`);
      if (endpoint.auth === undefined && method === 'get') {
        // Every public read answers its example request (a comment, a collection or a person only once there is one).
        assert.ok(op.responses['200'], endpoint.path);
        const expected = ['/api/comments/{id}', '/api/collections/{id}', '/api/users/{username}'].includes(endpoint.path) ? 404 : 200;
        assert.equal((await get(t, endpoint.example)).status, expected, endpoint.example);
      } else {
        // Reads for a person and every write say who may call them.
        assert.ok(op.responses['401'] && op.security && op.security.length > 0, `${method} ${endpoint.path} documents its credentials`);
      }
    }
    const daily = doc.paths['/api/daily_papers']?.get;
    assert.deepEqual(daily?.parameters.map((p) => p.name), ['date', 'week', 'month', 'submitter', 'sort', 'p', 'limit', 'category']);
    assert.ok(doc.paths['/api/papers/search']?.get?.responses['429']);
    assert.ok(doc.paths['/api/papers/{id}']?.get?.responses['404']);

    // Every $ref resolves to a component; the error shape and HF fields are there.
    const refs = a.body.match(/"\$ref":"[^"]+"/g) ?? [];
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/(\w+)"$/.exec(ref)?.[1];
      assert.ok(name !== undefined && doc.components.schemas[name], ref);
    }
    assert.deepEqual(doc.components.schemas.Error?.required, ['error', 'message']);
    const paperRequired = doc.components.schemas.Paper?.required ?? [];
    for (const f of ['id', 'authors', 'publishedAt', 'title', 'summary', 'upvotes', 'discussionId']) assert.ok(paperRequired.includes(f), f);
    const itemRequired = doc.components.schemas.DailyPaper?.required ?? [];
    for (const f of ['paper', 'publishedAt', 'title', 'summary', 'thumbnail', 'numComments', 'submittedBy', 'isAuthorParticipating']) {
      assert.ok(itemRequired.includes(f), f);
    }
  });

  test('the docs page renders every endpoint from the OpenAPI document, with no third-party assets', async () => {
    const a = await get(t, '/api/docs');
    assert.equal(a.status, 200);
    assert.match(String(a.headers['content-type']), /^text\/html/);
    for (const e of ENDPOINTS) {
      const line = `<code>${(e.method ?? 'get').toUpperCase()} ${e.path}</code>`;
      assert.ok(a.body.includes(line), line);
    }
    assert.match(a.body, /<a href="\/api\/docs" aria-current="page">API<\/a>/);
    assert.match(a.body, /curl 'http:\/\/localhost:3000\/api\/daily_papers\?date=2007-04-03&amp;sort=trending/);
    assert.match(a.body, /id="schema-DailyPaper"/);
    assert.match(a.body, /submittedBy: <a href="#schema-User">User<\/a>/);
    assert.doesNotMatch(a.body, /<script[^>]+src="https?:/);
    assert.doesNotMatch(a.body, /<link[^>]+href="https?:/);
  });
});

test('an empty instance answers empty lists; search is rate limited per client with JSON 429', async () => {
  const t = await emptyApp();
  try {
    const daily = await get(t, '/api/daily_papers');
    assert.equal(daily.status, 200);
    assert.deepEqual(daily.json, []);
    assert.deepEqual((await get(t, '/api/papers')).json, []);
    assert.equal((await get(t, '/api/papers')).headers.link, undefined);

    for (let i = 0; i < 59; i++) assert.equal((await get(t, `/api/papers/search?q=word${i}`)).status, 200);
    const last = await get(t, '/api/papers/search?q=more');
    assert.equal(last.status, 200);
    assert.equal(last.headers['x-ratelimit-remaining'], '0');
    const limited = await get(t, '/api/papers/search?q=again');
    assertError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await get(t, '/api/daily_papers')).status, 200, 'other reads are not limited');
  } finally {
    await t.close();
  }
});
