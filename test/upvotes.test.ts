/**
 * Upvotes through HTTP, on both engines: the JSON API with a session (and its
 * CSRF header) or a personal API token, the form that works without
 * JavaScript, the button on cards and paper pages (personal for signed-in
 * people, the same for everyone else), the exact counter under concurrent
 * votes, the per-person write limit, and the effect on trending.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { featurePaper } from '../src/feeds/featuring.js';
import { importPaths } from '../src/ingest/import.js';
import { browserCsrf, signedInUser, type TestUser } from './support/accounts.js';
import { emptyApp, importedApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';
import { value } from './support/database.js';

interface Json {
  error?: string;
  message?: string;
  upvoted?: boolean;
  upvotes?: number;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function json(res: LightMyRequestResponse): Json {
  assert.match(String(res.headers['content-type']), /^application\/json/, res.body);
  return res.json<Json>();
}

function assertState(res: LightMyRequestResponse, upvoted: boolean, upvotes: number): void {
  assert.equal(res.statusCode, 200, res.body);
  assert.deepEqual(json(res), { upvoted, upvotes });
  assert.equal(res.headers['cache-control'], 'private, no-store');
}

function assertError(res: LightMyRequestResponse, status: number, code: string, message: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  const body = json(res);
  assert.equal(body.error, code);
  assert.match(body.message ?? '', message);
}

/** A paper's count as everyone sees it, from the read API. */
async function count(t: TestApp, id: string): Promise<number> {
  const res = await t.app.inject(`/api/papers/${id}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ upvotes: number }>().upvotes;
}

/** The upvote rows of a paper, which the counter must always equal. */
async function rowsOf(t: TestApp, id: string): Promise<number> {
  return Number(
    await value<number>(
      t.ctx.database,
      sql`SELECT count(*) FROM upvotes u JOIN papers p ON p.id = u.paper_id WHERE p.arxiv_id = ${id}`,
    ),
  );
}

/** The upvote box of paper `id` on a page: a signed-in person's form, or everyone's login link. */
function box(body: string, id: string): string {
  const form = new RegExp(`<form class="votes[^"]*" id="upvote-\\d+" data-upvotes-of="\\d+" method="post" action="/papers/${id}/upvote">[\\s\\S]*?</form>`).exec(body);
  if (form) return form[0];
  const anonymous = new RegExp(`<div class="votes[^"]*" data-upvotes-of="\\d+">\\s*<a class="upvote-button" href="/login\\?next=${encodeURIComponent(`/papers/${id}`)}"[\\s\\S]*?</div>`).exec(body);
  assert.ok(anonymous, `no upvote box for ${id}`);
  return anonymous[0];
}

