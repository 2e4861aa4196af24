/**
 * For you, "not interested" and muted keywords through HTTP, on both
 * engines: without an embedding model For you works from follows and shared
 * authors and categories and says ranking by meaning is not ready; with one,
 * papers like the ones upvoted or saved come first with "Similar to …"
 * reasons; "not interested" and muted keywords take papers out of For you,
 * the daily feed, search and the digest for that person only; nobody can
 * read or change another's mutes; CSRF; the API; the secret feeds.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { newSecret } from '../src/accounts/secrets.js';
import { activateModel, createModel, writeVectors } from '../src/db/vector-store.js';
import type { DigestSelection } from '../src/digests/content.js';
import { createRun } from '../src/digests/runs.js';
import { renderDigest } from '../src/digests/render.js';
import { importPaths } from '../src/ingest/import.js';
import { normalize } from '../src/semantic/embedder.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const DAY = 86_400_000;

interface Reason {
  kind: string;
  text: string;
  like?: { id: string; title: string };
}
interface ForYouJson {
  items: { paper: { id: string; title: string }; day: string; score: number; reasons: Reason[] }[];
  semantic: string;
  windowDays: number;
  referenceDay: string;
}

/** Papers of one topic share a direction of the test's vectors. */
const TOPICS = { diffusion: [1, 0, 0, 0], quantum: [0, 1, 0, 0], graphs: [0, 0, 1, 0] } as const;
type Topic = keyof typeof TOPICS;

interface TestPaper {
  id: string;
  title: string;
  authors: string;
  topic: Topic;
  abstract: string;
}

const PAPERS: TestPaper[] = [
  { id: '2601.20001', title: 'Diffusion models for images', authors: 'Ann Able and Bo Brook', topic: 'diffusion', abstract: 'Denoising diffusion for pictures.' },
  { id: '2601.20002', title: 'Faster diffusion sampling', authors: 'Cy Cole', topic: 'diffusion', abstract: 'Fewer steps for diffusion samplers.' },
  { id: '2601.20003', title: 'Diffusion for audio', authors: 'Di Dale', topic: 'diffusion', abstract: 'Score matching for sound.' },
  { id: '2601.20004', title: 'Latent diffusion at scale', authors: 'Ed Eve', topic: 'diffusion', abstract: 'Large latent models.' },
  { id: '2601.20005', title: 'A survey of diffusion models', authors: 'Fay Fox', topic: 'diffusion', abstract: 'We review the field.' },
  { id: '2601.20006', title: 'Qubits in the wild', authors: 'Gil Gray', topic: 'quantum', abstract: 'Quantum error correction in practice.' },
  { id: '2601.20007', title: 'Entangled photons', authors: 'Hal Hale', topic: 'quantum', abstract: 'Photonic entanglement.' },
  { id: '2601.20008', title: 'Graph colouring heuristics', authors: 'Carol Graph', topic: 'graphs', abstract: 'Greedy colourings.' },
  { id: '2601.20009', title: 'Spectral graph partitioning', authors: 'Ivy Ince', topic: 'graphs', abstract: 'Eigenvectors cut graphs.' },
];

function record(p: TestPaper): string {
  const created = new Date(Date.now() - 2 * DAY).toUTCString();
  return JSON.stringify({ id: p.id, authors: p.authors, title: p.title, categories: 'cs.LG', abstract: p.abstract, versions: [{ version: 'v1', created }] });
}

/** A unit vector near the paper's topic, a little different per paper. */
function vectorOf(p: TestPaper, i: number): Float32Array {
  const v = Float32Array.from(TOPICS[p.topic]);
  v[3] = 0.05 * (i % 3);
  v[(i + 1) % 3] = (v[(i + 1) % 3] ?? 0) + 0.05;
  return normalize(v);
}

function json<T>(res: LightMyRequestResponse, status = 200): T {
  assert.equal(res.statusCode, status, res.body);
  return res.json<T>();
}

function form(user: TestUser, url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return user.inject({ method: 'POST', url, headers: { ...FORM }, payload: new URLSearchParams({ ...fields, _csrf: user.csrf }).toString() });
}

const titleOf = (id: string): string => PAPERS.find((p) => p.id === id)?.title ?? id;

