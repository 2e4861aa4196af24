/**
 * Collections through HTTP, on both engines: the pages and forms (create,
 * edit, add with notes, move, remove, delete, save from a paper page or a
 * card's Save page), the JSON API, BibTeX and RSS exports, BibTeX import (text,
 * upload, API) with the round trip of our own export, the limits, and the
 * IDOR checks: a private collection is invisible to everyone but its owner
 * through every page, export, API route and list, and nobody changes anyone
 * else's collection.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';
import { value } from './support/database.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

interface CollectionBody {
  id: number;
  name: string;
  public: boolean;
  owner: string;
  paperCount: number;
  updatedAt: string;
  papers: { id: string; note: string; position: number }[];
}

function ok(res: LightMyRequestResponse, status = 200): LightMyRequestResponse {
  assert.equal(res.statusCode, status, res.body.slice(0, 2000));
  return res;
}

describe('collections', () => {
  let t: TestApp;
  let ids: string[];
  let oldStyle: string;
  let withDoi: { arxivId: string; doi: string };
  let ada: TestUser;
  let bob: TestUser;
  let next = 0;
  const paper = (): string => {
    const id = ids[next++];
    assert.ok(id, 'enough papers');
    return id;
  };

  /** Creates a collection through the API as `user`. */
  async function make(user: TestUser, name: string, isPublic = false): Promise<number> {
    const res = ok(await user.inject({ method: 'POST', url: '/api/collections', payload: { name, public: isPublic } }), 201);
    return res.json<CollectionBody>().id;
  }

  async function addVia(user: TestUser, id: number, arxivId: string, body: Record<string, unknown> = {}): Promise<LightMyRequestResponse> {
    return user.inject({ method: 'POST', url: `/api/collections/${id}/papers/${encodeURIComponent(arxivId)}`, payload: body });
  }

  async function papersOf(id: number): Promise<{ id: string; note: string }[]> {
    const res = ok(await ada.inject({ url: `/api/collections/${id}` }));
    return res.json<CollectionBody>().papers.map((p) => ({ id: p.id, note: p.note }));
  }

  before(async () => {
    t = await importedApp({ RATE_LIMIT_WRITE: '10000' });
    const rows = await t.ctx.database.db.selectFrom('papers').select('arxiv_id').where('arxiv_id', 'like', '0704.%').orderBy('arxiv_id').limit(60).execute();
    ids = rows.map((r) => r.arxiv_id);
    const old = await t.ctx.database.db.selectFrom('papers').select('arxiv_id').where('arxiv_id', 'like', '%/%').orderBy('arxiv_id').executeTakeFirst();
    assert.ok(old, 'an old-style paper');
    oldStyle = old.arxiv_id;
    const doi = await t.ctx.database.db.selectFrom('papers').select(['arxiv_id', 'doi']).where('doi', 'is not', null).where('arxiv_id', 'not like', '0704.%').orderBy('arxiv_id').executeTakeFirst();
    assert.ok(doi?.doi, 'a paper with a DOI');
    withDoi = { arxivId: doi.arxiv_id, doi: doi.doi };
    ada = await signedInUser(t.ctx, t.app, { username: 'ada' });
    bob = await signedInUser(t.ctx, t.app, { username: 'bob' });
  });
  after(() => t.close());

  test('create from the form (private by default), add papers with notes, edit, move, remove, delete', async () => {
    const created = await ada.inject({ method: 'POST', url: '/collections', headers: FORM, payload: form({ name: 'Reading list', description: 'For the group', _csrf: ada.csrf }) });
    assert.equal(created.statusCode, 303, created.body);
    const path = String(created.headers.location);
    const id = Number(/^\/collections\/(\d+)$/.exec(path)?.[1]);
    const page = ok(await ada.inject({ url: path }));
    assert.match(page.body, /<h1 id="collection-title">Reading list<\/h1>/);
    assert.match(page.body, /badge private">private/);
    assert.equal(page.headers['cache-control'], 'private, no-store');

    const [a, b, c] = [paper(), paper(), paper()];
    for (const [arxivId, note] of [[a, 'first <b>note</b>'], [b, ''], [c, 'third']] as const) {
      ok(await ada.inject({ method: 'POST', url: `${path}/papers`, headers: FORM, payload: form({ paper: `arXiv:${arxivId}v1`, note, _csrf: ada.csrf }) }), 303);
    }
    ok(await ada.inject({ method: 'POST', url: `${path}/papers`, headers: FORM, payload: form({ paper: `https://arxiv.org/abs/${oldStyle}`, note: 'old style', _csrf: ada.csrf }) }), 303);
    assert.deepEqual(await papersOf(id), [
      { id: a, note: 'first <b>note</b>' },
      { id: b, note: '' },
      { id: c, note: 'third' },
      { id: oldStyle, note: 'old style' },
    ]);
    const shown = ok(await ada.inject({ url: path })).body;
    assert.ok(shown.includes('first &lt;b&gt;note&lt;/b&gt;'), 'notes are escaped');
    assert.ok(shown.includes(`action="/collections/${id}/papers/${encodeURIComponent(oldStyle)}/move"`));

    // Adding again updates the note and keeps the place.
    ok(await ada.inject({ method: 'POST', url: `${path}/papers`, headers: FORM, payload: form({ paper: b, note: 'now with a note', _csrf: ada.csrf }) }), 303);
    const seg = (x: string) => encodeURIComponent(x);
    ok(await ada.inject({ method: 'POST', url: `${path}/papers/${seg(oldStyle)}/move`, headers: FORM, payload: form({ position: '1', _csrf: ada.csrf }) }), 303);
    ok(await ada.inject({ method: 'POST', url: `${path}/papers/${seg(c)}/move`, headers: FORM, payload: form({ position: '99', _csrf: ada.csrf }) }), 303);
    ok(await ada.inject({ method: 'POST', url: `${path}/papers/${seg(a)}`, headers: FORM, payload: form({ note: 'edited', _csrf: ada.csrf }) }), 303);
    assert.deepEqual(await papersOf(id), [
      { id: oldStyle, note: 'old style' },
      { id: a, note: 'edited' },
      { id: b, note: 'now with a note' },
      { id: c, note: 'third' },
    ]);
    ok(await ada.inject({ method: 'POST', url: `${path}/papers/${seg(oldStyle)}/remove`, headers: FORM, payload: form({ _csrf: ada.csrf }) }), 303);
    const removedAgain = await ada.inject({ method: 'POST', url: `${path}/papers/${seg(oldStyle)}/remove`, headers: FORM, payload: form({ _csrf: ada.csrf }) });
    assert.equal(removedAgain.statusCode, 404);
    assert.deepEqual((await papersOf(id)).map((p) => p.id), [a, b, c]);

    const before = Number(Date.parse((await ada.inject({ url: `/api/collections/${id}` })).json<CollectionBody>().updatedAt));
    await new Promise((r) => setTimeout(r, 5));
    ok(await ada.inject({ method: 'POST', url: path, headers: FORM, payload: form({ name: 'Renamed', description: '', public: 'on', _csrf: ada.csrf }) }), 303);
    const renamed = ok(await ada.inject({ url: `/api/collections/${id}` })).json<CollectionBody>();
    assert.equal(renamed.name, 'Renamed');
    assert.equal(renamed.public, true);
    assert.ok(Date.parse(renamed.updatedAt) > before, 'updated_at bumps');

    ok(await ada.inject({ method: 'POST', url: `${path}/delete`, headers: FORM, payload: form({ _csrf: ada.csrf }) }), 303);
    assert.equal((await ada.inject({ url: path })).statusCode, 404);
    assert.equal(Number(await value(t.ctx.database, sql`SELECT count(*) FROM collection_papers WHERE collection_id = ${id}`)), 0);
  });

  test('form errors re-show the form with what was typed and a clear message', async () => {
    const empty = await ada.inject({ method: 'POST', url: '/collections', headers: FORM, payload: form({ name: '  ', description: 'kept text', _csrf: ada.csrf }) });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Give the collection a name/);
    assert.match(empty.body, />kept text<\/textarea>/);
    const long = await ada.inject({ method: 'POST', url: '/collections', headers: FORM, payload: form({ name: 'x'.repeat(101), _csrf: ada.csrf }) });
    assert.equal(long.statusCode, 400);
    assert.match(long.body, /at most 100 characters/);

    const id = await make(ada, 'Errors');
    const unknown = await ada.inject({ method: 'POST', url: `/collections/${id}/papers`, headers: FORM, payload: form({ paper: '2512.99999', note: 'typed note', _csrf: ada.csrf }) });
    assert.equal(unknown.statusCode, 422);
    assert.match(unknown.body, /no paper 2512\.99999/);
    assert.match(unknown.body, />typed note<\/textarea>/);
    const notAnId = await ada.inject({ method: 'POST', url: `/collections/${id}/papers`, headers: FORM, payload: form({ paper: 'hello', _csrf: ada.csrf }) });
    assert.equal(notAnId.statusCode, 422);
    assert.match(notAnId.body, /not an arXiv id/);
    const longNote = await ada.inject({ method: 'POST', url: `/collections/${id}/papers`, headers: FORM, payload: form({ paper: ids[0] ?? '', note: 'n'.repeat(2001), _csrf: ada.csrf }) });
    assert.equal(longNote.statusCode, 400);
    assert.match(longNote.body, /at most 2000 characters/);
    const badMove = await ada.inject({ method: 'POST', url: `/collections/${id}/papers/${ids[0]}/move`, headers: FORM, payload: form({ position: 'top', _csrf: ada.csrf }) });
    assert.equal(badMove.statusCode, 400);
    assert.match(badMove.body, /The position is a whole number from 1/);
    const notThere = await ada.inject({ method: 'POST', url: `/collections/${id}/papers/${ids[0]}/move`, headers: FORM, payload: form({ position: '2', _csrf: ada.csrf }) });
    assert.equal(notThere.statusCode, 404);
    assert.match(notThere.body, /not in this collection/);
    const noCsrf = await ada.inject({ method: 'POST', url: '/collections', headers: { ...FORM, 'x-csrf-token': '' }, payload: form({ name: 'no token' }) });
    assert.equal(noCsrf.statusCode, 403);
    const anonymous = await t.app.inject({ method: 'POST', url: '/collections', headers: FORM, payload: form({ name: 'anon' }) });
    assert.equal(anonymous.statusCode, 303);
    assert.match(String(anonymous.headers.location), /^\/login/);
  });

  test('API: create, read, patch (with a full order), add with note and position, remove, delete; validation', async () => {
    const created = ok(await ada.inject({ method: 'POST', url: '/api/collections', payload: { name: ' API list ', description: 'd' } }), 201);
    const body = created.json<CollectionBody>();
    assert.equal(body.name, 'API list');
    assert.equal(body.public, false);
    assert.equal(created.headers.location, `/api/collections/${body.id}`);
    const [a, b, c] = [paper(), paper(), paper()];
    assert.equal((await addVia(ada, body.id, a, { note: 'A' })).statusCode, 201);
    assert.equal((await addVia(ada, body.id, b)).statusCode, 201);
    const third = ok(await addVia(ada, body.id, c, { note: 'C', position: 1 }), 201).json<{ id: string; position: number }>();
    assert.deepEqual([third.id, third.position], [c, 1]);
    const again = ok(await addVia(ada, body.id, a, { note: 'A2' }), 200).json<{ note: string; position: number }>();
    assert.deepEqual([again.note, again.position], ['A2', 2]);
    assert.equal((await addVia(ada, body.id, oldStyle)).statusCode, 201);
    assert.deepEqual((await papersOf(body.id)).map((p) => p.id), [c, a, b, oldStyle]);

    const patched = ok(await ada.inject({ method: 'PATCH', url: `/api/collections/${body.id}`, payload: { order: [oldStyle, b, a, `arXiv:${c}`], public: true } })).json<CollectionBody>();
    assert.deepEqual(patched.papers.map((p) => p.id), [oldStyle, b, a, c]);
    assert.deepEqual(patched.papers.map((p) => p.position), [1, 2, 3, 4]);
    assert.equal(patched.public, true);
    const partial = await ada.inject({ method: 'PATCH', url: `/api/collections/${body.id}`, payload: { order: [a, b], name: 'not applied' } });
    assert.equal(partial.statusCode, 422);
    assert.match(partial.json<{ message: string }>().message, /each of the collection's 4 papers exactly once/);
    assert.equal(ok(await ada.inject({ url: `/api/collections/${body.id}` })).json<CollectionBody>().name, 'API list', 'all or nothing');
    const unknownKey = await ada.inject({ method: 'PATCH', url: `/api/collections/${body.id}`, payload: { colour: 'red' } });
    assert.equal(unknownKey.statusCode, 400);
    assert.match(unknownKey.json<{ message: string }>().message, /unknown parameter colour/);
    assert.equal((await ada.inject({ method: 'PATCH', url: `/api/collections/${body.id}`, payload: {} })).statusCode, 400);
    assert.equal((await ada.inject({ method: 'POST', url: '/api/collections', payload: { name: '' } })).statusCode, 400);
    assert.equal((await ada.inject({ method: 'POST', url: '/api/collections', payload: { name: 'x', public: 'yes' } })).statusCode, 400);
    assert.equal((await addVia(ada, body.id, a, { note: 'n'.repeat(2001) })).statusCode, 400);
    assert.equal((await addVia(ada, body.id, '2512.99999')).statusCode, 404);
    assert.equal((await ada.inject({ url: '/api/collections/abc' })).statusCode, 400);

    ok(await ada.inject({ method: 'DELETE', url: `/api/collections/${body.id}/papers/${encodeURIComponent(oldStyle)}` }), 204);
    assert.equal((await ada.inject({ method: 'DELETE', url: `/api/collections/${body.id}/papers/${encodeURIComponent(oldStyle)}` })).statusCode, 404);
    const mine = ok(await ada.inject({ url: '/api/collections' })).json<CollectionBody[]>();
    assert.ok(mine.some((m) => m.id === body.id && m.paperCount === 3));
    ok(await ada.inject({ method: 'DELETE', url: `/api/collections/${body.id}` }), 204);
    assert.equal((await ada.inject({ url: `/api/collections/${body.id}` })).statusCode, 404);
  });

  test("IDOR: another person's private collection is 404 everywhere, and nobody changes anyone else's", async () => {
    const secret = await make(ada, 'Secret plans zebra');
    const shared = await make(ada, 'Shared zebra list', true);
    const a = paper();
    ok(await addVia(ada, secret, a, { note: 'private note' }), 201);
    ok(await addVia(ada, shared, a, { note: 'public note' }), 201);
    const bobRead = await bob.token('read');
    const bobWrite = await bob.token('write');
    const asBob = [
      (url: string) => bob.inject({ url }),
      (url: string) => t.app.inject({ url }),
      (url: string) => t.app.inject({ url, headers: { authorization: `Bearer ${bobRead}` } }),
    ];
    for (const read of asBob) {
      for (const url of [`/collections/${secret}`, `/collections/${secret}.bib`, `/collections/${secret}.rss`, `/api/collections/${secret}`]) {
        const res = await read(url);
        assert.equal(res.statusCode, 404, url);
        assert.ok(!res.body.includes('Secret plans') && !res.body.includes('private note'), url);
      }
      for (const url of [`/collections/${shared}`, `/collections/${shared}.bib`, `/collections/${shared}.rss`, `/api/collections/${shared}`]) {
        const res = ok(await read(url));
        assert.ok(res.body.includes('public note') || url.endsWith('.bib') || res.body.includes('Shared zebra'), url);
      }
      const list = ok(await read('/collections?q=zebra')).body;
      assert.ok(list.includes('Shared zebra list') && !list.includes('Secret plans'));
      const profile = ok(await read('/u/ada'));
      assert.ok(profile.body.includes('Shared zebra list') && !profile.body.includes('Secret plans'), 'public only on the profile');
      const userApi = ok(await read('/api/users/ada'));
      assert.ok(userApi.body.includes('Shared zebra list') && !userApi.body.includes('Secret plans'), 'public only in the users API');
    }
    // The owner sees both; the token of the owner reads the private one too.
    assert.ok(ok(await ada.inject({ url: '/collections/mine' })).body.includes('Secret plans zebra'));
    const adaRead = await ada.token('read');
    ok(await t.app.inject({ url: `/api/collections/${secret}`, headers: { authorization: `Bearer ${adaRead}` } }));
    assert.equal((await t.app.inject({ url: `/api/collections/${secret}`, method: 'DELETE', headers: { authorization: `Bearer ${adaRead}` } })).statusCode, 403, 'a read token writes nothing');

    const writes: [string, string, Record<string, string>?][] = [
      ['POST', ''],
      ['POST', '/delete'],
      ['POST', '/papers', { paper: ids[50] ?? '' }],
      ['POST', `/papers/${a}`, { note: 'hacked' }],
      ['POST', `/papers/${a}/move`, { position: '1' }],
      ['POST', `/papers/${a}/remove`],
      ['POST', '/import', { bibtex: `@misc{x, eprint={${ids[51] ?? ''}}}` }],
    ];
    for (const [collection, status] of [[secret, 404], [shared, 403]] as const) {
      for (const [method, suffix, fields] of writes) {
        const res = await bob.inject({ method: method as 'POST', url: `/collections/${collection}${suffix}`, headers: FORM, payload: form({ name: 'hacked', ...fields, _csrf: bob.csrf }) });
        assert.equal(res.statusCode, status, `${suffix}: ${res.body.slice(0, 300)}`);
      }
      const api = [
        { method: 'PATCH' as const, url: `/api/collections/${collection}`, payload: { name: 'hacked' } },
        { method: 'PATCH' as const, url: `/api/collections/${collection}`, payload: { order: ['2512.99999'] } },
        { method: 'DELETE' as const, url: `/api/collections/${collection}` },
        { method: 'POST' as const, url: `/api/collections/${collection}/papers/${ids[50] ?? ''}`, payload: {} },
        { method: 'POST' as const, url: `/api/collections/${collection}/papers/2512.99999`, payload: {} },
        { method: 'DELETE' as const, url: `/api/collections/${collection}/papers/${a}` },
        { method: 'POST' as const, url: `/api/collections/${collection}/import`, headers: { 'content-type': 'text/plain' }, payload: `@misc{x, eprint={${ids[51] ?? ''}}}` },
      ];
      for (const request of api) {
        const res = await t.app.inject({ ...request, headers: { authorization: `Bearer ${bobWrite}`, ...request.headers } });
        const expected = status === 403 && request.url.endsWith('2512.99999') ? 404 : status === 403 && typeof request.payload === 'object' && 'order' in request.payload ? 422 : status;
        assert.equal(res.statusCode, expected, `${request.method} ${request.url}: ${res.body}`);
      }
    }
    assert.deepEqual(await papersOf(secret), [{ id: a, note: 'private note' }]);
    assert.deepEqual(await papersOf(shared), [{ id: a, note: 'public note' }]);
    const names = ok(await ada.inject({ url: '/api/collections' })).json<CollectionBody[]>().map((c) => c.name);
    assert.ok(names.includes('Secret plans zebra') && names.includes('Shared zebra list'));
  });

  test('BibTeX and RSS exports carry the papers in order with their notes', async () => {
    const id = await make(ada, 'Exported', true);
    const [a, b] = [paper(), paper()];
    ok(await addVia(ada, id, a, { note: 'read section 3 & the appendix' }), 201);
    ok(await addVia(ada, id, b), 201);
    ok(await addVia(ada, id, oldStyle, { note: 'classic' }), 201);
    const bib = ok(await t.app.inject(`/collections/${id}.bib`));
    assert.match(String(bib.headers['content-type']), /^application\/x-bibtex/);
    assert.match(String(bib.headers['content-disposition']), /attachment; filename="collection-\d+\.bib"/);
    const eprints = [...bib.body.matchAll(/eprint = \{([^}]+)\}/g)].map((m) => m[1]);
    assert.deepEqual(eprints, [a, b, oldStyle]);
    assert.ok(bib.body.includes('note = {read section 3 \\& the appendix'), bib.body);
    const rss = ok(await t.app.inject(`/collections/${id}.rss`));
    assert.match(String(rss.headers['content-type']), /^application\/rss\+xml/);
    assert.ok(rss.body.includes('<title>Exported · a collection by ada</title>'));
    assert.ok(rss.body.includes('Note: read section 3 &amp;amp; the appendix'), 'note in the description');
    assert.equal([...rss.body.matchAll(/<item>/g)].length, 3);

    // The round trip: our own export imported into another collection gives the same papers.
    const copy = await make(ada, 'Copy');
    const report = ok(await ada.inject({ method: 'POST', url: `/api/collections/${copy}/import`, headers: { 'content-type': 'application/x-bibtex' }, payload: bib.body })).json<{
      matched: { paperId: string }[];
      alreadyPresent: unknown[];
      unmatched: unknown[];
    }>();
    assert.deepEqual(report.matched.map((m) => m.paperId), [a, b, oldStyle]);
    assert.deepEqual((await papersOf(copy)).map((p) => p.id), [a, b, oldStyle]);
    const twice = ok(await ada.inject({ method: 'POST', url: `/api/collections/${copy}/import`, headers: { 'content-type': 'text/plain' }, payload: bib.body })).json<{ matched: unknown[]; alreadyPresent: unknown[] }>();
    assert.deepEqual([twice.matched.length, twice.alreadyPresent.length], [0, 3]);
    assert.equal((await ada.inject({ method: 'POST', url: `/api/collections/${copy}/import`, headers: { 'content-type': 'application/json' }, payload: { a: 1 } })).statusCode, 415);
  });

  test('import from the form: pasted text and an uploaded file, matched by arXiv id or DOI, report by key', async () => {
    const id = await make(ada, 'Imported');
    const [a, b] = [paper(), paper()];
    const text = `@article{bydoi, doi = {https://doi.org/${withDoi.doi.toUpperCase()}}}\n@misc{missing, eprint = {2512.99999}, archivePrefix = {arXiv}}\n@misc{nothing, title = {none}}\n@misc{broken, title = {never closed\n`;
    const pasted = ok(await ada.inject({ method: 'POST', url: `/collections/${id}/import`, headers: FORM, payload: form({ bibtex: text, _csrf: ada.csrf }) }));
    assert.match(pasted.body, /1 added, 0 already in the collection, 3 not matched/);
    assert.match(pasted.body, /<code>missing<\/code> \(line 2\): arXiv:2512\.99999 is not in this instance/);
    assert.match(pasted.body, /<code>nothing<\/code> \(line 3\): names no arXiv id or DOI/);
    assert.match(pasted.body, /<code>broken<\/code> \(line 4\): a &quot;\{&quot; is never closed/);

    const boundary = '----paperboy-test';
    const file = `@article{one, journal = {arXiv preprint arXiv:${a}}}\n@misc{two, url = {https://arxiv.org/abs/${b}v2}}\n`;
    const multipart = [
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${ada.csrf}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="refs.bib"\r\nContent-Type: application/x-bibtex\r\n\r\n${file}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="bibtex"\r\n\r\n\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const uploaded = ok(await ada.inject({ method: 'POST', url: `/collections/${id}/import`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: multipart }));
    assert.match(uploaded.body, /2 added, 0 already in the collection, 0 not matched/);
    assert.deepEqual((await papersOf(id)).map((p) => p.id), [withDoi.arxivId, a, b]);
    const nothing = await ada.inject({ method: 'POST', url: `/collections/${id}/import`, headers: FORM, payload: form({ bibtex: ' ', _csrf: ada.csrf }) });
    assert.equal(nothing.statusCode, 400);
    assert.match(nothing.body, /Choose a \.bib file or paste BibTeX/);
    const tooBig = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${ada.csrf}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bib"\r\n\r\n${'%'.repeat(1024 * 1024 + 10)}\r\n--${boundary}--\r\n`;
    const big = await ada.inject({ method: 'POST', url: `/collections/${id}/import`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: tooBig });
    assert.equal(big.statusCode, 413);
  });

  test('save to a collection from the paper page panel and the Save page of cards', async () => {
    const a = paper();
    const anonymous = ok(await t.app.inject(`/papers/${a}`)).body;
    assert.match(anonymous, /Log in to save this paper to a collection/);
    const first = ok(await ada.inject({ url: `/papers/${a}` }));
    assert.match(first.body, /<form method="post" action="\/collections\/save"/);
    const saved = await ada.inject({ method: 'POST', url: '/collections/save', headers: FORM, payload: form({ paper: a, collection: 'new', newName: 'From the page', note: 'saved note', next: `/papers/${a}#collections-h`, _csrf: ada.csrf }) });
    assert.equal(saved.statusCode, 303, saved.body);
    assert.equal(saved.headers.location, `/papers/${a}#collections-h`);
    const second = ok(await ada.inject({ url: `/papers/${a}` }));
    assert.match(second.body, /In your collections: <a href="\/collections\/(\d+)">From the page<\/a>/);
    assert.notEqual(first.headers.etag, second.headers.etag, 'the ETag follows the panel');
    assert.equal((await ada.inject({ url: `/papers/${a}`, headers: { 'if-none-match': String(second.headers.etag) } })).statusCode, 304);
    assert.ok(!(await bob.inject({ url: `/papers/${a}` })).body.includes('From the page'), "others never see ada's collections");

    // Cards link to the Save page (cached pages carry no one's collections).
    const feed = ok(await t.app.inject('/papers/trending')).body;
    assert.match(feed, /class="save-link" href="\/papers\/[^"]+\/save"/);
    const login = await t.app.inject(`/papers/${oldStyle}/save`);
    assert.equal(login.statusCode, 303);
    assert.match(String(login.headers.location), /^\/login\?next=/);
    const savePage = ok(await ada.inject({ url: `/papers/${oldStyle}/save` }));
    assert.match(savePage.body, /<option value="\d+"[^>]*>From the page<\/option>/);
    const target = /<option value="(\d+)"[^>]*>From the page/.exec(savePage.body)?.[1] ?? '';
    ok(await ada.inject({ method: 'POST', url: '/collections/save', headers: FORM, payload: form({ paper: oldStyle, collection: target, note: '', _csrf: ada.csrf }) }), 303);
    assert.deepEqual((await papersOf(Number(target))).map((p) => p.id), [a, oldStyle]);
    const noName = await ada.inject({ method: 'POST', url: '/collections/save', headers: FORM, payload: form({ paper: a, collection: 'new', newName: '', note: 'kept', _csrf: ada.csrf }) });
    assert.equal(noName.statusCode, 400);
    assert.match(noName.body, /Give the new collection a name/);
    assert.match(noName.body, />kept<\/textarea>/);
    const bobSecret = await make(bob, 'Bob secret');
    const intoBobs = await ada.inject({ method: 'POST', url: '/collections/save', headers: FORM, payload: form({ paper: a, collection: String(bobSecret), _csrf: ada.csrf }) });
    assert.equal(intoBobs.statusCode, 404);
    assert.equal((await ada.inject({ url: '/papers/2512.99999/save' })).statusCode, 404);
  });

  test('limits: 200 collections per person, 5000 papers per collection', async () => {
    const carol = await signedInUser(t.ctx, t.app);
    const at = new Date().toISOString();
    await t.ctx.database.db
      .insertInto('collections')
      .values(Array.from({ length: 199 }, (_, i) => ({ user_id: carol.viewer.id, name: `c${i}`, created_at: at, updated_at: at })))
      .execute();
    const last = await make(carol, 'the 200th');
    const over = await carol.inject({ method: 'POST', url: '/api/collections', payload: { name: 'one too many' } });
    assert.equal(over.statusCode, 422);
    assert.match(over.json<{ message: string }>().message, /200 collections, the most one person can have/);
    const overForm = await carol.inject({ method: 'POST', url: '/collections', headers: FORM, payload: form({ name: 'one too many', _csrf: carol.csrf }) });
    assert.equal(overForm.statusCode, 422);
    assert.match(overForm.body, /value="one too many"/);

    const papers = await t.ctx.database.db.selectFrom('papers').select('id').orderBy('id').limit(5001).execute();
    assert.equal(papers.length, 5001, 'enough papers for the limit');
    const rowsToAdd = papers.slice(0, 5000).map((p, i) => ({ collection_id: last, paper_id: p.id, position: i + 1, added_at: at }));
    for (let i = 0; i < rowsToAdd.length; i += 500) await t.ctx.database.db.insertInto('collection_papers').values(rowsToAdd.slice(i, i + 500)).execute();
    const extra = await t.ctx.database.db.selectFrom('papers').select('arxiv_id').where('id', '=', papers[5000]?.id ?? 0).executeTakeFirstOrThrow();
    const full = await addVia(carol, last, extra.arxiv_id);
    assert.equal(full.statusCode, 422);
    assert.match(full.json<{ message: string }>().message, /5000 papers, the most a collection can hold/);
  });

  test('the public list: newest changed first, ?q= filters, never private ones', async () => {
    const first = await make(bob, 'Quantum reading', true);
    await make(bob, 'Quantum private');
    await new Promise((r) => setTimeout(r, 5));
    await make(bob, 'Galaxies', true);
    ok(await addVia(bob, first, paper()), 201);
    const all = ok(await t.app.inject('/collections')).body;
    assert.ok(all.indexOf('Quantum reading') < all.indexOf('Galaxies'), 'the changed one first');
    assert.ok(!all.includes('Quantum private'));
    const q = ok(await t.app.inject('/collections?q=QUANTUM')).body;
    assert.ok(q.includes('Quantum reading') && !q.includes('Galaxies') && !q.includes('Quantum private'));
    const wildcard = ok(await t.app.inject('/collections?q=%25')).body;
    assert.ok(!wildcard.includes('Quantum reading'), 'a % is a character, not a wildcard');
    assert.equal((await t.app.inject(`/collections?q=${'x'.repeat(201)}`)).statusCode, 400);
  });
});
