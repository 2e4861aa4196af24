/**
 * Authorship claims through HTTP, on both engines: claiming from the paper's
 * form and the API, a curator verifying or rejecting (with the reason shown
 * to the claimant, logged, emailed), withdrawing and the profile toggle;
 * every refusal (unknown name, duplicate, a name verified for someone else,
 * a missing reason, another's claim, a user acting as curator); the author
 * badge on comments (page and API); the "Authors on Paperboy" panel; and the
 * trigger that keeps paper_authors in step when a re-import changes authors.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { importPaths } from '../src/ingest/import.js';
import { signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';
import { tempDataDir } from './support/cli.js';

const PAPER = '0704.0001';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface ClaimJson {
  id: number;
  paperId: string;
  authorName: string;
  username: string;
  evidence: string;
  status: string;
  reason: string | null;
  showOnProfile: boolean;
}

let t: TestApp;
let names: string[];

before(async () => {
  t = await importedApp({ RATE_LIMIT_WRITE: '200' });
  const paper = await t.app.inject(`/api/papers/${PAPER}`);
  names = paper.json<{ authors: { name: string }[] }>().authors.map((a) => a.name);
  assert.ok(names.length >= 3, 'the test paper has at least three authors');
});
after(async () => t.close());

const user = (role: 'user' | 'curator' | 'moderator' | 'admin' = 'user'): Promise<TestUser> => signedInUser(t.ctx, t.app, { role });
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const name = (i: number): string => names[i] ?? '';

async function claim(u: TestUser, authorName: string, evidence?: string, paper = PAPER): Promise<LightMyRequestResponse> {
  return u.inject({ method: 'POST', url: `/api/papers/${paper}/claims`, payload: evidence === undefined ? { authorName } : { authorName, evidence } });
}

function assertError(res: LightMyRequestResponse, status: number, message: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.json<{ message: string }>().message, message);
}

async function mailTo(to: string, kind: string): Promise<{ subject: string; text_body: string }> {
  for (let i = 0; i < 100; i += 1) {
    const row = await t.ctx.database.db.selectFrom('outbox').select(['subject', 'text_body']).where('recipient', '=', to).where('kind', '=', kind).executeTakeFirst();
    if (row !== undefined) return row;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no ${kind} mail to ${to}`);
}

async function logEntries(claimId: number): Promise<{ action: string; reason: string; actor_name: string }[]> {
  return t.ctx.database.db
    .selectFrom('moderation_log')
    .select(['action', 'reason', 'actor_name'])
    .where('subject_kind', '=', 'claim')
    .where('subject_id', '=', String(claimId))
    .orderBy('id')
    .execute();
}

describe('claiming through the forms', () => {
  test('the claim page lists the author names; a claim is pending, then verified by a curator from the queue', async () => {
    const ada = await user();
    const curator = await user('curator');
    const page = await ada.inject({ url: `/papers/${PAPER}/claim` });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'private, no-store');
    for (const n of names) assert.ok(page.body.includes(`value="${n.replace(/'/g, '&#39;')}"`) || page.body.includes(n), n);

    const posted = await ada.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: FORM, payload: form({ _csrf: ada.csrf, authorName: name(0), evidence: 'https://example.org/~ada' }) });
    assert.equal(posted.statusCode, 303, posted.body);
    assert.equal(posted.headers.location, `/papers/${PAPER}/claim`);
    const mine = await ada.inject({ url: `/papers/${PAPER}/claim` });
    assert.match(mine.body, /waiting for a curator/);

    const paperPage = await ada.inject({ url: `/papers/${PAPER}` });
    assert.match(paperPage.body, /Authors on Paperboy/);
    assert.match(paperPage.body, /Your claim as/);

    const queue = await curator.inject({ url: '/admin/claims' });
    assert.equal(queue.statusCode, 200);
    assert.ok(queue.body.includes(ada.viewer.username));
    assert.ok(queue.body.includes('https://example.org/~ada'));
    const id = Number(/action="\/admin\/claims\/(\d+)\/verify"/.exec(queue.body)?.[1]);
    const verified = await curator.inject({ method: 'POST', url: `/admin/claims/${id}/verify`, headers: FORM, payload: form({ _csrf: curator.csrf }) });
    assert.equal(verified.statusCode, 303, verified.body);

    const after = await t.app.inject(`/papers/${PAPER}`);
    assert.ok(after.body.includes(`✓ ${ada.viewer.username}`), 'the author list links the verified person');
    assert.deepEqual((await logEntries(id)).map((e) => [e.action, e.actor_name]), [['verify_claim', curator.viewer.username]]);
    const mail = await mailTo(`${ada.viewer.username}@example.org`, 'claim-verified');
    assert.match(mail.text_body, new RegExp(`verified you as ${name(0).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

    // The author badge, on the page and in the API, for this paper only.
    await ada.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'Author here: thanks for reading.' } });
    const other = await user();
    await other.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'Not an author.' } });
    const withBadge = await t.app.inject(`/papers/${PAPER}`);
    assert.equal((withBadge.body.match(/class="badge author-badge"/g) ?? []).length, 1);
    const thread = (await t.app.inject(`/api/papers/${PAPER}/comments`)).json<{ author: { username: string } | null; authorIsVerifiedAuthor: boolean }[]>();
    assert.deepEqual(
      thread.filter((c) => c.author?.username === ada.viewer.username || c.author?.username === other.viewer.username).map((c) => [c.author?.username, c.authorIsVerifiedAuthor]),
      [
        [ada.viewer.username, true],
        [other.viewer.username, false],
      ],
    );
    await ada.inject({ method: 'POST', url: '/api/papers/0704.0002/comments', payload: { body: 'Not my paper.' } });
    const elsewhere = await t.app.inject('/api/papers/0704.0002/comments');
    assert.ok(elsewhere.json<{ authorIsVerifiedAuthor: boolean }[]>().every((c) => !c.authorIsVerifiedAuthor));

    // The profile shows the paper; the owner can hide it from others.
    const profile = await t.app.inject(`/u/${ada.viewer.username}`);
    assert.match(profile.body, /Verified author of/);
    assert.ok(profile.body.includes('as ' + name(0).replace(/'/g, '&#39;')));
    const hide = await ada.inject({ method: 'POST', url: `/claims/${id}/profile`, headers: FORM, payload: form({ _csrf: ada.csrf, show: '0', next: `/u/${ada.viewer.username}` }) });
    assert.equal(hide.statusCode, 303);
    assert.equal(hide.headers.location, `/u/${ada.viewer.username}`);
    const hidden = await t.app.inject(`/api/users/${ada.viewer.username}`);
    assert.deepEqual(hidden.json<{ claimedPapers: unknown[] }>().claimedPapers, []);
    const ownView = await ada.inject({ url: `/u/${ada.viewer.username}` });
    assert.match(ownView.body, /hidden from others/);
  });

  test('refusals re-show the form with what was typed: unknown name 422, too much evidence 400, second claim 409', async () => {
    const bob = await user();
    const unknown = await bob.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: FORM, payload: form({ _csrf: bob.csrf, authorName: 'Nobody Atall', evidence: 'kept text' }) });
    assert.equal(unknown.statusCode, 422);
    assert.match(unknown.body, /not one of this paper&#39;s authors|not one of this paper's authors/);
    assert.match(unknown.body, /kept text/);
    const long = await bob.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: FORM, payload: form({ _csrf: bob.csrf, authorName: name(1), evidence: 'x'.repeat(501) }) });
    assert.equal(long.statusCode, 400);
    const ok = await bob.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: FORM, payload: form({ _csrf: bob.csrf, authorName: name(1) }) });
    assert.equal(ok.statusCode, 303);
    const again = await bob.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: FORM, payload: form({ _csrf: bob.csrf, authorName: name(2) }) });
    assert.equal(again.statusCode, 409);
    const noCsrf = await t.app.inject({ method: 'POST', url: `/papers/${PAPER}/claim`, headers: { ...FORM, cookie: bob.cookie }, payload: form({ authorName: name(2) }) });
    assert.equal(noCsrf.statusCode, 403);
    const anonymous = await t.app.inject({ url: `/papers/${PAPER}/claim` });
    assert.equal(anonymous.statusCode, 303);
    assert.match(String(anonymous.headers.location), /^\/login\?next=/);
    const noPaper = await bob.inject({ url: '/papers/0704.9999/claim' });
    assert.equal(noPaper.statusCode, 404);
    // Old-style ids have a slash: both the page and the API take them.
    const oldStyle = await bob.inject({ url: '/papers/hep-th/9901001/claim' });
    assert.equal(oldStyle.statusCode, 200);
    const oldName = /name="authorName" value="([^"]+)"/.exec(oldStyle.body)?.[1]?.replace(/&#39;/g, "'") ?? '';
    assert.equal((await claim(bob, oldName, undefined, 'hep-th/9901001')).statusCode, 201);
  });

  test('a rejection needs a reason, which the claimant sees on /claims; withdrawing lets them claim again', async () => {
    const cy = await user();
    const curator = await user('curator');
    const created = (await claim(cy, name(2), 'ORCID 0000-0000')).json<ClaimJson>();
    const noReason = await curator.inject({ method: 'POST', url: `/admin/claims/${created.id}/reject`, headers: FORM, payload: form({ _csrf: curator.csrf, reason: '  ' }) });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.body, /Give the reason/);
    const rejected = await curator.inject({ method: 'POST', url: `/admin/claims/${created.id}/reject`, headers: FORM, payload: form({ _csrf: curator.csrf, reason: 'The ORCID <b>names</b> someone else' }) });
    assert.equal(rejected.statusCode, 303);
    const mine = await cy.inject({ url: '/claims' });
    assert.match(mine.body, /Reason: The ORCID &lt;b&gt;names&lt;\/b&gt; someone else/);
    assert.deepEqual((await logEntries(created.id)).map((e) => [e.action, e.reason]), [['reject_claim', 'The ORCID <b>names</b> someone else']]);
    await mailTo(`${cy.viewer.username}@example.org`, 'claim-rejected');

    const withdraw = await cy.inject({ method: 'POST', url: `/claims/${created.id}/withdraw`, headers: FORM, payload: form({ _csrf: cy.csrf }) });
    assert.equal(withdraw.statusCode, 303);
    assert.equal((await claim(cy, name(2))).statusCode, 201);
  });

  test('a user cannot see or act on the queue; another person\'s claim is 404', async () => {
    const dee = await user();
    const eve = await user();
    const created = (await claim(dee, name(3) === '' ? name(2) : name(3))).json<ClaimJson>();
    assert.equal((await eve.inject({ url: '/admin/claims' })).statusCode, 403);
    const verify = await eve.inject({ method: 'POST', url: `/admin/claims/${created.id}/verify`, headers: FORM, payload: form({ _csrf: eve.csrf }) });
    assert.equal(verify.statusCode, 403);
    assert.equal((await eve.inject({ method: 'POST', url: `/claims/${created.id}/withdraw`, headers: FORM, payload: form({ _csrf: eve.csrf }) })).statusCode, 404);
    assert.equal((await eve.inject({ method: 'DELETE', url: `/api/claims/${created.id}` })).statusCode, 404);
    assert.equal((await eve.inject({ method: 'PATCH', url: `/api/claims/${created.id}`, payload: { showOnProfile: false } })).statusCode, 404);
    const still = await t.ctx.database.db.selectFrom('author_claims').select('status').where('id', '=', created.id).executeTakeFirst();
    assert.equal(still?.status, 'pending');
  });
});

describe('claims through the API', () => {
  test('create, list, verify, second person for the same name 409, own claim not decidable, patch and delete', async () => {
    const fay = await user();
    const gus = await user();
    const curator = await user('curator');
    const paper = '0704.0002';
    const authors = (await t.app.inject(`/api/papers/${paper}`)).json<{ authors: { name: string }[] }>().authors.map((a) => a.name);
    const first = authors[0] ?? '';

    const res = await claim(fay, first, 'homepage', paper);
    assert.equal(res.statusCode, 201, res.body);
    const c = res.json<ClaimJson>();
    assert.deepEqual({ ...c, id: 0 }, { ...c, id: 0, paperId: paper, authorName: first, username: fay.viewer.username, evidence: 'homepage', status: 'pending', reason: null, showOnProfile: true });
    assert.equal((await claim(gus, first, undefined, paper)).statusCode, 201);

    assertError(await claim(fay, 'Not An Author', undefined, '0704.0003'), 422, /not one of this paper's authors/);
    assertError(await claim(fay, first, undefined, paper), 409, /already have a pending claim/);
    assertError(await fay.inject({ method: 'POST', url: `/api/papers/${paper}/claims`, payload: {} }), 400, /authorName/);
    assertError(await fay.inject({ method: 'POST', url: `/api/papers/${paper}/claims`, payload: { authorName: first, extra: 1 } }), 400, /extra/);
    assertError(await claim(fay, first, undefined, '0704.9999'), 404, /No paper/);

    const readToken = await fay.token('read');
    const withRead = await t.app.inject({ method: 'POST', url: `/api/papers/${paper}/claims`, headers: { authorization: `Bearer ${readToken}` }, payload: { authorName: authors[1] ?? first } });
    assert.equal(withRead.statusCode, 403);

    assert.equal((await fay.inject({ url: '/api/claims' })).statusCode, 403);
    const queue = await curator.inject({ url: '/api/claims?status=pending' });
    assert.equal(queue.statusCode, 200);
    assert.ok(queue.json<ClaimJson[]>().some((q) => q.id === c.id));
    assertError(await curator.inject({ url: '/api/claims?status=maybe' }), 400, /status/);
    const mine = await fay.inject({ url: '/api/claims/mine' });
    assert.deepEqual(mine.json<ClaimJson[]>().map((m) => m.id), [c.id]);

    assert.equal((await fay.inject({ method: 'POST', url: `/api/claims/${c.id}/verify` })).statusCode, 403);
    const token = await curator.token('write');
    const verified = await t.app.inject({ method: 'POST', url: `/api/claims/${c.id}/verify`, headers: { authorization: `Bearer ${token}` } });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json<ClaimJson>().status, 'verified');
    assertError(await curator.inject({ method: 'POST', url: `/api/claims/${c.id}/verify` }), 409, /already verified/);
    const gusClaim = (await gus.inject({ url: '/api/claims/mine' })).json<ClaimJson[]>()[0];
    assertError(await curator.inject({ method: 'POST', url: `/api/claims/${gusClaim?.id ?? 0}/verify` }), 409, /already verified as/);
    assertError(await claim(await user(), first, undefined, paper), 409, /already verified as/);
    assertError(await curator.inject({ method: 'POST', url: `/api/claims/${gusClaim?.id ?? 0}/reject`, payload: {} }), 400, /reason/);
    assertError(await curator.inject({ method: 'POST', url: '/api/claims/999999/verify' }), 404, /no claim/);

    const selfClaim = (await claim(curator, authors[1] ?? first, undefined, paper)).json<ClaimJson>();
    assertError(await curator.inject({ method: 'POST', url: `/api/claims/${selfClaim.id}/verify` }), 403, /your own claim/);

    assertError(await gus.inject({ method: 'PATCH', url: `/api/claims/${gusClaim?.id ?? 0}`, payload: { showOnProfile: false } }), 409, /Only a verified claim/);
    const patched = await fay.inject({ method: 'PATCH', url: `/api/claims/${c.id}`, payload: { showOnProfile: false } });
    assert.equal(patched.json<ClaimJson>().showOnProfile, false);
    assert.equal((await fay.inject({ method: 'DELETE', url: `/api/claims/${c.id}` })).statusCode, 204);
    assert.equal((await fay.inject({ method: 'DELETE', url: `/api/claims/${c.id}` })).statusCode, 404);
    // With the verified claim gone, the name is free again.
    const now = await curator.inject({ method: 'POST', url: `/api/claims/${gusClaim?.id ?? 0}/verify` });
    assert.equal(now.statusCode, 200, now.body);
  });
});

describe('paper_authors follows the papers', () => {
  test('a re-import that changes a paper\'s authors re-indexes them, and the claim form offers the new names', async () => {
    const dir = tempDataDir('paperboy-claims-');
    const record = (authors: string, version: number) =>
      JSON.stringify({
        id: '2102.00042',
        authors,
        title: 'A paper whose authors change',
        categories: 'cs.LG',
        abstract: 'Abstract.',
        update_date: `2021-02-0${version}`,
        versions: Array.from({ length: version }, (_, i) => ({ version: `v${i + 1}`, created: `Mon, ${i + 1} Feb 2021 10:00:00 GMT` })),
      }) + '\n';
    const first = join(dir, 'v1.jsonl');
    writeFileSync(first, record('Old Author and Zoë Ünal', 1));
    await importPaths(t.ctx.database, [first]);
    const namesOf = async () =>
      (
        await t.ctx.database.db
          .selectFrom('paper_authors')
          .innerJoin('papers', 'papers.id', 'paper_authors.paper_id')
          .select('paper_authors.name')
          .where('papers.arxiv_id', '=', '2102.00042')
          .orderBy('paper_authors.position')
          .execute()
      ).map((r) => r.name);
    assert.deepEqual(await namesOf(), ['Old Author', 'Zoë Ünal']);
    const second = join(dir, 'v2.jsonl');
    writeFileSync(second, record("Zoë Ünal and Seán O'Neill", 2));
    await importPaths(t.ctx.database, [second]);
    assert.deepEqual(await namesOf(), ['Zoë Ünal', "Seán O'Neill"]);
    const hal = await user();
    assertError(await claim(hal, 'Old Author', undefined, '2102.00042'), 422, /not one of this paper's authors/);
    assert.equal((await claim(hal, "Seán O'Neill", undefined, '2102.00042')).statusCode, 201);
  });
});
