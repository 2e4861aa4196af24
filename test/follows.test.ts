/**
 * Follows and the Following feed through HTTP, on both engines: each kind of
 * follow (author, category, user, keyword) brings its papers with the right
 * reasons, a paper matching several follows shows them all, old, withdrawn
 * and privately collected papers stay out; validation and limits; the forms
 * without JavaScript; the API (idempotent follow, another's follow is 404);
 * the secret RSS feed and its rotation.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { importPaths } from '../src/ingest/import.js';
import { MAX_FOLLOWS, MAX_KEYWORD_FOLLOWS } from '../src/people/follows.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';
import { run } from './support/database.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const DAY = 86_400_000;
const ZOE = "Zoë O'Brien-Núñez";

interface Reason {
  kind: string;
  target: string;
  text: string;
}
interface FeedPage {
  items: { paper: { id: string }; day: string; reasons: Reason[] }[];
  next: string | null;
}
interface FollowJson {
  id: number;
  kind: string;
  target: string;
  label: string;
  createdAt: string;
}

function record(id: string, daysAgo: number, authors: string, categories: string, title: string): string {
  const created = new Date(Date.now() - daysAgo * DAY).toUTCString();
  return JSON.stringify({ id, authors, title, categories, abstract: `About ${title.toLowerCase()}.`, versions: [{ version: 'v1', created }] });
}

/** The papers of the tests: recent ones of every kind of follow, one old, one withdrawn. */
const PAPERS = [
  record('2601.00001', 3, `${ZOE} and Bob Builder`, 'cs.LG stat.ML', 'Diffusion models for cats'),
  record('2601.00002', 5, 'Carol Chem', 'math.CO', 'Graph colourings'),
  record('2601.00003', 4, 'Dan Dune', 'astro-ph.GA', 'Quasars at noon'),
  record('2601.00004', 6, 'Eve Echo', 'hep-th', 'Strings attached'),
  record('2601.00005', 7, 'Finn Fox', 'quant-ph', 'Entangled foxes'),
  record('2601.00006', 8, 'Gus Gale', 'nucl-th', 'Private nuclei'),
  record('2601.00007', 9, ZOE, 'cs.LG', 'A withdrawn result'),
  record('2601.00009', 2, 'Hal Hue', 'physics.flu-dyn', 'Diffusion in porous media'),
  record('2001.00008', 2000, ZOE, 'cs.LG', 'An old paper'),
];

function json<T>(res: LightMyRequestResponse, status = 200): T {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return res.json<T>();
}

function form(user: TestUser, url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return user.inject({ method: 'POST', url, headers: { ...FORM }, payload: new URLSearchParams({ ...fields, _csrf: user.csrf }).toString() });
}

async function feed(user: TestUser, query = ''): Promise<FeedPage> {
  const res = await user.inject({ url: `/api/following${query}` });
  assert.equal(res.headers['cache-control'], 'private, no-store');
  return json<FeedPage>(res);
}

const idsOf = (page: FeedPage): string[] => page.items.map((i) => i.paper.id);
const reasonsOf = (page: FeedPage, id: string): string[] => page.items.find((i) => i.paper.id === id)?.reasons.map((r) => r.text) ?? [];

