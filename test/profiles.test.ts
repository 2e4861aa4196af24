/**
 * Author pages and public profiles through HTTP, on both engines: author
 * names with any Unicode, spaces, dots, apostrophes and slashes; newest first
 * with keyset pages; a clear 404; the verified profile linked. Profiles and
 * `GET /api/users/:username`: claimed papers, submissions, public
 * collections only, comments that are neither deleted nor hidden, a
 * restricted account's note, never the email.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { importPaths } from '../src/ingest/import.js';
import { authorPath } from '../src/web/paper-page.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { emptyApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';

const ZOE = "Zoë O'Brien-Ünal";
const TOLKIEN = 'J. R. R. Tolkien';
const HAN = '李小龙';
const SLASHED = 'Ω/Δ Group';
const MANY = 27;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let t: TestApp;

const idOf = (i: number): string => `2101.${String(100 + i).padStart(5, '0')}`;

before(async () => {
  t = await emptyApp({ RATE_LIMIT_WRITE: '200' });
  const lines = Array.from({ length: MANY }, (_, i) =>
    JSON.stringify({
      id: idOf(i),
      authors: i === 0 ? `${ZOE}, ${TOLKIEN} and ${SLASHED}` : `${ZOE} and ${TOLKIEN}`,
      title: `Paper number ${i}`,
      categories: 'cs.LG',
      abstract: `Abstract ${i}.`,
      // Paper i is i days after the first, so newest first is the reverse of i.
      versions: [{ version: 'v1', created: new Date(Date.UTC(2021, 0, 1 + i, 10)).toUTCString() }],
    }),
  );
  lines.push(JSON.stringify({ id: '2101.09999', authors: HAN, title: 'A single paper', categories: 'cs.CL', abstract: 'Abstract.', versions: [{ version: 'v1', created: 'Fri, 1 Jan 2021 10:00:00 GMT' }] }));
  const file = join(tempDataDir('paperboy-profiles-'), 'papers.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  await importPaths(t.ctx.database, [file]);
});
after(async () => t.close());

const titlesOf = (body: string): string[] => [...body.matchAll(/>Paper number (\d+)</g)].map((m) => `Paper number ${m[1]}`);

describe('author pages', () => {
  test('an author with any characters: newest first, keyset pages without overlap', async () => {
    assert.equal(authorPath(ZOE), `/authors/${encodeURIComponent(ZOE)}`);
    const first = await t.app.inject(authorPath(ZOE));
    assert.equal(first.statusCode, 200, first.body);
    assert.match(first.body, /<h1>Zoë O&#39;Brien-Ünal<\/h1>/);
    assert.match(first.body, new RegExp(`${MANY} papers in this instance`));
    const page1 = titlesOf(first.body);
    assert.equal(page1.length, 25);
    assert.equal(page1[0], `Paper number ${MANY - 1}`);
    const next = /rel="next" href="([^"]+)"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&').replace(/&#39;/g, "'");
    assert.ok(next !== undefined, 'a link to older papers');
    const second = await t.app.inject(next);
    assert.equal(second.statusCode, 200);
    const page2 = titlesOf(second.body);
    assert.deepEqual(page2, ['Paper number 1', 'Paper number 0']);
    assert.doesNotMatch(second.body, /rel="next"/);
    assert.ok(!page2.some((p) => page1.includes(p)));

    for (const name of [TOLKIEN, HAN, SLASHED]) {
      const res = await t.app.inject(authorPath(name));
      assert.equal(res.statusCode, 200, `${name}: ${res.statusCode}`);
    }
    const han = await t.app.inject(authorPath(HAN));
    assert.match(han.body, /1 paper in this instance/);
    assert.match(han.body, /A single paper/);
  });

  test('a name without papers is a 404 that says so; a bad cursor is a 400; the paper page links author names', async () => {
    const missing = await t.app.inject(authorPath('Nobody Wrote This'));
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /No paper in this Paperboy instance has an author named &quot;Nobody Wrote This&quot;/);
    // Exact names only: a prefix is another author.
    assert.equal((await t.app.inject(authorPath('Zoë'))).statusCode, 404);
    const bad = await t.app.inject(`${authorPath(ZOE)}?before=yesterday`);
    assert.equal(bad.statusCode, 400);
    const paper = await t.app.inject(`/papers/${idOf(0)}`);
    assert.ok(paper.body.includes(`href="${authorPath(SLASHED)}"`));
  });

  test('a verified author is linked from the author page; signed-in viewers get a follow button', async () => {
    const zoe = await signedInUser(t.ctx, t.app);
    const curator = await signedInUser(t.ctx, t.app, { role: 'curator' });
    const claim = await zoe.inject({ method: 'POST', url: `/api/papers/${idOf(3)}/claims`, payload: { authorName: ZOE } });
    assert.equal(claim.statusCode, 201, claim.body);
    const id = claim.json<{ id: number }>().id;
    assert.equal((await curator.inject({ method: 'POST', url: `/api/claims/${id}/verify` })).statusCode, 200);
    const page = await t.app.inject(authorPath(ZOE));
    assert.ok(page.body.includes(`✓ claimed by ${zoe.viewer.username}`));
    assert.match(page.body, /Log in to follow/);
    const signedIn = await zoe.inject({ url: authorPath(ZOE) });
    assert.match(signedIn.body, /<form method="post" action="\/following(\/remove)?"/);
    assert.ok(signedIn.body.includes(`name="target" value="Zoë O&#39;Brien-Ünal"`));
  });
});

describe('profiles', () => {
  let ada: TestUser;
  before(async () => {
    ada = await signedInUser(t.ctx, t.app, { email: 'ada-secret@example.org' });
    const curator = await signedInUser(t.ctx, t.app, { role: 'curator' });
    const claim = await ada.inject({ method: 'POST', url: `/api/papers/${idOf(5)}/claims`, payload: { authorName: TOLKIEN } });
    await curator.inject({ method: 'POST', url: `/api/claims/${claim.json<{ id: number }>().id}/verify` });
    const now = new Date().toISOString();
    const paperId = (await t.ctx.database.db.selectFrom('papers').select('id').where('arxiv_id', '=', idOf(5)).executeTakeFirstOrThrow()).id;
    for (const [name, isPublic] of [
      ['Open reading list', 1],
      ['Secret reading list', 0],
    ] as const) {
      const c = await t.ctx.database.db
        .insertInto('collections')
        .values({ user_id: ada.viewer.id, name, description: `${name} description`, is_public: isPublic, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await t.ctx.database.db.insertInto('collection_papers').values({ collection_id: c.id, paper_id: paperId, position: 1, note: '', added_at: now }).execute();
    }
    const shown = await ada.inject({ method: 'POST', url: `/api/papers/${idOf(6)}/comments`, payload: { body: 'A visible comment.' } });
    const hidden = await ada.inject({ method: 'POST', url: `/api/papers/${idOf(7)}/comments`, payload: { body: 'A hidden comment.' } });
    assert.equal(shown.statusCode, 201);
    await t.ctx.database.db.updateTable('comments').set({ hidden_at: now, hidden_by: curator.viewer.id, hidden_reason: 'spam' }).where('id', '=', hidden.json<{ id: number }>().id).execute();
  });

  test('the API profile: claimed papers, public collections, visible comments; never the email', async () => {
    const res = await t.app.inject(`/api/users/${ada.viewer.username.toUpperCase()}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(!res.body.includes('ada-secret'), 'no email');
    const p = res.json<{
      username: string;
      role: string;
      restricted: string | null;
      claimedPapers: { id: string; title: string; authorName: string }[];
      submissions: unknown[];
      collections: { name: string; paperCount: number; url: string }[];
      recentComments: { paperId: string; url: string }[];
    }>();
    assert.equal(p.username, ada.viewer.username);
    assert.equal(p.role, 'user');
    assert.equal(p.restricted, null);
    assert.deepEqual(p.claimedPapers, [{ id: idOf(5), title: 'Paper number 5', authorName: TOLKIEN }]);
    assert.deepEqual(p.submissions, []);
    assert.deepEqual(p.collections.map((c) => [c.name, c.paperCount]), [['Open reading list', 1]]);
    assert.match(p.collections[0]?.url ?? '', /^http:\/\/localhost:3000\/collections\/\d+$/);
    assert.deepEqual(p.recentComments.map((c) => c.paperId), [idOf(6)]);
    assert.equal((await t.app.inject('/api/users/nobody-here')).statusCode, 404);
    assert.equal((await t.app.inject('/api/users/ada?x=1')).statusCode, 400);
  });

  test('the profile page: the same, a follow button for others, toggles for the owner, a note when suspended', async () => {
    const other = await signedInUser(t.ctx, t.app);
    const page = await other.inject({ url: `/u/${ada.viewer.username}` });
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes('ada-secret'));
    assert.match(page.body, /Paper number 5/);
    assert.match(page.body, /Open reading list/);
    assert.doesNotMatch(page.body, /Secret reading list/);
    assert.match(page.body, /Paper number 6/);
    assert.doesNotMatch(page.body, /Paper number 7/);
    assert.ok(page.body.includes(`name="target" value="${ada.viewer.id}"`), 'follow by user id');
    assert.doesNotMatch(page.body, /Hide from profile/);
    assert.equal(page.headers['cache-control'], 'private, no-store');

    const own = await ada.inject({ url: `/u/${ada.viewer.username}` });
    assert.match(own.body, /Hide from profile/);
    const claimId = Number(/action="\/claims\/(\d+)\/profile"/.exec(own.body)?.[1]);
    const hide = await ada.inject({ method: 'POST', url: `/claims/${claimId}/profile`, headers: FORM, payload: new URLSearchParams({ _csrf: ada.csrf, show: '0', next: 'https://evil.example/' }).toString() });
    assert.equal(hide.statusCode, 303);
    assert.equal(hide.headers.location, '/', 'next must stay on this site');
    assert.doesNotMatch((await t.app.inject(`/u/${ada.viewer.username}`)).body, /Paper number 5/);
    assert.match((await ada.inject({ url: `/u/${ada.viewer.username}` })).body, /hidden from others/);
    const bad = await ada.inject({ method: 'POST', url: `/claims/${claimId}/profile`, headers: FORM, payload: new URLSearchParams({ _csrf: ada.csrf, show: 'maybe' }).toString() });
    assert.equal(bad.statusCode, 400);

    const until = new Date(Date.now() + 3 * 86_400_000).toISOString();
    await t.ctx.database.db.updateTable('users').set({ suspended_until: until, restriction_reason: 'cool down' }).where('id', '=', other.viewer.id).execute();
    const suspended = await t.app.inject(`/u/${other.viewer.username}`);
    assert.match(suspended.body, new RegExp(`suspended until ${until.slice(0, 10)}`));
    assert.equal((await t.app.inject(`/api/users/${other.viewer.username}`)).json<{ restricted: string }>().restricted, 'suspended');
    assert.equal((await t.app.inject('/u/nobody-here')).statusCode, 404);
  });
});