/** Ids of the papers on a feed page, in order. */
function order(body: string): string[] {
  return [...body.matchAll(/<article class="card"[\s\S]*?href="\/papers\/([^"#]+)"/g)].map((m) => m[1] ?? '');
}

describe('upvotes on the imported arXiv records', () => {
  let t: TestApp;
  let ids: string[];
  let next = 0;
  /** A paper no other test touches. */
  const paper = (): string => {
    const id = ids[next++];
    assert.ok(id, 'enough papers');
    return id;
  };
  const user = (): Promise<TestUser> => signedInUser(t.ctx, t.app);

  before(async () => {
    t = await importedApp({ RATE_LIMIT_WRITE: '10000' });
    const rows = await t.ctx.database.db.selectFrom('papers').select('arxiv_id').where('arxiv_id', 'like', '0704.%').orderBy('arxiv_id').limit(40).execute();
    ids = rows.map((r) => r.arxiv_id);
  });
  after(() => t.close());

  test('upvote and un-upvote through the API with a session and its CSRF header; both are idempotent', async () => {
    const id = paper();
    const ada = await user();
    const url = `/api/papers/${id}/upvote`;
    assertState(await ada.inject({ url }), false, 0);
    assertState(await ada.inject({ method: 'POST', url }), true, 1);
    assertState(await ada.inject({ method: 'POST', url }), true, 1);
    assertState(await ada.inject({ url }), true, 1);
    assert.equal(await count(t, id), 1);
    assert.equal(await rowsOf(t, id), 1);

    const bob = await user();
    assertState(await bob.inject({ method: 'POST', url }), true, 2);
    assertState(await ada.inject({ method: 'DELETE', url }), false, 1);
    assertState(await ada.inject({ method: 'DELETE', url }), false, 1);
    assertState(await bob.inject({ url }), true, 1);
    assert.equal(await count(t, id), 1);
    assert.equal(await rowsOf(t, id), 1);
  });

  test('any notation of an id names the paper: versions, an encoded or a path old-style id', async () => {
    const id = paper();
    const ada = await user();
    assertState(await ada.inject({ method: 'POST', url: `/api/papers/${id}v1/upvote` }), true, 1);
    assertState(await ada.inject({ url: `/api/papers/arXiv:${id}/upvote` }), true, 1);

    const old = await value<string>(t.ctx.database, sql`SELECT arxiv_id FROM papers WHERE arxiv_id LIKE '%/%' ORDER BY arxiv_id LIMIT 1`);
    assert.ok(old, 'the records hold an old-style id');
    assertState(await ada.inject({ method: 'POST', url: `/api/papers/${old}/upvote` }), true, 1);
    assertState(await ada.inject({ url: `/api/papers/${encodeURIComponent(old)}/upvote` }), true, 1);
    assertState(await ada.inject({ method: 'DELETE', url: `/api/papers/${encodeURIComponent(old)}/upvote` }), false, 0);
    assert.equal(await count(t, old), 0);
  });

  test('a session without its CSRF token is refused; nothing changes', async () => {
    const id = paper();
    const ada = await user();
    const url = `/api/papers/${id}/upvote`;
    for (const csrf of [undefined, 'forged']) {
      const headers: Record<string, string> = { cookie: ada.cookie, ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }) };
      assertError(await t.app.inject({ method: 'POST', url, headers }), 403, 'forbidden', /security token/);
      assertError(await t.app.inject({ method: 'DELETE', url, headers }), 403, 'forbidden', /security token/);
    }
    const form = await t.app.inject({ method: 'POST', url: `/papers/${id}/upvote`, headers: { cookie: ada.cookie, ...FORM }, payload: 'action=add' });
    assert.equal(form.statusCode, 403);
    assert.match(String(form.headers['content-type']), /text\/html/);
    assert.equal(await count(t, id), 0);
  });

  test('bearer tokens: the write scope upvotes, read-only is 403, none or an unknown one 401', async () => {
    const id = paper();
    const ada = await user();
    const url = `/api/papers/${id}/upvote`;
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const write = await ada.token('write');
    assertState(await t.app.inject({ method: 'POST', url, headers: bearer(write) }), true, 1);
    assertState(await t.app.inject({ url, headers: bearer(write) }), true, 1);

    const read = await ada.token('read');
    assertState(await t.app.inject({ url, headers: bearer(read) }), true, 1);
    for (const method of ['POST', 'DELETE'] as const) {
      assertError(await t.app.inject({ method, url, headers: bearer(read) }), 403, 'forbidden', /read-only/);
      assertError(await t.app.inject({ method, url }), 401, 'unauthorized', /Sign in/);
      assertError(await t.app.inject({ method, url, headers: bearer('pb_not_a_token') }), 401, 'unauthorized', /unknown or revoked/);
    }
    assertError(await t.app.inject({ url }), 401, 'unauthorized', /Sign in/);
    assert.equal((await t.app.inject({ url })).headers['www-authenticate'], 'Bearer realm="paperboy"');

    assertState(await t.app.inject({ method: 'DELETE', url, headers: bearer(write) }), false, 0);
    assert.equal(await count(t, id), 0);
  });

  test('unknown papers are a 404, malformed ids a 400 in the API and a 404 for the form', async () => {
    const ada = await user();
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      assertError(await ada.inject({ method, url: '/api/papers/2501.99999/upvote' }), 404, 'not_found', /No paper 2501\.99999/);
      assertError(await ada.inject({ method, url: '/api/papers/hep-th/9901999/upvote' }), 404, 'not_found', /No paper hep-th\/9901999/);
      assertError(await ada.inject({ method, url: '/api/papers/not-an-id/upvote' }), 400, 'invalid_request', /"not-an-id" is not an arXiv id/);
    }
    assertError(await ada.inject({ url: '/api/papers/0704.0001/upvote?x=1' }), 400, 'invalid_request', /unknown parameter x/);
    const post = (url: string) =>
      t.app.inject({ method: 'POST', url, headers: { cookie: ada.cookie, ...FORM }, payload: `_csrf=${ada.csrf}&action=add` });
    const unknown = await post('/papers/2501.99999/upvote');
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /no paper 2501\.99999/);
    const malformed = await post('/papers/not-an-id/upvote');
    assert.equal(malformed.statusCode, 404);
    assert.match(malformed.body, /is not an arXiv id/);
    assert.equal(await rowsOf(t, '2501.99999'), 0);
  });

  test('without JavaScript: the form posts with its CSRF field, then 303 back to the page', async () => {
    const id = paper();
    const ada = await user();
    const before = await ada.inject({ url: `/papers/${id}` });
    const form = box(before.body, id);
    assert.match(form, /aria-pressed="false"/);
    assert.match(form, /<input type="hidden" name="action" value="add">/);
    const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
    assert.equal(fields._csrf, ada.csrf);
    assert.match(fields.next ?? '', new RegExp(`^/papers/${id}#upvote-\\d+$`));

    const post = (payload: Record<string, string>, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: `/papers/${id}/upvote`, headers: { cookie: ada.cookie, ...FORM, ...headers }, payload: new URLSearchParams(payload).toString() });
    const added = await post({ _csrf: ada.csrf, action: 'add', next: fields.next ?? '' });
    assert.equal(added.statusCode, 303);
    assert.equal(added.headers.location, fields.next);
    assert.equal(await count(t, id), 1);
    const page = await ada.inject({ url: `/papers/${id}` });
    assert.match(box(page.body, id), /aria-pressed="true"[\s\S]*<span class="count">1<\/span> upvote\b/);
    assert.match(box(page.body, id), /name="action" value="remove"/);

    // A repeated submit (back button, double click) changes nothing.
    assert.equal((await post({ _csrf: ada.csrf, action: 'add', next: '/papers' })).statusCode, 303);
    assert.equal(await count(t, id), 1);

    // Without `next`: back to the Referer, on this site only, else the paper page.
    const removed = await post({ _csrf: ada.csrf, action: 'remove' }, { referer: 'http://localhost:3000/papers/trending?category=cs.LG' });
    assert.equal(removed.headers.location, '/papers/trending?category=cs.LG');
    assert.equal(await count(t, id), 0);
    assert.equal((await post({ _csrf: ada.csrf, action: 'remove', next: 'https://evil.example/' })).headers.location, '/');
    assert.equal((await post({ _csrf: ada.csrf, action: 'add' })).headers.location, `/papers/${id}`);
    assert.equal(await count(t, id), 1);

    const bad = await post({ _csrf: ada.csrf, action: 'toggle' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /action must be &quot;add&quot; or &quot;remove&quot;/);
    assert.equal(await count(t, id), 1);
  });

  test('anonymous visitors see the count and a link to log in; their form post goes to the login page', async () => {
    const id = paper();
    const ada = await user();
    await ada.inject({ method: 'POST', url: `/api/papers/${id}/upvote` });
    const page = await t.app.inject({ url: `/papers/${id}` });
    const anonymous = box(page.body, id);
    assert.match(anonymous, /<span class="count">1<\/span> upvote\b/);
    assert.match(anonymous, /Log in to upvote/);
    assert.doesNotMatch(page.body, /aria-pressed|name="_csrf"/);

    const { cookie, csrf } = await browserCsrf(t.app);
    const post = await t.app.inject({
      method: 'POST',
      url: `/papers/${id}/upvote`,
      headers: { cookie, ...FORM, referer: `http://localhost:3000/papers/${id}` },
      payload: `_csrf=${csrf}&action=add`,
    });
    assert.equal(post.statusCode, 303);
    assert.equal(post.headers.location, `/login?next=${encodeURIComponent(`/papers/${id}`)}`);
    assert.equal(await count(t, id), 1);
  });

  test('feed cards show whether the viewer upvoted; the cached anonymous page never does', async () => {
    // The busiest day, and papers on it that no other test uses.
    const day = (await value<string>(
      t.ctx.database,
      sql`SELECT featured_on FROM featured WHERE hidden_at IS NULL GROUP BY featured_on ORDER BY count(*) DESC, featured_on LIMIT 1`,
    )) as string;
    const url = `/papers/date/${day}`;
    const first = await t.app.inject({ url });
    const [upvoted, other] = order(first.body).filter((id) => !ids.includes(id));
    assert.ok(upvoted && other, `two papers on ${day}`);
    const ada = await user();
    const votes = await count(t, upvoted);
    assertState(await ada.inject({ method: 'POST', url: `/api/papers/${upvoted}/upvote` }), true, votes + 1);

    const mine = await ada.inject({ url });
    assert.equal(mine.statusCode, 200);
    assert.match(box(mine.body, upvoted), /aria-pressed="true"/);
    assert.match(box(mine.body, upvoted), new RegExp(`name="next" value="${url}#upvote-\\d+"`));
    assert.match(box(mine.body, other), /aria-pressed="false"/);
    assert.match(String(mine.headers['cache-control']), /private/);

    // The anonymous page rendered after a signed-in one (and served from the cache) is the same for everyone.
    for (let i = 0; i < 2; i += 1) {
      const anonymous = await t.app.inject({ url });
      assert.doesNotMatch(anonymous.body, /aria-pressed|name="_csrf"|action="\/papers\/[^"]+\/upvote"/);
      assert.match(box(anonymous.body, upvoted), /Log in to upvote/);
    }
    const again = await ada.inject({ url });
    assert.match(box(again.body, upvoted), /aria-pressed="true"/);

    const bob = await user();
    assert.match(box((await bob.inject({ url })).body, upvoted), /aria-pressed="false"/);
  });

  test("a paper page's ETag differs per viewer and upvote, so no browser revalidates into a stale button", async () => {
    const id = paper();
    const ada = await user();
    const bob = await user();
    const etag = async (u: TestUser) => String((await u.inject({ url: `/papers/${id}` })).headers.etag);
    const before = await etag(ada);
    assert.notEqual(before, await etag(bob));
    await ada.inject({ method: 'POST', url: `/api/papers/${id}/upvote` });
    const upvoted = await etag(ada);
    assert.notEqual(upvoted, before);
    const revalidated = await ada.inject({ url: `/papers/${id}`, headers: { 'if-none-match': upvoted } });
    assert.equal(revalidated.statusCode, 304);
    const old = await ada.inject({ url: `/papers/${id}`, headers: { 'if-none-match': before } });
    assert.equal(old.statusCode, 200);
  });

  test('GET on the upvote URLs changes nothing', async () => {
    const id = paper();
    const ada = await user();
    const page = await ada.inject({ url: `/papers/${id}/upvote` });
    assert.equal(page.statusCode, 405);
    assert.equal(page.headers.allow, 'POST');
    assert.equal((await ada.inject({ url: `/papers/${id}/upvote?action=add` })).statusCode, 405);
    assert.equal((await t.app.inject({ url: `/papers/${id}/upvote` })).statusCode, 405);
    assertState(await ada.inject({ url: `/api/papers/${id}/upvote` }), false, 0);
    assert.equal(await count(t, id), 0);
    assert.equal(await rowsOf(t, id), 0);
  });

  test('concurrent upvotes from several people, each voting twice at once, keep the counter exact', async () => {
    // On PostgreSQL the requests run on separate pooled connections at the same time.
    const id = paper();
    const people = await Promise.all(Array.from({ length: 10 }, () => user()));
    const url = `/api/papers/${id}/upvote`;
    const voteAll = (method: 'POST' | 'DELETE') => Promise.all(people.flatMap((p) => [p.inject({ method, url }), p.inject({ method, url })]));
    for (const res of await voteAll('POST')) assert.equal(res.statusCode, 200, res.body);
    assert.equal(await count(t, id), people.length);
    assert.equal(await rowsOf(t, id), people.length);
    for (const res of await voteAll('DELETE')) assert.equal(res.statusCode, 200, res.body);
    assert.equal(await count(t, id), 0);
    assert.equal(await rowsOf(t, id), 0);
  });

  test('upvotes move papers up in trending, on the page and in the API', async () => {
    const day = (await value<string>(t.ctx.database, sql`SELECT max(featured_on) FROM featured WHERE hidden_at IS NULL`)) as string;
    // Two papers featured at the same moment tie on age and votes: only the upvote separates them.
    const pair = [paper(), paper()];
    for (const arxivId of pair) await featurePaper(t.ctx.database, { arxivId, on: day, source: 'curator', by: 'ada' }, new Date(`${day}T12:00:00Z`));
    const ranks = (list: string[]) => pair.map((id) => list.indexOf(id));
    const ada = await user();
    // Ada's pages are rendered for her, never from the page cache, which on
    // PostgreSQL learns of a write a few milliseconds after it commits.
    const page = async () => ranks(order((await ada.inject({ url: '/papers/trending' })).body));
    const api = async () =>
      ranks((await t.app.inject(`/api/daily_papers?date=${day}&sort=trending&limit=100`)).json<{ paper: { id: string } }[]>().map((i) => i.paper.id));

    const [pageBefore, apiBefore] = [await page(), await api()];
    for (const r of [...pageBefore, ...apiBefore]) assert.ok(r >= 0, 'both papers are listed');
    // Upvote whichever each list ranks lower; one vote must lift it above the other.
    const lowerOnPage = pair[pageBefore[0]! < pageBefore[1]! ? 1 : 0]!;
    await ada.inject({ method: 'POST', url: `/api/papers/${lowerOnPage}/upvote` });
    const pageAfter = await page();
    assert.ok(pageAfter[pair.indexOf(lowerOnPage)]! < pageAfter[1 - pair.indexOf(lowerOnPage)]!, `trending page: ${pageBefore} -> ${pageAfter}`);

    await ada.inject({ method: 'DELETE', url: `/api/papers/${lowerOnPage}/upvote` });
    const apiReset = await api();
    assert.deepEqual(apiReset, apiBefore);
    const lowerInApi = pair[apiBefore[0]! < apiBefore[1]! ? 1 : 0]!;
    await ada.inject({ method: 'POST', url: `/api/papers/${lowerInApi}/upvote` });
    const apiAfter = await api();
    assert.ok(apiAfter[pair.indexOf(lowerInApi)]! < apiAfter[1 - pair.indexOf(lowerInApi)]!, `daily_papers?sort=trending: ${apiBefore} -> ${apiAfter}`);
  });

  test('the OpenAPI document describes the upvote endpoints and who may call them', async () => {
    const doc = (await t.app.inject('/api/openapi.json')).json<{
      paths: Record<string, Record<string, { operationId: string; security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    }>();
    for (const path of ['/api/papers/{id}/upvote', '/api/papers/{archive}/{number}/upvote']) {
      const item = doc.paths[path];
      assert.deepEqual(Object.keys(item ?? {}).sort(), ['delete', 'get', 'post'], path);
      for (const method of ['post', 'delete']) {
        const op = item?.[method];
        assert.ok(op?.security && op.security.length > 0, `${method} ${path} names its security`);
        assert.deepEqual(Object.keys(op?.responses ?? {}).sort(), ['200', '400', '401', '403', '404', '429']);
      }
    }
    assert.equal(doc.paths['/api/papers/{id}/upvote']?.post?.operationId, 'postPapersIdUpvote');
    assert.ok(doc.components.schemas.UpvoteState);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearerToken', 'mailWebhookSecret', 'session']);
  });
});