describe('follows and the Following feed', () => {
  let t: TestApp;
  let ada: TestUser;

  before(async () => {
    t = await emptyApp({ RATE_LIMIT_WRITE: '10000', ARXIV_CATEGORIES: 'cs.LG' });
    const file = join(tempDataDir('paperboy-follows-'), 'papers.jsonl');
    writeFileSync(file, `${PAPERS.join('\n')}\n`);
    await importPaths(t.ctx.database, [file]);
    const { db } = t.ctx.database;
    await db.updateTable('papers').set({ withdrawn: 1 }).where('arxiv_id', '=', '2601.00007').execute();
    ada = await signedInUser(t.ctx, t.app, { username: 'ada' });
    const paperId = async (arxivId: string): Promise<number> =>
      (await db.selectFrom('papers').select('id').where('arxiv_id', '=', arxivId).executeTakeFirstOrThrow()).id;
    const now = new Date().toISOString();
    // What ada did: submitted one paper, is the verified author of one, keeps two collections.
    await db
      .insertInto('featured')
      .values({ paper_id: await paperId('2601.00003'), featured_on: now.slice(0, 10), source: 'submission', featured_by: 'ada', featured_at: now })
      .execute();
    await db
      .insertInto('author_claims')
      .values({ paper_id: await paperId('2601.00004'), user_id: ada.viewer.id, author_name: 'Eve Echo', status: 'verified', created_at: now })
      .execute();
    for (const [isPublic, papers] of [
      [1, ['2601.00005']],
      [0, ['2601.00006', '2601.00001']],
    ] as const) {
      const { id } = await db
        .insertInto('collections')
        .values({ user_id: ada.viewer.id, name: isPublic ? 'Open list' : 'Secret list', is_public: isPublic, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      let position = 0;
      for (const arxivId of papers) {
        await db.insertInto('collection_papers').values({ collection_id: id, paper_id: await paperId(arxivId), position: position++, added_at: now }).execute();
      }
    }
  });
  after(() => t.close());

  test('each kind of follow brings its papers, newest first, with every reason; old, withdrawn and private papers stay out', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    const author = json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'author', target: ZOE } }), 201);
    assert.equal(author.label, ZOE);
    const again = json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'author', target: ` ${ZOE} ` } }), 200);
    assert.equal(again.id, author.id, 'following again is the same follow');

    const viaForm = await form(reader, '/following', { kind: 'category', target: 'cs.LG', next: '/c/cs.LG' });
    assert.equal(viaForm.statusCode, 303, viaForm.body);
    assert.equal(viaForm.headers.location, '/c/cs.LG');
    const user = json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'user', target: 'ADA' } }), 201);
    assert.deepEqual([user.target, user.label], [String(ada.viewer.id), 'ada'], 'a user is stored by id, shown by name');
    json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'keyword', target: 'diffusion' } }), 201);

    const follows = json<FollowJson[]>(await reader.inject({ url: '/api/follows' }));
    assert.deepEqual(follows.map((f) => f.kind), ['author', 'category', 'user', 'keyword']);

    const page = await feed(reader);
    assert.deepEqual([...idsOf(page)].sort(), ['2601.00001', '2601.00003', '2601.00004', '2601.00005', '2601.00009']);
    // Newest first: by day (announcement days group weekend submissions), then the newest addition.
    const keys = page.items.map((i) => `${i.day} ${i.paper.id}`);
    assert.deepEqual(keys, [...keys].sort().reverse());
    assert.equal(idsOf(page)[0], '2601.00009');
    assert.deepEqual(reasonsOf(page, '2601.00001'), [`by an author you follow: ${ZOE}`, 'in cs.LG', "matches your search 'diffusion'"]);
    assert.deepEqual(reasonsOf(page, '2601.00009'), ["matches your search 'diffusion'"]);
    assert.deepEqual(reasonsOf(page, '2601.00003'), ['from ada (submitted)']);
    assert.deepEqual(reasonsOf(page, '2601.00004'), ['from ada (verified author)']);
    assert.deepEqual(reasonsOf(page, '2601.00005'), ['from ada (in a public collection)']);
    for (const item of page.items) assert.match(item.day, /^\d{4}-\d{2}-\d{2}$/);

    // Keyset pages add up to the whole feed.
    const seen: string[] = [];
    let next: string | null = '';
    while (next !== null) {
      const p: FeedPage = await feed(reader, `?limit=2${next ? `&before=${encodeURIComponent(next)}` : ''}`);
      assert.ok(p.items.length <= 2);
      seen.push(...idsOf(p));
      next = p.next;
    }
    assert.deepEqual(seen, idsOf(page));

    const html = await reader.inject({ url: '/following' });
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['cache-control']), /^private/);
    assert.match(html.body, /<strong>Why:<\/strong> <span>by an author you follow: Zoë O&#39;Brien-Núñez<\/span>; <span>in cs.LG<\/span>/);
    assert.match(html.body, /href="\/authors\/Zo%C3%AB%20O&#39;Brien-N%C3%BA%C3%B1ez"/);
    assert.match(html.body, /href="\/u\/ada">ada<\/a>/);
    assert.doesNotMatch(html.body, /Private nuclei|A withdrawn result|An old paper/);
  });

  test('unfollowing through the form takes the papers out of the feed', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    assert.equal((await form(reader, '/following', { kind: 'category', target: 'math' })).statusCode, 303);
    assert.deepEqual(idsOf(await feed(reader)), ['2601.00002']);
    assert.deepEqual(reasonsOf(await feed(reader), '2601.00002'), ['in math']);
    const page = await reader.inject({ url: '/following' });
    assert.match(page.body, /<form method="post" action="\/following\/remove"/);
    const removed = await form(reader, '/following/remove', { kind: 'category', target: 'math', next: '/following' });
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/following');
    assert.deepEqual(idsOf(await feed(reader)), []);
    // Unfollowing again changes nothing.
    assert.equal((await form(reader, '/following/remove', { kind: 'category', target: 'math' })).statusCode, 303);
    assert.match((await reader.inject({ url: '/following' })).body, /You follow nothing yet/);
  });

  test('a paper only in a followed person\'s private collection never shows "from" them', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'user', target: String(ada.viewer.id) } }), 201);
    const page = await feed(reader);
    assert.ok(!idsOf(page).includes('2601.00006'));
    assert.ok(!idsOf(page).includes('2601.00001'), 'in a private collection only');
    const rss = await t.app.inject({ url: '/following/feed/x.rss' });
    assert.equal(rss.statusCode, 404);
  });

  test('what cannot be followed is refused with a reason, through the API and the form', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    const refused = async (payload: unknown, status: number, message: RegExp): Promise<void> => {
      const res = await reader.inject({ method: 'POST', url: '/api/follows', payload: payload as Record<string, unknown> });
      const body = json<{ error: string; message: string }>(res, status);
      assert.match(body.message, message);
    };
    await refused({ kind: 'band', target: 'x' }, 400, /kind: must be author, category, user or keyword/);
    await refused({ kind: 'author' }, 400, /target/);
    await refused({ kind: 'author', target: 'x', extra: 1 }, 400, /unknown parameter extra/);
    await refused({ kind: 'author', target: 'Nobody Atall' }, 422, /No paper in this instance has an author named "Nobody Atall"/);
    await refused({ kind: 'author', target: '   ' }, 400, /Give the author/);
    await refused({ kind: 'author', target: 'x'.repeat(201) }, 400, /at most 200/);
    await refused({ kind: 'category', target: 'cs.NOPE' }, 422, /"cs.NOPE" is no arXiv category/);
    await refused({ kind: 'user', target: 'nobody-here' }, 422, /There is no user nobody-here/);
    await refused({ kind: 'user', target: reader.viewer.username }, 422, /cannot follow yourself/);
    await refused({ kind: 'user', target: String(reader.viewer.id) }, 422, /cannot follow yourself/);
    await refused({ kind: 'keyword', target: 'x' }, 400, /2 to 100 characters/);
    await refused({ kind: 'keyword', target: '-survey -review' }, 422, /no searchable terms/);
    assert.deepEqual(json<FollowJson[]>(await reader.inject({ url: '/api/follows' })), []);

    const page = await form(reader, '/following', { kind: 'keyword', target: '-only -exclusions' });
    assert.equal(page.statusCode, 422);
    assert.match(page.body, /role="alert" id="following-problem"><p>&quot;-only -exclusions&quot; cannot be searched/);
    assert.match(page.body, /name="target" type="search" value="-only -exclusions"/, 'the form keeps what was typed');
    assert.equal((await form(reader, '/following', { kind: 'sideways', target: 'x' })).statusCode, 400);
    assert.equal((await form(reader, '/following', { kind: 'author', target: 'Nobody Atall' })).statusCode, 422);
  });

  test('at most MAX_FOLLOWS follows and MAX_KEYWORD_FOLLOWS keyword searches per person', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    const now = new Date().toISOString();
    const rowsOf = (kind: 'author' | 'keyword', n: number) =>
      Array.from({ length: n }, (_, i) => ({ user_id: reader.viewer.id, kind, target: `${kind} ${i}`, created_at: now }));
    await t.ctx.database.db.insertInto('follows').values(rowsOf('keyword', MAX_KEYWORD_FOLLOWS)).execute();
    const keyword = await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'keyword', target: 'diffusion' } });
    assert.match(json<{ message: string }>(keyword, 409).message, /50 keyword searches already/);
    json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'category', target: 'math' } }), 201);
    await t.ctx.database.db.insertInto('follows').values(rowsOf('author', MAX_FOLLOWS - MAX_KEYWORD_FOLLOWS - 1)).execute();
    const full = await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'category', target: 'cs.LG' } });
    assert.match(json<{ message: string }>(full, 409).message, /You follow 500 things already/);
    // Following what is already followed still answers.
    json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'category', target: 'math' } }), 200);
  });

  test('a follow is deleted by its owner only; others get 404; tokens need the write scope', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    const other = await signedInUser(t.ctx, t.app);
    const mine = json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'category', target: 'hep-th' } }), 201);
    const res = await other.inject({ method: 'DELETE', url: `/api/follows/${mine.id}` });
    assert.equal(json<{ error: string }>(res, 404).error, 'not_found');
    const otherToken = await other.token('write');
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/follows/${mine.id}`, headers: { authorization: `Bearer ${otherToken}` } })).statusCode, 404);
    assert.equal(json<FollowJson[]>(await reader.inject({ url: '/api/follows' })).length, 1, 'still there');

    const readToken = await reader.token('read');
    const readOnly = await t.app.inject({ method: 'POST', url: '/api/follows', headers: { authorization: `Bearer ${readToken}` }, payload: { kind: 'category', target: 'math' } });
    assert.equal(readOnly.statusCode, 403);
    const listed = await t.app.inject({ url: '/api/follows', headers: { authorization: `Bearer ${readToken}` } });
    assert.equal(json<FollowJson[]>(listed).length, 1);

    assert.equal((await reader.inject({ method: 'DELETE', url: `/api/follows/${mine.id}` })).statusCode, 204);
    assert.equal((await reader.inject({ method: 'DELETE', url: `/api/follows/${mine.id}` })).statusCode, 404);
    assert.equal((await reader.inject({ method: 'DELETE', url: '/api/follows/abc' })).statusCode, 400);
    assert.equal((await reader.inject({ url: '/api/following?before=yesterday' })).statusCode, 400);
    assert.equal((await reader.inject({ url: '/api/following?limit=0' })).statusCode, 400);

    assert.equal((await t.app.inject({ url: '/api/follows' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/api/following' })).statusCode, 401);
    const page = await t.app.inject({ url: '/following' });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/login?next=%2Ffollowing');
  });

  test('cached category pages link to a confirm button; next must stay on this site', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    const category = await t.app.inject({ url: '/c/cs.LG' });
    assert.equal(category.statusCode, 200);
    assert.match(category.body, /<a href="\/following\?follow=category%3Acs.LG">Follow cs.LG<\/a>/);

    const confirm = await reader.inject({ url: '/following?follow=category%3Acs.LG' });
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /<h2 id="confirm-h">Follow cs.LG\?<\/h2>/);
    assert.match(confirm.body, /name="target" value="cs.LG"/);
    const done = await form(reader, '/following', { kind: 'category', target: 'cs.LG', next: 'https://evil.example/' });
    assert.equal(done.headers.location, '/following');
    assert.match((await reader.inject({ url: '/following?follow=category:cs.LG' })).body, /You follow cs.LG already/);
    const bad = await reader.inject({ url: '/following?follow=nonsense' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /names nothing to follow/);
    assert.equal((await reader.inject({ url: '/following?before=nope' })).statusCode, 400);
  });

  test('the secret RSS feed: made and rotated from the page, opened by its secret alone, with the reasons', async () => {
    const reader = await signedInUser(t.ctx, t.app);
    json<FollowJson>(await reader.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'author', target: ZOE } }), 201);
    assert.match((await reader.inject({ url: '/following' })).body, /Create a secret feed address/);
    const made = await form(reader, '/following/feed-token', {});
    assert.equal(made.statusCode, 303);
    assert.equal(made.headers.location, '/following#feed');
    const urlOf = async (): Promise<string> => {
      const match = /id="f-feed-url" type="text" readonly value="http[^"]*?(\/following\/feed\/[A-Za-z0-9_-]{43}\.rss)"/.exec((await reader.inject({ url: '/following' })).body);
      assert.ok(match?.[1], 'the page shows the address');
      return match[1];
    };
    const first = await urlOf();
    const rss = await t.app.inject({ url: first });
    assert.equal(rss.statusCode, 200);
    assert.match(String(rss.headers['content-type']), /^application\/rss\+xml/);
    assert.equal(rss.headers['cache-control'], 'private');
    assert.match(rss.body, /<title>Diffusion models for cats<\/title>/);
    assert.match(rss.body, /Why: by an author you follow: Zoë O&amp;#39;Brien-Núñez/);
    assert.doesNotMatch(rss.body, /An old paper/);

    assert.equal((await form(reader, '/following/feed-token', {})).statusCode, 303);
    const second = await urlOf();
    assert.notEqual(second, first);
    assert.equal((await t.app.inject({ url: first })).statusCode, 404, 'rotation ends the old address');
    assert.equal((await t.app.inject({ url: second })).statusCode, 200);
    assert.equal((await t.app.inject({ url: `/following/feed/${'A'.repeat(43)}.rss` })).statusCode, 404);
    assert.equal((await t.app.inject({ url: second.replace('.rss', '.atom') })).statusCode, 404);
    const anonymous = await t.app.inject({ method: 'POST', url: '/following/feed-token' });
    assert.match(String(anonymous.headers.location), /^\/login/, 'rotation needs a session');
    const forged = await reader.inject({ method: 'POST', url: '/following/feed-token', headers: { ...FORM, 'x-csrf-token': 'forged' }, payload: '_csrf=forged' });
    assert.equal(forged.statusCode, 403, 'and its CSRF token');
    assert.equal((await t.app.inject({ url: second })).statusCode, 200, 'refusals change nothing');
    await run(t.ctx.database, sql`DELETE FROM users WHERE id = ${reader.viewer.id}`);
    assert.equal((await t.app.inject({ url: second })).statusCode, 404, 'an account deleted takes its feed along');
  });

  test('the OpenAPI document describes the follow endpoints', async () => {
    const doc = json<{ paths: Record<string, Record<string, { security?: unknown[] }>>; components: { schemas: Record<string, unknown> } }>(
      await t.app.inject('/api/openapi.json'),
    );
    assert.deepEqual(Object.keys(doc.paths['/api/follows'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/api/follows/{id}'] ?? {}), ['delete']);
    assert.deepEqual(Object.keys(doc.paths['/api/following'] ?? {}), ['get']);
    for (const name of ['Follow', 'FollowingPage', 'FollowingItem', 'FollowReason']) assert.ok(doc.components.schemas[name], name);
  });
});
