/**
 * Saved searches through HTTP, on both engines: saving from the search page
 * (with its CSRF token), the API round trip with a bearer token, validation,
 * IDOR (another person sees, changes and deletes nothing; the feed needs its
 * secret), the check job finding a newly imported paper once, the RSS and
 * Atom feeds, the email alert (once, confirmed addresses only, with a working
 * "turn off" link), and webhooks to a local server: signed, a 500 retried
 * until it succeeds, and a permanent failure recorded and shown.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { AppContext } from '../src/context.js';
import { importPaths } from '../src/ingest/import.js';
import { claimJob, completeJob, DEFAULT_BACKOFF, failJob } from '../src/jobs/queue.js';
import { createRegistry } from '../src/jobs/registry.js';
import { checkSavedSearches } from '../src/saved/check.js';
import { verifyWebhookSignature } from '../src/saved/webhooks.js';
import { embedAll } from '../src/semantic/jobs.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface SavedJson {
  id: number;
  name: string;
  query: string;
  mode: string;
  emailAlert: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
  feeds: { rss: string; atom: string };
  matchCount: number;
  newCount: number;
}
interface MatchesJson {
  items: { paper: { id: string; title: string }; new: boolean }[];
  next: string | null;
}

function status(res: LightMyRequestResponse, code: number): LightMyRequestResponse {
  assert.equal(res.statusCode, code, res.body.slice(0, 1500));
  return res;
}

/** Runs the queued saved-search jobs as a worker would, `aheadMs` in the future (retries become due). */
async function drain(ctx: AppContext, aheadMs = 0): Promise<number> {
  const registry = createRegistry();
  const { db } = ctx.database;
  let ran = 0;
  for (;;) {
    const now = Date.now() + aheadMs;
    const job = await claimJob(db, { owner: `test:${ran}:${Math.random()}`, leaseMs: 60_000, types: ['saved.check', 'saved.alert', 'saved.webhook'], now });
    if (job === undefined) return ran;
    ran += 1;
    const type = registry.get(job.type);
    assert.ok(type);
    try {
      await completeJob(db, job, await type.run(job, { ctx, signal: new AbortController().signal, log: ctx.log }), now);
    } catch (err) {
      await failJob(db, job, err, { now, backoff: { ...DEFAULT_BACKOFF, ...type.type.options.backoff } });
    }
  }
}

interface Received {
  path: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

describe('saved searches', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let bobToken: string;
  let server: Server;
  let hookBase = '';
  const received: Received[] = [];
  /** Answers per path, consumed in order; then 200. */
  const script = new Map<string, number[]>([['/flaky', [500]]]);
  let bobSearch: SavedJson;
  let bobSecond: SavedJson;
  let adaSearchId = 0;

  before(async () => {
    t = await importedApp({ WEBHOOK_ALLOW_PRIVATE: 'true', RATE_LIMIT_WRITE: '10000', RATE_LIMIT_AUTH: '10000' });
    ada = await signedInUser(t.ctx, t.app, { username: 'ada_saved' });
    bob = await signedInUser(t.ctx, t.app, { username: 'bob_saved' });
    bobToken = await bob.token('write');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        received.push({ path, body, signature: req.headers['x-paperboy-signature'] as string | undefined, timestamp: req.headers['x-paperboy-timestamp'] as string | undefined });
        const planned = script.get(path);
        const code = path === '/gone' ? 410 : (planned?.shift() ?? 200);
        res.writeHead(code, { 'content-type': 'text/plain' }).end(code === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, token = bobToken) =>
    t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });

  test('the search page saves a search with its CSRF token', async () => {
    const page = status(await ada.inject({ url: '/search?q=learning&mode=keyword' }), 200);
    assert.match(page.body, /<form method="post" action="\/saved">/);
    assert.match(page.body, /name="mode" value="keyword"/);
    const anonymous = status(await t.app.inject({ url: '/search?q=learning&mode=keyword' }), 200);
    assert.match(anonymous.body, /Log in to save this search/);
    const fields = { q: 'learning', mode: 'keyword', category: '', name: 'Learning, all of it' };
    // Without the token: refused, nothing saved.
    const refused = await t.app.inject({ method: 'POST', url: '/saved', headers: { ...FORM, cookie: ada.cookie }, payload: new URLSearchParams(fields).toString() });
    assert.equal(refused.statusCode, 403);
    const saved = status(
      await t.app.inject({ method: 'POST', url: '/saved', headers: { ...FORM, cookie: ada.cookie }, payload: new URLSearchParams({ ...fields, _csrf: ada.csrf }).toString() }),
      303,
    );
    const location = String(saved.headers.location);
    assert.match(location, /^\/saved\/\d+$/);
    adaSearchId = Number(location.split('/').at(-1));
    const list = status(await ada.inject({ url: '/saved' }), 200);
    assert.match(list.body, /Learning, all of it/);
    assert.equal(list.headers['cache-control'], 'private, no-store');
    status(await ada.inject({ url: location }), 200);
    // A bad form answers with the list and the reason.
    const empty = await ada.inject({ method: 'POST', url: '/saved', headers: FORM, payload: new URLSearchParams({ q: '   ', _csrf: ada.csrf }).toString() });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /The query is empty/);
  });

