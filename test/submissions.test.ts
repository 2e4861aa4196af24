/**
 * Submitting papers through HTTP, on both engines, with arXiv played by the
 * local fixture server. Its recordings are years old, so "recent" papers are
 * the real recording of 1707.08567 served under fresh ids (2611.9xxxx) with
 * dates of two days ago; the real records stand for papers too old to submit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { ensurePaper } from '../src/arxiv/fetch-paper.js';
import { unfeaturePaper } from '../src/feeds/featuring.js';
import { addDays } from '../src/feeds/periods.js';
import { signedInUser, browserCsrf, type TestUser } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';
import { freePort } from './support/cli.js';
import { startArxivServer, type ArxivFixtureServer } from './support/arxiv-server.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();
const DAY_MS = 86_400_000;
const RECORDING = 'arxiv/api-atom/arxiv.py-2026/xml/id_1707.08567_s0_m100_6a1afebfc6a3.xml';
const RECENT_ID = /^2611\.9\d{4}$/;
const UNKNOWN = '2611.00001';
const EMPTY_FEED =
  '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><opensearch:totalResults>0</opensearch:totalResults></feed>';
const ATOM = { 'content-type': 'application/atom+xml; charset=utf-8' };

interface DailyItem {
  paper: { id: string; featured: { on: string; source: string; by: string | null } | null };
  publishedAt: string;
  submittedBy: { name: string; type: string };
}

/** Today's feed day, as the server computes it (UTC). */
const today = (): string => new Date().toISOString().slice(0, 10);

/** The real recording of 1707.08567 as if `id` had been first submitted `daysAgo` days ago. */
function recentRecord(id: string, daysAgo: number): string {
  const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return readFileSync(join(shared.dir, RECORDING), 'utf8')
    .replaceAll('1707.08567', id)
    .replace(/<(published|updated)>[^<]*</g, `<$1>${at}<`)
    .replace('<title>Proceedings of', `<title>${id}: Proceedings of`);
}

/** An arXiv stand-in that knows recent papers under 2611.9xxxx ids and has no paper 2611.00001. */
function fixtureArxiv(): Promise<ArxivFixtureServer> {
  return startArxivServer({
    sharedData: shared.dir,
    handle: (req) => {
      const id = req.params['id_list'] ?? '';
      if (RECENT_ID.test(id)) return { status: 200, body: recentRecord(id, 2), headers: ATOM };
      if (id === UNKNOWN) return { status: 200, body: EMPTY_FEED, headers: ATOM };
      return undefined;
    },
  });
}

let clients = 0;
/** A new client address per request, so only the per-person limit can bite. */
const address = (): string => {
  clients += 1;
  return `10.7.${Math.floor(clients / 250)}.${(clients % 250) + 1}`;
};

/** Posts the HTML form as a browser without JavaScript: cookie and the `_csrf` field, no header. */
function postForm(t: TestApp, cookie: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/papers/submit',
    remoteAddress: address(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === '' ? {} : { cookie }) },
    payload: new URLSearchParams(fields).toString(),
  });
}

const submitForm = (t: TestApp, user: TestUser, id: string) => postForm(t, user.cookie, { _csrf: user.csrf, id });

/** `POST /api/papers/submit` as the user's browser (session cookie + CSRF header). */
const submitApi = (user: TestUser, payload: unknown) =>
  user.inject({ method: 'POST', url: '/api/papers/submit', payload: payload as Record<string, unknown>, remoteAddress: address() });

/** `POST /api/papers/submit` with a bearer token. */
const submitWithToken = (t: TestApp, token: string, payload: unknown) =>
  t.app.inject({
    method: 'POST',
    url: '/api/papers/submit',
    headers: { authorization: `Bearer ${token}` },
    payload: payload as Record<string, unknown>,
    remoteAddress: address(),
  });

const message = (res: LightMyRequestResponse): string => (res.json() as { message: string }).message;

/** The paper's feed row, or undefined. */
async function featuredRow(t: TestApp, arxivId: string) {
  return t.ctx.database.db
    .selectFrom('featured as f')
    .innerJoin('papers as p', 'p.id', 'f.paper_id')
    .select(['f.featured_on', 'f.source', 'f.featured_by', 'f.hidden_at'])
    .where('p.arxiv_id', '=', arxivId)
    .executeTakeFirst();
}