test('upvotes count against the per-person write limit, on every route and credential of that person', async () => {
  const t = await emptyApp({ RATE_LIMIT_WRITE: '3', ARXIV_CATEGORIES: 'cs.LG' });
  try {
    const file = join(tempDataDir('paperboy-upvotes-'), 'papers.jsonl');
    const record = { id: '2101.00001', authors: 'A. Person', title: 'A paper', categories: 'cs.LG', abstract: 'Things.', versions: [{ version: 'v1', created: 'Mon, 4 Jan 2021 10:00:00 GMT' }] };
    writeFileSync(file, `${JSON.stringify(record)}\n`);
    await importPaths(t.ctx.database, [file]);
    const url = '/api/papers/2101.00001/upvote';
    const ada = await signedInUser(t.ctx, t.app);
    const first = await ada.inject({ method: 'POST', url });
    assertState(first, true, 1);
    assert.equal(first.headers['x-ratelimit-limit'], '3');
    assertState(await ada.inject({ method: 'DELETE', url }), false, 0);
    const form = await t.app.inject({ method: 'POST', url: '/papers/2101.00001/upvote', headers: { cookie: ada.cookie, ...FORM }, payload: `_csrf=${ada.csrf}&action=add` });
    assert.equal(form.statusCode, 303);

    const limited = await ada.inject({ method: 'DELETE', url });
    assertError(limited, 429, 'rate_limited', /at most 3 requests a minute/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const token = await ada.token('write');
    assert.equal((await t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` } })).statusCode, 429, 'the same person with a token');
    const page = await t.app.inject({ method: 'POST', url: '/papers/2101.00001/upvote', headers: { cookie: ada.cookie, ...FORM }, payload: `_csrf=${ada.csrf}&action=remove` });
    assert.equal(page.statusCode, 429);
    assert.match(page.body, /Too many requests/);
    assert.equal(await count(t, '2101.00001'), 1, 'the limited requests changed nothing');

    // Someone else from the same address has a budget of their own.
    const bob = await signedInUser(t.ctx, t.app);
    assertState(await bob.inject({ method: 'POST', url }), true, 2);
  } finally {
    await t.close();
  }
});