  test('the API saves, lists, reads, changes and deletes with a bearer token', async () => {
    const made = status(await api('POST', '/api/saved-searches', { query: 'zorblaxian', mode: 'hybrid', emailAlert: true, webhookUrl: `${hookBase}/flaky` }), 201);
    bobSearch = made.json<SavedJson>();
    assert.equal(made.headers.location, `/api/saved-searches/${bobSearch.id}`);
    assert.equal(bobSearch.name, 'zorblaxian');
    assert.match(bobSearch.webhookSecret ?? '', /^whsec_/);
    assert.match(bobSearch.feeds.rss, /\/saved\/feed\/[A-Za-z0-9_-]{43}\.rss$/);
    bobSecond = status(
      await api('POST', '/api/saved-searches', { name: 'Quasicrystals', query: 'quasicrystal zorblaxian', mode: 'keyword', emailAlert: true, webhookUrl: `${hookBase}/gone` }),
      201,
    ).json<SavedJson>();
    const temp = status(await api('POST', '/api/saved-searches', { query: 'temporary' }), 201).json<SavedJson>();
    const list = status(await api('GET', '/api/saved-searches'), 200).json<SavedJson[]>();
    assert.deepEqual(list.map((s) => s.id), [bobSearch.id, bobSecond.id, temp.id]);
    const renamed = status(await api('PATCH', `/api/saved-searches/${temp.id}`, { name: 'Renamed' }), 200).json<SavedJson>();
    assert.equal(renamed.name, 'Renamed');
    status(await api('DELETE', `/api/saved-searches/${temp.id}`), 204);
    status(await api('GET', `/api/saved-searches/${temp.id}`), 404);
    assert.deepEqual(status(await api('GET', `/api/saved-searches/${bobSearch.id}/matches`), 200).json<MatchesJson>().items, []);
    const readOnly = await bob.token('read');
    status(await api('POST', '/api/saved-searches', { query: 'x' }, readOnly), 403);
    status(await t.app.inject({ method: 'GET', url: '/api/saved-searches' }), 401);
  });

  test('bad input is a 400 that says what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ query: '' }, /query is empty/],
      [{ query: 'x'.repeat(501) }, /500 characters/],
      [{ query: '-only -excluded' }, /nothing to search for/],
      [{ query: 'ok', webhookUrl: 'ftp://example.org/hook' }, /http:\/\/ or https:\/\//],
      [{ query: 'ok', webhookUrl: 'not a url' }, /not a URL/],
      [{ query: 'ok', categories: ['nope.XX'] }, /no arXiv category/],
      [{ query: 'ok', mode: 'fuzzy' }, /keyword, semantic or hybrid/],
      [{ query: 'ok', extra: 1 }, /extra/],
    ];
    for (const [body, message] of cases) {
      const res = status(await api('POST', '/api/saved-searches', body), 400);
      assert.equal(res.json<{ error: string }>().error, 'invalid_request');
      assert.match(res.json<{ message: string }>().message, message, JSON.stringify(body));
    }
    // Private addresses need WEBHOOK_ALLOW_PRIVATE.
    t.ctx.config.webhookAllowPrivate = false;
    try {
      for (const url of ['http://127.0.0.1:9/hook', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://localhost/x', 'https://10.1.2.3/x']) {
        const res = status(await api('POST', '/api/saved-searches', { query: 'ok', webhookUrl: url }), 400);
        assert.match(res.json<{ message: string }>().message, /private, loopback or link-local/, url);
      }
      status(await api('PATCH', `/api/saved-searches/${bobSearch.id}`, { webhookUrl: 'http://192.168.1.1/' }), 400);
    } finally {
      t.ctx.config.webhookAllowPrivate = true;
    }
  });