describe('For you, not interested and muted keywords', () => {
  let t: TestApp;
  const paperIds = new Map<string, number>();

  async function forYouOf(user: TestUser): Promise<ForYouJson> {
    const res = await user.inject({ url: '/api/for-you?limit=20' });
    assert.equal(res.headers['cache-control'], 'private, no-store');
    return json<ForYouJson>(res);
  }
  const ids = (page: ForYouJson): string[] => page.items.map((i) => i.paper.id);
  const reasons = (page: ForYouJson, id: string): string[] => page.items.find((i) => i.paper.id === id)?.reasons.map((r) => r.text) ?? [];

  async function upvote(user: TestUser, id: string): Promise<void> {
    assert.equal((await user.inject({ method: 'POST', url: `/api/papers/${id}/upvote` })).statusCode, 200);
  }

  /** A reader who upvoted the first diffusion paper, saved the second and follows Carol Graph. */
  async function reader(): Promise<TestUser> {
    const user = await signedInUser(t.ctx, t.app);
    await upvote(user, '2601.20001');
    const made = json<{ id: number }>(await user.inject({ method: 'POST', url: '/api/collections', payload: { name: 'Reading list' } }), 201);
    assert.ok([200, 201].includes((await user.inject({ method: 'POST', url: `/api/collections/${made.id}/papers/2601.20002`, payload: {} })).statusCode));
    json(await user.inject({ method: 'POST', url: '/api/follows', payload: { kind: 'author', target: 'Carol Graph' } }), 201);
    return user;
  }

  let modelReady = false;
  async function withModel(): Promise<void> {
    if (modelReady) return;
    const { database } = t.ctx;
    const model = await createModel(database, { embedder: 'test', fingerprint: 'for-you-test', dimensions: 4, corpusSize: 0, state: null });
    await writeVectors(database, model.id, PAPERS.map((p, i) => ({ paperId: paperIds.get(p.id) ?? 0, vector: vectorOf(p, i) })));
    await activateModel(database, model.id);
    modelReady = true;
  }

  before(async () => {
    t = await emptyApp({ RATE_LIMIT_WRITE: '10000', ARXIV_CATEGORIES: 'cs.LG' });
    const file = join(tempDataDir('paperboy-for-you-'), 'papers.jsonl');
    writeFileSync(file, `${PAPERS.map(record).join('\n')}\n`);
    await importPaths(t.ctx.database, [file]);
    const { applyCategoryRule } = await import('../src/feeds/featuring.js');
    await applyCategoryRule(t.ctx.database, t.ctx.config.arxivCategories);
    for (const r of await t.ctx.database.db.selectFrom('papers').select(['id', 'arxiv_id']).execute()) paperIds.set(r.arxiv_id, r.id);
  });
  after(() => t.close());

  test('without a model: follows and shared categories, and a note that ranking by meaning is not ready', async () => {
    const user = await reader();
    const page = await forYouOf(user);
    assert.equal(page.semantic, 'no-model');
    assert.ok(!ids(page).includes('2601.20001') && !ids(page).includes('2601.20002'), 'what I upvoted or saved is not recommended back');
    assert.equal(reasons(page, '2601.20008')[0], 'By an author you follow: Carol Graph');
    assert.ok(ids(page).length >= 3, ids(page).join());
    const html = await user.inject({ url: '/for-you' });
    assert.equal(html.statusCode, 200);
    assert.match(html.body, /Ranking by meaning is not ready yet/);
    assert.match(html.body, /By an author you follow: Carol Graph/);
  });

  test('with a model: "Similar to …" reasons, similar papers first, near-duplicates spread out', async () => {
    await withModel();
    const user = await reader();
    const page = await forYouOf(user);
    assert.equal(page.semantic, 'ready');
    const top = ids(page).slice(0, 3);
    assert.ok(top.includes('2601.20003') && top.includes('2601.20004'), `diffusion papers first: ${ids(page).join()}`);
    const similar = page.items.find((i) => i.paper.id === '2601.20003')?.reasons[0];
    assert.match(similar?.text ?? '', /^Similar to “(Diffusion models for images”, which you upvoted|Faster diffusion sampling”, which you saved in Reading list)$/);
    assert.ok(similar?.like !== undefined);
    assert.ok(reasons(page, '2601.20008').includes('By an author you follow: Carol Graph'));

    const html = await user.inject({ url: '/for-you' });
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['cache-control']), /^private/);
    assert.match(html.body, /<strong>Why:<\/strong> <span class="reason">Similar to “/);
    assert.match(html.body, /<form method="post" action="\/for-you\/not-interested"/);
    assert.doesNotMatch(html.body, /Ranking by meaning is not ready/);
  });

  test('signed out: a prompt to sign in; the API says 401', async () => {
    const page = await t.app.inject({ url: '/for-you' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /href="\/login\?next=%2Ffor-you"/);
    assert.equal((await t.app.inject({ url: '/api/for-you' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/api/muted-keywords' })).statusCode, 401);
    assert.equal((await t.app.inject({ url: '/settings/muted' })).statusCode, 303);
    assert.match((await t.app.inject({ url: '/papers' })).body, /href="\/for-you">For you<\/a>/);
  });

  test('not interested leaves For you, the daily feed, search and the digest for that person only; show again undoes it', async () => {
    await withModel();
    const user = await reader();
    const other = await signedInUser(t.ctx, t.app);
    const target = '2601.20003';
    assert.ok(ids(await forYouOf(user)).includes(target));

    const dismissed = await form(user, '/for-you/not-interested', { paper: target, next: '/for-you' });
    assert.equal(dismissed.statusCode, 303);
    assert.equal(dismissed.headers.location, `/for-you?dismissed=${target}`);
    const undoPage = await user.inject({ url: String(dismissed.headers.location) });
    assert.match(undoPage.body, /action="\/for-you\/show-again"/);

    assert.ok(!ids(await forYouOf(user)).includes(target));
    const title = titleOf(target);
    const daily = await user.inject({ url: '/papers' });
    assert.equal(daily.statusCode, 200);
    assert.doesNotMatch(daily.body, new RegExp(title));
    assert.match(daily.body, /1 paper hidden by your muted keywords or “not interested”/);
    assert.doesNotMatch((await user.inject({ url: '/search?q=audio&mode=keyword' })).body, new RegExp(title));
    // Everyone else still sees it, and the shared cache never holds the filtered page.
    assert.match((await other.inject({ url: '/papers' })).body, new RegExp(title));
    assert.match((await t.app.inject({ url: '/papers' })).body, new RegExp(title));
    assert.match((await t.app.inject({ url: '/papers' })).body, new RegExp(title));
    assert.match((await other.inject({ url: '/search?q=audio&mode=keyword' })).body, new RegExp(title));
    assert.match((await user.inject({ url: '/settings/muted' })).body, new RegExp(`${title}</a>`));

    // The digest: the linked subscriber loses it and gets a For you section; another subscriber keeps it.
    const { db } = t.ctx.database;
    const now = new Date().toISOString();
    // Three trending papers each, so the For you section has papers of its own to show.
    const subscriber = async (email: string, userId: number | null): Promise<number> =>
      (
        await db
          .insertInto('subscribers')
          .values({ email, email_key: email, user_id: userId, status: 'confirmed', paper_count: 3, link_token: newSecret(), created_at: now, confirmed_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const mine = await subscriber(`${user.viewer.username}@example.org`, user.viewer.id);
    const theirs = await subscriber('someone@example.org', null);
    const day = (await db.selectFrom('featured').select('featured_on').orderBy('featured_on', 'desc').executeTakeFirstOrThrow()).featured_on;
    // The dismissed paper is the day's most upvoted: everyone else's digest leads with it.
    await db.updateTable('papers').set({ upvotes: 1000 }).where('arxiv_id', '=', target).execute();
    const run = await createRun(t.ctx, { cadence: 'daily', periodEnd: day });
    const selectionOf = async (id: number): Promise<DigestSelection> =>
      JSON.parse((await db.selectFrom('digest_deliveries').select('selection').where('run_id', '=', run.runId).where('subscriber_id', '=', id).executeTakeFirstOrThrow()).selection) as DigestSelection;
    const papersOf = (s: DigestSelection): string[] => s.trending.map((i) => run.content.papers[i]?.arxivId ?? '');
    const mineSelection = await selectionOf(mine);
    assert.ok(!papersOf(mineSelection).includes(target), papersOf(mineSelection).join());
    assert.ok(papersOf(await selectionOf(theirs)).includes(target), 'the most upvoted paper leads the others\' digest');
    assert.equal((await selectionOf(theirs)).forYou, undefined);
    const section = mineSelection.forYou ?? [];
    assert.ok(section.length > 0 && section.length <= 5, JSON.stringify(mineSelection));
    assert.ok(!section.some((p) => p.paper.arxivId === target));
    const rendered = renderDigest(run.content, mineSelection, { baseUrl: 'http://x', preferencesUrl: 'http://x/p', unsubscribeUrl: 'http://x/u' });
    assert.match(rendered.text, /FOR YOU/);
    assert.match(rendered.text, /Why: /);
    assert.match(rendered.html, /For you<\/h2>/);

    // The preferences page of the linked address turns the section off.
    const link = (await db.selectFrom('subscribers').select('link_token').where('id', '=', mine).executeTakeFirstOrThrow()).link_token;
    assert.match((await user.inject({ url: `/subscription/${link}` })).body, /name="forYou" value="1" checked/);
    const off = await form(user, `/subscription/${link}`, { cadence: 'daily', paperCount: '3', categories: '', keywords: '', mutedKeywords: '', forYouShown: '1' });
    assert.equal(off.statusCode, 303, off.body);
    assert.equal((await db.selectFrom('subscribers').select('for_you').where('id', '=', mine).executeTakeFirstOrThrow()).for_you, 0);

    const again = await form(user, '/for-you/show-again', { paper: target, next: '/settings/muted' });
    assert.equal(again.headers.location, '/settings/muted');
    assert.match((await user.inject({ url: '/papers' })).body, new RegExp(title));
  });

  test('a muted keyword hides its papers from that person\'s feeds, search and For you; nobody else can read or change it', async () => {
    await withModel();
    const user = await reader();
    const other = await signedInUser(t.ctx, t.app);
    const survey = titleOf('2601.20005');
    assert.ok(ids(await forYouOf(user)).includes('2601.20005'));

    const muted = json<{ keyword: string }>(await user.inject({ method: 'POST', url: '/api/muted-keywords', payload: { keyword: '  Survey ' } }), 201);
    assert.equal(muted.keyword, 'Survey');
    json(await user.inject({ method: 'POST', url: '/api/muted-keywords', payload: { keyword: 'survey' } }), 200);
    assert.deepEqual(json<{ keyword: string }[]>(await user.inject({ url: '/api/muted-keywords' })).map((m) => m.keyword), ['Survey']);

    assert.ok(!ids(await forYouOf(user)).includes('2601.20005'));
    assert.doesNotMatch((await user.inject({ url: '/papers' })).body, new RegExp(survey));
    assert.doesNotMatch((await user.inject({ url: '/papers/trending' })).body, new RegExp(survey));
    assert.doesNotMatch((await user.inject({ url: '/c/cs.LG' })).body, new RegExp(survey));
    assert.doesNotMatch((await user.inject({ url: '/search?q=diffusion&mode=keyword' })).body, new RegExp(survey));
    assert.match((await other.inject({ url: '/papers' })).body, new RegExp(survey));
    assert.match((await other.inject({ url: '/search?q=diffusion&mode=keyword' })).body, new RegExp(survey));

    // Another person sees only their own mutes and cannot remove mine.
    assert.deepEqual(json<unknown[]>(await other.inject({ url: '/api/muted-keywords' })), []);
    assert.equal((await other.inject({ method: 'DELETE', url: '/api/muted-keywords/survey' })).statusCode, 404);
    const otherToken = await other.token('write');
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/api/muted-keywords/Survey', headers: { authorization: `Bearer ${otherToken}` } })).statusCode, 404);
    assert.equal((await form(other, '/settings/muted/remove', { keyword: 'survey' })).statusCode, 303);
    assert.doesNotMatch((await other.inject({ url: '/settings/muted' })).body, /Survey/);
    assert.equal(json<unknown[]>(await user.inject({ url: '/api/muted-keywords' })).length, 1, 'still muted');

    // The form: invalid keywords are refused with a reason; unmuting brings the paper back.
    const bad = await form(user, '/settings/muted', { keyword: 'x' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /2 to 100 characters/);
    assert.equal((await form(user, '/settings/muted', { keyword: 'entangled photons' })).statusCode, 303);
    assert.match((await user.inject({ url: '/settings/muted' })).body, /entangled photons/);
    assert.equal((await user.inject({ method: 'DELETE', url: '/api/muted-keywords/SURVEY' })).statusCode, 204);
    assert.match((await user.inject({ url: '/papers' })).body, new RegExp(survey));
    assert.doesNotMatch((await user.inject({ url: '/papers' })).body, /Entangled photons/);
  });

  test('the API: not interested round trip with a token, validation, CSRF refusals', async () => {
    const user = await reader();
    const token = await user.token('write');
    const bearer = { authorization: `Bearer ${token}` };
    const dismissed = json<{ id: string; notInterested: boolean }>(await t.app.inject({ method: 'POST', url: '/api/papers/2601.20007/not-interested', headers: bearer }));
    assert.deepEqual(dismissed, { id: '2601.20007', notInterested: true });
    json(await t.app.inject({ method: 'POST', url: '/api/papers/2601.20007v2/not-interested', headers: bearer }));
    const rows = await t.ctx.database.db.selectFrom('not_interested').select('paper_id').where('user_id', '=', user.viewer.id).execute();
    assert.deepEqual(rows.map((r) => r.paper_id), [paperIds.get('2601.20007')]);
    assert.ok(!ids(await forYouOf(user)).includes('2601.20007'));
    assert.deepEqual(json(await t.app.inject({ method: 'DELETE', url: '/api/papers/2601.20007/not-interested', headers: bearer })), { id: '2601.20007', notInterested: false });
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/papers/2601.99999/not-interested', headers: bearer })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/papers/nonsense/not-interested', headers: bearer })).statusCode, 400);
    assert.equal((await user.inject({ url: '/api/for-you?limit=0' })).statusCode, 400);
    assert.equal((await user.inject({ url: '/api/for-you?extra=1' })).statusCode, 400);
    assert.equal((await user.inject({ method: 'POST', url: '/api/muted-keywords', payload: { keyword: 'x'.repeat(101) } })).statusCode, 400);
    const readToken = await user.token('read');
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/muted-keywords', headers: { authorization: `Bearer ${readToken}` }, payload: { keyword: 'quantum' } })).statusCode, 403);

    // A session without its CSRF token changes nothing.
    const forged = await user.inject({ method: 'POST', url: '/for-you/not-interested', headers: { ...FORM, 'x-csrf-token': 'forged' }, payload: 'paper=2601.20006&_csrf=forged' });
    assert.equal(forged.statusCode, 403);
    const noHeader = await t.app.inject({ method: 'POST', url: '/api/muted-keywords', headers: { cookie: user.cookie }, payload: { keyword: 'quantum' } });
    assert.equal(noHeader.statusCode, 403);
    assert.equal((await t.ctx.database.db.selectFrom('not_interested').select('paper_id').where('user_id', '=', user.viewer.id).execute()).length, 0);
    assert.deepEqual(json<unknown[]>(await user.inject({ url: '/api/muted-keywords' })), []);

    const doc = json<{ paths: Record<string, Record<string, unknown>> }>(await t.app.inject('/api/openapi.json'));
    assert.deepEqual(Object.keys(doc.paths['/api/for-you'] ?? {}), ['get']);
    assert.deepEqual(Object.keys(doc.paths['/api/papers/{id}/not-interested'] ?? {}).sort(), ['delete', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/api/muted-keywords'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/api/muted-keywords/{keyword}'] ?? {}), ['delete']);
  });

  test('the secret RSS and Atom feeds of For you, opened by the Following secret alone', async () => {
    await withModel();
    const user = await reader();
    assert.match((await user.inject({ url: '/for-you' })).body, /Create a secret feed address/);
    const made = await form(user, '/for-you/feed-token', {});
    assert.equal(made.statusCode, 303);
    assert.equal(made.headers.location, '/for-you#feed');
    const page = (await user.inject({ url: '/for-you' })).body;
    const rssPath = /id="fy-rss" type="text" readonly value="http[^"]*?(\/for-you\/feed\/[A-Za-z0-9_-]{43}\.rss)"/.exec(page)?.[1];
    assert.ok(rssPath, 'the page shows the address');
    const rss = await t.app.inject({ url: rssPath });
    assert.equal(rss.statusCode, 200);
    assert.match(String(rss.headers['content-type']), /^application\/rss\+xml/);
    assert.equal(rss.headers['cache-control'], 'private');
    assert.match(rss.body, /Why: Similar to/);
    const atom = await t.app.inject({ url: rssPath.replace('.rss', '.atom') });
    assert.equal(atom.statusCode, 200);
    assert.match(String(atom.headers['content-type']), /^application\/atom\+xml/);
    assert.match(atom.body, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/);
    const token = /feed\/([A-Za-z0-9_-]{43})\.rss/.exec(rssPath)?.[1] ?? '';
    assert.equal((await t.app.inject({ url: `/following/feed/${token}.rss` })).statusCode, 200, 'the same secret opens the Following feed');
    assert.equal((await t.app.inject({ url: `/for-you/feed/${'A'.repeat(43)}.rss` })).statusCode, 404);
    assert.equal((await t.app.inject({ url: '/for-you/feed/short.rss' })).statusCode, 404);
    assert.equal((await form(user, '/for-you/feed-token', {})).statusCode, 303);
    assert.equal((await t.app.inject({ url: rssPath })).statusCode, 404, 'a new secret ends the old address');
  });
});