async function stored(t: TestApp, arxivId: string): Promise<boolean> {
  return (await t.ctx.database.db.selectFrom('papers').select('id').where('arxiv_id', '=', arxivId).executeTakeFirst()) !== undefined;
}


describe('submitting papers', { skip: shared.skip }, () => {
  let server: ArxivFixtureServer;
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    server = await fixtureArxiv();
    // A high limit here: the limit has its own test below.
    t = await emptyApp({ ARXIV_API_URL: server.apiUrl, ARXIV_MIN_INTERVAL_MS: '0', RATE_LIMIT_SUBMIT: '1000' });
    alice = await signedInUser(t.ctx, t.app, { username: 'alice' });
    bob = await signedInUser(t.ctx, t.app, { username: 'bob' });
  });
  after(async () => {
    await t.close();
    await server.close();
  });

  test('the form is for signed-in people; everyone sees the Submit link', async () => {
    const anonymous = await t.app.inject('/papers/submit');
    assert.equal(anonymous.statusCode, 303);
    assert.equal(anonymous.headers.location, '/login?next=%2Fpapers%2Fsubmit');

    const page = await alice.inject({ url: '/papers/submit?id=2401.01234' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/papers\/submit"/);
    assert.match(page.body, /name="_csrf" value="[^"]+"/);
    assert.match(page.body, /name="id" type="text" value="2401\.01234"/, '?id= pre-fills the form');
    assert.match(page.body, /at most 14 days old/);
    assert.match(page.body, /<a href="\/papers\/submit" aria-current="page">Submit<\/a>/);
    assert.match(String(page.headers['cache-control']), /private/);

    const front = await t.app.inject('/papers/trending');
    assert.match(front.body, /<a href="\/papers\/submit">Submit<\/a>/);
  });

  test('by id through the form: an unknown paper is fetched, featured today and credited to the submitter', async () => {
    const res = await submitForm(t, alice, '2611.90001');
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, '/papers/2611.90001');
    assert.deepEqual(server.requests.at(-1)?.params, { id_list: '2611.90001', start: '0', max_results: '100' });
    assert.deepEqual(await featuredRow(t, '2611.90001'), { featured_on: today(), source: 'submission', featured_by: 'alice', hidden_at: null });

    const paper = await t.app.inject('/papers/2611.90001');
    assert.equal(paper.statusCode, 200);
    assert.match(paper.body, /Submitted by alice on <a href="\/papers\/date\//);
    // The cached front page is dropped when the write's notification arrives (milliseconds later on PostgreSQL).
    let front = await t.app.inject('/');
    for (let i = 0; i < 100 && !front.body.includes('href="/papers/2611.90001"'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      front = await t.app.inject('/');
    }
    assert.match(front.body, /href="\/papers\/2611\.90001"/);
    assert.match(front.body, /<span>Submitted by alice<\/span>/);
  });

  test('by URL through the form', async () => {
    const res = await submitForm(t, alice, 'https://arxiv.org/pdf/2611.90002v1.pdf');
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, '/papers/2611.90002');
    assert.equal((await featuredRow(t, '2611.90002'))?.featured_by, 'alice');
  });

  test('through the API with a session and its CSRF header, or a write token: 201 with the daily-paper item', async () => {
    const res = await submitApi(alice, { id: '2611.90003v2' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, `${t.ctx.config.baseUrl}/api/papers/2611.90003`);
    const item = res.json() as DailyItem;
    assert.equal(item.paper.id, '2611.90003');
    assert.equal(item.submittedBy.name, 'alice');
    assert.equal(item.submittedBy.type, 'user');
    assert.deepEqual(
      { on: item.paper.featured?.on, source: item.paper.featured?.source, by: item.paper.featured?.by },
      { on: today(), source: 'submission', by: 'alice' },
    );
    assert.equal(item.publishedAt.slice(0, 10), today(), 'entered the feed today');

    const token = await bob.token('write');
    const byUrl = await submitWithToken(t, token, { id: 'http://export.arxiv.org/abs/2611.90004' });
    assert.equal(byUrl.statusCode, 201, byUrl.body);
    assert.equal((byUrl.json() as DailyItem).submittedBy.name, 'bob');
  });

  test('/api/daily_papers names the submitter and filters by ?submitter=', async () => {
    const ids = async (query: string): Promise<string[]> => {
      const res = await t.app.inject(`/api/daily_papers?${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as DailyItem[]).map((i) => i.paper.id).sort();
    };
    assert.deepEqual(await ids('submitter=alice'), ['2611.90001', '2611.90002', '2611.90003']);
    assert.deepEqual(await ids(`submitter=alice&date=${today()}`), ['2611.90001', '2611.90002', '2611.90003']);
    assert.deepEqual(await ids('submitter=bob'), ['2611.90004']);
    assert.deepEqual(await ids('submitter=nobody'), []);
    const all = (await t.app.inject(`/api/daily_papers?date=${today()}`)).json() as DailyItem[];
    assert.deepEqual(
      all.map((i) => [i.paper.id, i.submittedBy.name]).sort(),
      [['2611.90001', 'alice'], ['2611.90002', 'alice'], ['2611.90003', 'alice'], ['2611.90004', 'bob']],
    );
  });

  test('a paper already in the daily papers, by anyone, hidden or not, is refused: 409 naming the day', async () => {
    const again = await submitApi(bob, { id: 'https://arxiv.org/abs/2611.90001' });
    assert.equal(again.statusCode, 409);
    assert.equal(message(again), `arXiv:2611.90001 is already in the daily papers of ${today()}.`);
    const form = await submitForm(t, bob, '2611.90001');
    assert.equal(form.statusCode, 409);
    assert.match(form.body, /is already in the daily papers of/);
    assert.match(form.body, /<a href="\/papers\/2611\.90001">Go to arXiv:2611\.90001<\/a>/);
    assert.equal((await featuredRow(t, '2611.90001'))?.featured_by, 'alice', 'the first submitter keeps the credit');

    // Featured by the category rule on an earlier day: stays where it is.
    const yesterday = addDays(today(), -1);
    const fetched = await ensurePaper(t.ctx, '2611.90005', t.ctx.log);
    assert.ok(fetched.ok);
    await t.ctx.database.db
      .insertInto('featured')
      .values({ paper_id: fetched.paper.id, featured_on: yesterday, source: 'rule', featured_by: 'rule:categories', featured_at: `${yesterday}T00:00:00.000Z`, hidden_at: null, hidden_by: null })
      .execute();
    const ruled = await submitApi(alice, { id: '2611.90005' });
    assert.equal(ruled.statusCode, 409);
    assert.equal(message(ruled), `arXiv:2611.90005 is already in the daily papers of ${yesterday}.`);
    assert.equal((await featuredRow(t, '2611.90005'))?.source, 'rule');

    // Taken off the feed by a curator: a submission does not bring it back.
    assert.equal(await unfeaturePaper(t.ctx.database, '2611.90003', 'curator-cy'), true);
    const hidden = await submitApi(bob, { id: '2611.90003' });
    assert.equal(hidden.statusCode, 409);
    assert.match(message(hidden), /a curator took it off; curators decide whether it comes back/);
    const row = await featuredRow(t, '2611.90003');
    assert.equal(row?.featured_by, 'alice');
    assert.notEqual(row?.hidden_at, null);
  });

  test('two people submitting the same new paper at once: one wins, the other gets 409', async () => {
    const results = await Promise.all([submitApi(alice, { id: '2611.90006' }), submitApi(bob, { id: '2611.90006' })]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 409]);
    const winner = results.find((r) => r.statusCode === 201)?.json() as DailyItem;
    assert.equal((await featuredRow(t, '2611.90006'))?.featured_by, winner.submittedBy.name);
  });

  test('too old: 422 saying the limit and the paper\'s date; old-style ids and URLs are understood', async () => {
    const res = await submitApi(alice, { id: '1707.08567' });
    assert.equal(res.statusCode, 422);
    assert.match(message(res), /^Papers can be submitted within 14 days of their first version; arXiv:1707\.08567 was first submitted on 2017-07-27, \d+ days ago\.$/);
    assert.equal(await stored(t, '1707.08567'), true, 'fetched and kept, like any fetched paper');
    assert.equal(await featuredRow(t, '1707.08567'), undefined);

    const old = await submitForm(t, alice, 'https://export.arxiv.org/abs/astro-ph/0601001v1');
    assert.equal(old.statusCode, 422);
    assert.match(old.body, /within 14 days of their first version; arXiv:astro-ph\/0601001 was first submitted on 2006-01-02/);
    assert.match(old.body, /<a href="\/papers\/astro-ph\/0601001">Go to arXiv:astro-ph\/0601001<\/a>/);
    assert.match(old.body, /value="https:\/\/export\.arxiv\.org\/abs\/astro-ph\/0601001v1"/, 'the form keeps what was typed');
    assert.equal(await featuredRow(t, 'astro-ph/0601001'), undefined);
  });

  test('malformed input: 400 with a clear message, arXiv is not asked', async () => {
    const asked = server.requests.length;
    const words = await submitApi(alice, { id: 'attention is all you need' });
    assert.equal(words.statusCode, 400);
    assert.equal(words.json().error, 'invalid_request');
    assert.match(message(words), /^"attention is all you need" is not an arXiv id or arXiv URL: give an arXiv id such as 2401\.01234/);
    const elsewhere = await submitApi(alice, { id: 'https://example.org/abs/2401.01234' });
    assert.equal(elsewhere.statusCode, 400);
    assert.match(message(elsewhere), /is not an arXiv id or arXiv URL/);

    for (const [payload, problem] of [
      [{}, /id: is required/],
      [{ id: 42 }, /id: is required: an arXiv id or arxiv\.org URL/],
      [{ id: '2611.90010', extra: true }, /unknown parameter extra/],
    ] as const) {
      const res = await submitApi(alice, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(message(res), problem);
    }
    const query = await alice.inject({ method: 'POST', url: '/api/papers/submit?id=2611.90010', payload: { id: '2611.90010' } });
    assert.equal(query.statusCode, 400);

    const form = await submitForm(t, alice, 'hep-th/99');
    assert.equal(form.statusCode, 400);
    assert.match(form.body, /&quot;hep-th\/99&quot; is not an arXiv id or arXiv URL/);
    assert.match(form.body, /name="id" type="text" value="hep-th\/99"/);
    const empty = await submitForm(t, alice, '   ');
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Nothing to submit/);

    assert.equal(server.requests.length, asked);
    assert.equal(await stored(t, '2611.90010'), false);
  });

  test('arXiv has no such paper: 404 saying so, nothing stored', async () => {
    const res = await submitApi(alice, { id: UNKNOWN });
    assert.equal(res.statusCode, 404);
    assert.equal(message(res), `arXiv has no paper with the id ${UNKNOWN}.`);
    assert.equal(await stored(t, UNKNOWN), false);
    const form = await submitForm(t, alice, `arXiv:${UNKNOWN}`);
    assert.equal(form.statusCode, 404);
    assert.match(form.body, /arXiv has no paper with the id 2611\.00001/);
  });

  test('who may submit: nobody anonymous (401, or log in), no read token (403), no session request without CSRF (403)', async () => {
    const asked = server.requests.length;
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/papers/submit', payload: { id: '2611.90020' } });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().error, 'unauthorized');
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);

    const browser = await browserCsrf(t.app);
    const anonymousForm = await postForm(t, browser.cookie, { _csrf: browser.csrf, id: '2611.90020' });
    assert.equal(anonymousForm.statusCode, 303);
    assert.match(String(anonymousForm.headers.location), /^\/login\?next=/);

    const unknownToken = await submitWithToken(t, 'pb_not-a-token', { id: '2611.90020' });
    assert.equal(unknownToken.statusCode, 401);
    const readOnly = await submitWithToken(t, await alice.token('read'), { id: '2611.90020' });
    assert.equal(readOnly.statusCode, 403);
    assert.match(message(readOnly), /read-only/);

    const noHeader = await t.app.inject({
      method: 'POST',
      url: '/api/papers/submit',
      headers: { cookie: alice.cookie },
      payload: { id: '2611.90020' },
      remoteAddress: address(),
    });
    assert.equal(noHeader.statusCode, 403);
    assert.match(message(noHeader), /could not be verified/);
    const wrongHeader = await t.app.inject({
      method: 'POST',
      url: '/api/papers/submit',
      headers: { cookie: alice.cookie, 'x-csrf-token': 'not-the-token' },
      payload: { id: '2611.90021' },
      remoteAddress: address(),
    });
    assert.equal(wrongHeader.statusCode, 403);
    const noField = await postForm(t, alice.cookie, { id: '2611.90022' });
    assert.equal(noField.statusCode, 403);
    assert.match(noField.body, /could not be verified/);

    assert.equal(server.requests.length, asked, 'arXiv was not asked');
    assert.equal((await submitApi(alice, { id: '2611.90020' })).statusCode, 201, 'the same session with its CSRF header may');
    assert.equal((await featuredRow(t, '2611.90020'))?.featured_by, 'alice');
    assert.equal(await stored(t, '2611.90021'), false);
    assert.equal(await stored(t, '2611.90022'), false);
  });

  test('GET never submits', async () => {
    const count = async () => (await t.ctx.database.db.selectFrom('featured').select('paper_id').execute()).length;
    const before = await count();
    const asked = server.requests.length;
    assert.equal((await alice.inject({ url: '/api/papers/submit?id=2611.90030' })).statusCode, 400);
    assert.equal((await alice.inject({ url: '/papers/submit?id=2611.90030' })).statusCode, 200);
    assert.equal(await count(), before);
    assert.equal(server.requests.length, asked);
  });

  test('the OpenAPI document describes the endpoint', async () => {
    const doc = (await t.app.inject('/api/openapi.json')).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown>; security?: unknown }>>;
    };
    const op = doc.paths['/api/papers/submit']?.post;
    assert.ok(op, 'POST /api/papers/submit is documented');
    assert.ok(op.requestBody);
    assert.ok(op.security);
    for (const status of ['201', '400', '401', '403', '404', '409', '422', '429', '503']) assert.ok(op.responses[status], status);
    assert.equal(op.responses['200'], undefined, 'a submission answers 201, not 200');
    assert.deepEqual(op.requestBody, {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            description: 'The paper to submit.',
            properties: {
              id: {
                type: 'string',
                maxLength: 2000,
                examples: ['2401.01234', 'https://arxiv.org/abs/2401.01234v2', 'hep-th/9901001'],
                description: 'arXiv id (new or old style, version optional) or its arxiv.org abs or pdf URL.',
              },
            },
            required: ['id'],
            additionalProperties: false,
          },
        },
      },
    });

    const docs = await t.app.inject('/api/docs');
    assert.match(docs.body, /<code>POST \/api\/papers\/submit<\/code>/);
    assert.match(docs.body, /curl -X POST 'http:\/\/localhost:3000\/api\/papers\/submit' -H 'Authorization: Bearer &lt;token&gt;' -H 'Content-Type: application\/json' -d '\{&quot;id&quot;:&quot;2401.01234&quot;\}'/);
    assert.match(docs.body, /<p><code>201<\/code>: <code><a href="#schema-DailyPaper">DailyPaper<\/a><\/code><\/p>/);
  });
});

test('submissions are rate-limited per person, across addresses and tokens', { skip: shared.skip }, async () => {
  const server = await fixtureArxiv();
  const t = await emptyApp({ ARXIV_API_URL: server.apiUrl, ARXIV_MIN_INTERVAL_MS: '0', RATE_LIMIT_SUBMIT: '2' });
  try {
    const carol = await signedInUser(t.ctx, t.app, { username: 'carol' });
    const dave = await signedInUser(t.ctx, t.app, { username: 'dave' });
    const token = await carol.token('write');
    // Refused submissions count too: the limit guards arXiv lookups and the feed alike.
    assert.equal((await submitApi(carol, { id: 'nonsense' })).statusCode, 400);
    assert.equal((await submitWithToken(t, token, { id: '2611.90101' })).statusCode, 201);
    const limited = await submitWithToken(t, token, { id: '2611.90102' });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(limited.json().error, 'rate_limited');
    const form = await submitForm(t, carol, '2611.90102');
    assert.equal(form.statusCode, 429);
    assert.match(form.body, /Too many requests/);
    assert.equal(await stored(t, '2611.90102'), false);
    // Someone else is not held back by carol's submissions.
    assert.equal((await submitApi(dave, { id: '2611.90102' })).statusCode, 201);
  } finally {
    await t.close();
    await server.close();
  }
});

test('arXiv unreachable: 503 with Retry-After, nothing stored or featured', { skip: shared.skip }, async () => {
  const port = await freePort();
  const t = await emptyApp({ ARXIV_API_URL: `http://127.0.0.1:${port}/api/query`, ARXIV_MIN_INTERVAL_MS: '0' });
  try {
    const erin = await signedInUser(t.ctx, t.app, { username: 'erin' });
    const res = await submitApi(erin, { id: '2611.90201' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '60');
    assert.match(message(res), /arXiv cannot be reached from this server right now/);
    const form = await submitForm(t, erin, '2611.90201');
    assert.equal(form.statusCode, 503);
    assert.equal(form.headers['retry-after'], '60');
    assert.equal(await stored(t, '2611.90201'), false);
  } finally {
    await t.close();
  }
});