  test('nobody else sees, changes or deletes a saved search', async () => {
    const adaToken = await ada.token('write');
    const id = bobSearch.id;
    status(await api('GET', `/api/saved-searches/${id}`, undefined, adaToken), 404);
    status(await api('GET', `/api/saved-searches/${id}/matches`, undefined, adaToken), 404);
    status(await api('PATCH', `/api/saved-searches/${id}`, { name: 'mine now', emailAlert: false }, adaToken), 404);
    status(await api('DELETE', `/api/saved-searches/${id}`, undefined, adaToken), 404);
    assert.ok(!status(await api('GET', '/api/saved-searches', undefined, adaToken), 200).json<SavedJson[]>().some((s) => s.id === id));
    for (const url of [`/saved/${id}`, `/saved/${id}/edit`]) status(await ada.inject({ url }), 404);
    for (const url of [`/saved/${id}`, `/saved/${id}/delete`, `/saved/${id}/seen`, `/saved/${id}/feed-token`, `/saved/${id}/webhook-secret`]) {
      status(await ada.inject({ method: 'POST', url, headers: FORM, payload: new URLSearchParams({ name: 'x', _csrf: ada.csrf }).toString() }), 404);
    }
    const mine = status(await api('GET', `/api/saved-searches/${id}`), 200).json<SavedJson>();
    assert.equal(mine.name, 'zorblaxian');
    assert.equal(mine.emailAlert, true);
    // The feed opens with its secret only.
    status(await t.app.inject({ url: `/saved/feed/${'A'.repeat(43)}.rss` }), 404);
    status(await t.app.inject({ url: `/saved/feed/${id}.rss` }), 404);
    status(await t.app.inject({ url: new URL(bobSearch.feeds.rss).pathname }), 200);
  });

  test('the check finds a newly imported paper once; feeds, alert and webhooks follow', async () => {
    const { ctx } = t;
    // carol's alert must not mail: her address is not confirmed.
    const carol = await signedInUser(ctx, t.app, { username: 'carol_saved' });
    const carolToken = await carol.token('write');
    status(await api('POST', '/api/saved-searches', { query: 'zorblaxian', emailAlert: true }, carolToken), 201);
    await ctx.database.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', carol.viewer.id).execute();

    const nothing = await checkSavedSearches(ctx, { settleMs: 0 });
    assert.equal(nothing.newMatches, 0);

    const file = join(tempDataDir('paperboy-saved-'), 'papers.jsonl');
    const created = new Date().toUTCString();
    writeFileSync(
      file,
      `${JSON.stringify({
        id: '2612.99001',
        authors: 'Ada Zed and Bob Why',
        title: 'Zorblaxian learning of quasicrystal phases',
        categories: 'cs.LG cond-mat.mtrl-sci',
        abstract: 'We learn zorblaxian representations of quasicrystal phases.',
        versions: [{ version: 'v1', created }],
      })}\n`,
    );
    await importPaths(ctx.database, [file]);
    await embedAll(ctx);

    const first = await checkSavedSearches(ctx, { settleMs: 0 });
    assert.ok(first.newMatches >= 4, JSON.stringify(first)); // bob's two, carol's, ada's "learning"
    assert.equal(first.webhooks, 2);
    const again = await checkSavedSearches(ctx, { settleMs: 0 });
    assert.equal(again.newMatches, 0, 'a re-run finds nothing new');

    const matches = status(await api('GET', `/api/saved-searches/${bobSearch.id}/matches`), 200).json<MatchesJson>();
    assert.deepEqual(matches.items.map((m) => [m.paper.id, m.new]), [['2612.99001', true]]);
    const adaMatches = status(await ada.inject({ url: `/api/saved-searches/${adaSearchId}/matches` }), 200).json<MatchesJson>();
    assert.ok(adaMatches.items.some((m) => m.paper.id === '2612.99001'));
    assert.equal(status(await api('GET', `/api/saved-searches/${bobSearch.id}`), 200).json<SavedJson>().newCount, 1);

    // /saved highlights it until marked seen (by a POST: opening pages changes nothing).
    const list = status(await bob.inject({ url: '/saved' }), 200);
    assert.match(list.body, /1 new/);
    assert.match(list.body, /Zorblaxian learning of quasicrystal phases/);
    status(await bob.inject({ method: 'POST', url: `/saved/${bobSearch.id}/seen`, headers: FORM, payload: new URLSearchParams({ _csrf: bob.csrf }).toString() }), 303);
    assert.equal(status(await api('GET', `/api/saved-searches/${bobSearch.id}`), 200).json<SavedJson>().newCount, 0);

    // Feeds.
    const rss = status(await t.app.inject({ url: new URL(bobSearch.feeds.rss).pathname }), 200);
    assert.match(String(rss.headers['content-type']), /^application\/rss\+xml/);
    assert.match(rss.body, /<title>Zorblaxian learning of quasicrystal phases<\/title>/);
    const atom = status(await t.app.inject({ url: new URL(bobSearch.feeds.atom).pathname }), 200);
    assert.match(String(atom.headers['content-type']), /^application\/atom\+xml/);
    assert.match(atom.body, /Zorblaxian learning of quasicrystal phases/);
    const rotated = status(await api('PATCH', `/api/saved-searches/${bobSearch.id}`, { rotateFeedToken: true }), 200).json<SavedJson>();
    assert.notEqual(rotated.feeds.rss, bobSearch.feeds.rss);
    status(await t.app.inject({ url: new URL(bobSearch.feeds.rss).pathname }), 404);
    status(await t.app.inject({ url: new URL(rotated.feeds.rss).pathname }), 200);

    // Jobs: one alert for bob (both searches in one email), none for carol; webhooks: /flaky fails once, /gone for good.
    await drain(ctx);
    const outbox = async () =>
      ctx.database.db.selectFrom('outbox').select(['recipient', 'subject', 'text_body']).where('kind', '=', 'saved-search-alert').orderBy('id').execute();
    const mails = await outbox();
    assert.deepEqual(
      mails.map((m) => m.recipient),
      [`${bob.viewer.username}@example.org`],
      'one email, to bob: ada has no alert, carol is not confirmed',
    );
    const mail = mails[0];
    assert.ok(mail);
    assert.match(mail.subject, /2 new papers for 2 of your saved searches/);
    assert.match(mail.text_body, /Zorblaxian learning of quasicrystal phases/);
    assert.match(mail.text_body, /\/saved\n/);
    const off = /\/saved\/alert-off\/([A-Za-z0-9_-]{43})/.exec(mail.text_body)?.[1];
    assert.ok(off, 'a link turns the alert off');

    const flakyDeliveries = () => ctx.database.db.selectFrom('webhook_deliveries').selectAll().where('saved_search_id', '=', bobSearch.id).execute();
    let [flaky] = await flakyDeliveries();
    assert.equal(flaky?.status, 'pending');
    assert.equal(flaky?.response_status, 500);
    const gone = await ctx.database.db.selectFrom('webhook_deliveries').selectAll().where('saved_search_id', '=', bobSecond.id).executeTakeFirstOrThrow();
    assert.equal(gone.status, 'failed');
    assert.equal(gone.response_status, 410);
    assert.equal(gone.attempts, 1);

    // The retry is due after its backoff.
    await drain(ctx, 10 * 60_000);
    [flaky] = await flakyDeliveries();
    assert.equal(flaky?.status, 'sent');
    assert.equal(flaky?.attempts, 2);
    const calls = received.filter((r) => r.path === '/flaky');
    assert.equal(calls.length, 2);
    for (const call of calls) {
      assert.ok(verifyWebhookSignature(bobSearch.webhookSecret ?? '', { signature: call.signature, timestamp: call.timestamp }, call.body), 'signed with the secret');
      assert.ok(!verifyWebhookSignature('whsec_wrong', { signature: call.signature, timestamp: call.timestamp }, call.body));
      const body = JSON.parse(call.body) as { text: string; blocks: unknown[]; paperboy: { papers: { arxivId: string }[] } };
      assert.match(body.text, /1 new paper matches your saved search “zorblaxian”/);
      assert.ok(body.blocks.length >= 2);
      assert.deepEqual(body.paperboy.papers.map((p) => p.arxivId), ['2612.99001']);
    }
    const edit = status(await bob.inject({ url: `/saved/${bobSecond.id}/edit` }), 200);
    assert.match(edit.body, /1 of the last 1 deliveries failed/);
    assert.match(edit.body, /HTTP 410/);

    // Re-running everything sends nothing twice.
    await checkSavedSearches(ctx, { settleMs: 0 });
    await drain(ctx, 60 * 60_000);
    assert.equal((await outbox()).length, 1);
    assert.equal(received.length, 3);

    // The email's link: GET shows a button and changes nothing; the POST turns the alert off.
    const page = status(await t.app.inject({ url: `/saved/alert-off/${off}` }), 200);
    assert.match(page.body, /Turn the alert off/);
    const stillOn = [status(await api('GET', `/api/saved-searches/${bobSearch.id}`), 200).json<SavedJson>(), status(await api('GET', `/api/saved-searches/${bobSecond.id}`), 200).json<SavedJson>()];
    assert.ok(stillOn.every((s) => s.emailAlert));
    const cookie = String(page.headers['set-cookie'] ?? '').split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    status(await t.app.inject({ method: 'POST', url: `/saved/alert-off/${off}`, headers: { ...FORM }, payload: '' }), 403);
    status(await t.app.inject({ method: 'POST', url: `/saved/alert-off/${off}`, headers: { ...FORM, cookie }, payload: new URLSearchParams({ _csrf: csrf }).toString() }), 200);
    const after = [status(await api('GET', `/api/saved-searches/${bobSearch.id}`), 200).json<SavedJson>(), status(await api('GET', `/api/saved-searches/${bobSecond.id}`), 200).json<SavedJson>()];
    assert.equal(after.filter((s) => !s.emailAlert).length, 1, 'exactly the search of the link');
  });
});
