/**
 * The discussion through HTTP, on both engines: posting, replying, editing
 * with history and deleting to a tombstone, through the JSON API and through
 * the forms that work without JavaScript; who may do what (anonymous, read
 * tokens, missing CSRF tokens, other people's comments); input errors; the
 * paper's comment count; mentions and replies that notify by row and email;
 * the notifications page; the per-person write limit; the paper page's ETag.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';

const PAPER = '0704.0001';
const OTHER_PAPER = '0704.0002';
const OLD_STYLE = 'hep-th/9901001';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RATE_LIMIT = 40;

interface CommentJson {
  id: number;
  paperId: string;
  parentId: number | null;
  author: { username: string } | null;
  body: string | null;
  bodyHtml: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  url: string;
  revisions?: { body: string; bodyHtml: string; createdAt: string }[];
}

let t: TestApp;

before(async () => {
  t = await importedApp({ RATE_LIMIT_WRITE: String(RATE_LIMIT) });
});
after(async () => t.close());

const user = (name?: string): Promise<TestUser> => signedInUser(t.ctx, t.app, name === undefined ? {} : { username: name });

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

async function post(u: TestUser, body: string, options: { paper?: string; parentId?: number } = {}): Promise<CommentJson> {
  const res = await u.inject({
    method: 'POST',
    url: `/api/papers/${options.paper ?? PAPER}/comments`,
    payload: options.parentId === undefined ? { body } : { body, parentId: options.parentId },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<CommentJson>();
}

async function thread(paper = PAPER): Promise<CommentJson[]> {
  const res = await t.app.inject(`/api/papers/${paper}/comments`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<CommentJson[]>();
}

async function numComments(paper = PAPER): Promise<number> {
  const res = await t.app.inject(`/api/papers/${paper}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ numComments: number }>().numComments;
}

/** The number of comments that are not deleted, which the counter must always equal. */
async function rowsOf(paper = PAPER): Promise<number> {
  const rows = await t.ctx.database.db
    .selectFrom('comments')
    .innerJoin('papers', 'papers.id', 'comments.paper_id')
    .select('comments.id')
    .where('papers.arxiv_id', '=', paper)
    .where('comments.deleted_at', 'is', null)
    .execute();
  return rows.length;
}

function assertError(res: LightMyRequestResponse, status: number, message: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json<{ error: string; message: string }>();
  assert.ok(body.error.length > 0);
  assert.match(body.message, message);
}

/** Mail is stored in the background: wait for `count` messages to `to`. */
async function mailTo(to: string, count = 1): Promise<{ subject: string; text_body: string; kind: string }[]> {
  for (let i = 0; i < 100; i += 1) {
    const rows = await t.ctx.database.db.selectFrom('outbox').select(['subject', 'text_body', 'kind']).where('recipient', '=', to).orderBy('id').execute();
    if (rows.length >= count) return rows;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fewer than ${count} mails to ${to}`);
}

async function notificationsOf(u: TestUser): Promise<{ kind: string; comment_id: number; read_at: string | null }[]> {
  return t.ctx.database.db
    .selectFrom('notifications')
    .select(['kind', 'comment_id', 'read_at'])
    .where('user_id', '=', u.viewer.id)
    .orderBy('id')
    .execute();
}

describe('posting and replying', () => {
  test('a comment through the API: 201 with the comment, in the thread, counted on the paper', async () => {
    const ada = await user();
    const before = await numComments();
    const res = await ada.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'Nice *result*: $a_1 + b_2$.' } });
    assert.equal(res.statusCode, 201, res.body);
    const c = res.json<CommentJson>();
    assert.equal(res.headers.location, `http://localhost:3000/api/comments/${c.id}`);
    assert.equal(c.paperId, PAPER);
    assert.equal(c.parentId, null);
    assert.deepEqual(c.author, { username: ada.viewer.username });
    assert.equal(c.body, 'Nice *result*: $a_1 + b_2$.');
    assert.equal(c.bodyHtml, '<p>Nice <em>result</em>: <span class="tex">$a_1 + b_2$</span>.</p>\n');
    assert.equal(c.editedAt, null);
    assert.equal(c.deleted, false);
    assert.equal(c.url, `http://localhost:3000/papers/${PAPER}#comment-${c.id}`);
    assert.ok(!Number.isNaN(Date.parse(c.createdAt)));

    assert.deepEqual((await thread()).find((x) => x.id === c.id), c);
    assert.equal(await numComments(), before + 1);
    assert.equal(await rowsOf(), await numComments());
  });

  test('a comment through the form, without JavaScript: 303 to the comment on the paper page, which shows it', async () => {
    const bob = await user();
    const res = await bob.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ _csrf: bob.csrf, body: 'Posted **from a form**.' }) });
    assert.equal(res.statusCode, 303, res.body);
    const id = /#comment-(\d+)$/.exec(String(res.headers.location))?.[1];
    assert.equal(res.headers.location, `/papers/${PAPER}#comment-${id}`);
    const page = await t.app.inject(`/papers/${PAPER}`);
    assert.match(page.body, new RegExp(`<article class="comment" id="comment-${id}"`));
    assert.match(page.body, /<p>Posted <strong>from a form<\/strong>\.<\/p>/);
    assert.match(page.body, new RegExp(`<a class="comment-author" href="/u/${bob.viewer.username}">`));
    const count = await numComments();
    assert.match(page.body, new RegExp(`${count} comments\\.`));
  });

  test('old-style ids and any notation of an id reach the same paper', async () => {
    const ada = await user();
    const c = await post(ada, 'On an old paper.', { paper: OLD_STYLE });
    assert.equal(c.paperId, OLD_STYLE);
    assert.ok((await thread(OLD_STYLE)).some((x) => x.id === c.id));
    const versioned = await ada.inject({ method: 'POST', url: `/api/papers/${PAPER}v1/comments`, payload: { body: 'With a version.' } });
    assert.equal(versioned.json<CommentJson>().paperId, PAPER);
    const viaForm = await ada.inject({ method: 'POST', url: `/papers/${OLD_STYLE}/comments`, headers: FORM, payload: form({ _csrf: ada.csrf, body: 'Form, old id.' }) });
    assert.equal(viaForm.statusCode, 303);
    assert.match(String(viaForm.headers.location), new RegExp(`^/papers/${OLD_STYLE}#comment-\\d+$`));
  });

  test('replies: through API and form, under their parent; a parent must be a live comment on the same paper', async () => {
    const ada = await user();
    const bob = await user();
    const parent = await post(ada, 'Parent.');
    const reply = await post(bob, 'A reply.', { parentId: parent.id });
    assert.equal(reply.parentId, parent.id);
    const formReply = await bob.inject({
      method: 'POST',
      url: `/papers/${PAPER}/comments`,
      headers: FORM,
      payload: form({ _csrf: bob.csrf, body: 'A reply from the form.', parentId: String(parent.id) }),
    });
    assert.equal(formReply.statusCode, 303);
    const formReplyId = Number(/#comment-(\d+)$/.exec(String(formReply.headers.location))?.[1]);
    assert.equal((await thread()).find((x) => x.id === formReplyId)?.parentId, parent.id);

    const page = await t.app.inject(`/papers/${PAPER}`);
    const parentAt = page.body.indexOf(`id="comment-${parent.id}"`);
    const replyAt = page.body.indexOf(`id="comment-${reply.id}"`);
    assert.ok(parentAt > 0 && replyAt > parentAt);
    assert.match(page.body.slice(parentAt, replyAt), /<ol class="comments replies">/, 'the reply is nested under its parent');

    const elsewhere = await post(ada, 'On another paper.', { paper: OTHER_PAPER });
    assertError(await bob.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'x', parentId: elsewhere.id } }), 400, /no comment \d+ on 0704\.0001/);
    assertError(await bob.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'x', parentId: 999_999_999 } }), 400, /parentId/);
    const gone = await post(ada, 'Soon deleted.');
    assert.equal((await ada.inject({ method: 'DELETE', url: `/api/comments/${gone.id}` })).statusCode, 204);
    assertError(await bob.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'x', parentId: gone.id } }), 409, /deleted/);
  });
});

describe('editing', () => {
  test('the author edits through the API: edited mark, every earlier body kept oldest first', async () => {
    const ada = await user();
    const c = await post(ada, 'First version.');
    const first = await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Second version.' } });
    assert.equal(first.statusCode, 200, first.body);
    const edited = first.json<CommentJson>();
    assert.equal(edited.body, 'Second version.');
    assert.ok(edited.editedAt !== null);
    await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Third version.' } });
    // The same text again is no new version.
    await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Third version.' } });

    const res = await t.app.inject(`/api/comments/${c.id}`);
    assert.equal(res.statusCode, 200, res.body);
    const detail = res.json<CommentJson>();
    assert.equal(detail.body, 'Third version.');
    assert.deepEqual(
      detail.revisions?.map((r) => r.body),
      ['First version.', 'Second version.'],
    );
    assert.equal(detail.revisions?.[0]?.createdAt, c.createdAt, 'the first version dates from the posting');
    assert.equal(detail.revisions?.[0]?.bodyHtml, '<p>First version.</p>\n');

    const page = await t.app.inject(`/papers/${PAPER}`);
    const at = page.body.indexOf(`id="comment-${c.id}"`);
    const item = page.body.slice(at, page.body.indexOf('</article>', at));
    assert.match(item, /<details class="comment-history"><summary>edited <time/);
    assert.match(item, /<p>First version\.<\/p>[\s\S]*<p>Second version\.<\/p>/);
    assert.match(item, /<div class="comment-body"><p>Third version\.<\/p>/);
  });

  test('the author edits through the form: 303 back to the comment; the page offers edit and delete to the author only', async () => {
    const ada = await user();
    const bob = await user();
    const c = await post(ada, 'Typo hre.');
    const mine = await ada.inject({ url: `/papers/${PAPER}` });
    assert.match(mine.body, new RegExp(`action="/comments/${c.id}/edit"`));
    assert.match(mine.body, new RegExp(`action="/comments/${c.id}/delete"`));
    const theirs = await bob.inject({ url: `/papers/${PAPER}` });
    assert.doesNotMatch(theirs.body, new RegExp(`action="/comments/${c.id}/(edit|delete)"`));
    assert.match(theirs.body, new RegExp(`name="parentId" value="${c.id}"`), 'others may reply');

    const res = await ada.inject({ method: 'POST', url: `/comments/${c.id}/edit`, headers: FORM, payload: form({ _csrf: ada.csrf, body: 'Typo here.' }) });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, `/papers/${PAPER}#comment-${c.id}`);
    const detail = (await t.app.inject(`/api/comments/${c.id}`)).json<CommentJson>();
    assert.equal(detail.body, 'Typo here.');
    assert.deepEqual(detail.revisions?.map((r) => r.body), ['Typo hre.']);
  });

  test('an edit that fails is shown again with the text, so nothing is lost; a deleted comment cannot be edited', async () => {
    const ada = await user();
    const c = await post(ada, 'Fine.');
    const empty = await ada.inject({ method: 'POST', url: `/comments/${c.id}/edit`, headers: FORM, payload: form({ _csrf: ada.csrf, body: '   ' }) });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /The comment is empty/);
    const long = 'x'.repeat(10_001);
    const tooLong = await ada.inject({ method: 'POST', url: `/comments/${c.id}/edit`, headers: FORM, payload: form({ _csrf: ada.csrf, body: long }) });
    assert.equal(tooLong.statusCode, 400);
    assert.match(tooLong.body, /too long: 10,001 characters, at most 10,000/);
    assert.ok(tooLong.body.includes(long), 'the text is in the form again');

    await ada.inject({ method: 'DELETE', url: `/api/comments/${c.id}` });
    assertError(await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Back.' } }), 409, /deleted/);
  });
});

describe('deleting', () => {
  test('a deleted comment with replies becomes a tombstone that keeps them; its count, text and history go', async () => {
    const ada = await user();
    const bob = await user();
    const parent = await post(ada, 'Parent to delete.');
    await ada.inject({ method: 'PATCH', url: `/api/comments/${parent.id}`, payload: { body: 'Parent to delete, edited.' } });
    const reply = await post(bob, 'Reply that stays.', { parentId: parent.id });
    const before = await numComments();

    const res = await ada.inject({ method: 'DELETE', url: `/api/comments/${parent.id}` });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.body, '');
    assert.equal(await numComments(), before - 1);
    assert.equal(await rowsOf(), await numComments());

    const list = await thread();
    const tomb = list.find((x) => x.id === parent.id);
    assert.ok(tomb);
    assert.equal(tomb.deleted, true);
    assert.equal(tomb.body, null);
    assert.equal(tomb.bodyHtml, null);
    assert.equal(tomb.author, null);
    assert.equal(list.find((x) => x.id === reply.id)?.parentId, parent.id);
    const detail = (await t.app.inject(`/api/comments/${parent.id}`)).json<CommentJson>();
    assert.deepEqual(detail.revisions, []);
    const stored = await t.ctx.database.db.selectFrom('comments').select('body').where('id', '=', parent.id).executeTakeFirstOrThrow();
    assert.equal(stored.body, '');

    const page = await t.app.inject(`/papers/${PAPER}`);
    assert.match(page.body, new RegExp(`<article class="comment deleted" id="comment-${parent.id}"[^>]*>\\s*<p class="muted">\\[deleted\\]</p>`));
    assert.match(page.body, /<p>Reply that stays\.<\/p>/);
    assert.doesNotMatch(page.body, /Parent to delete/);

    // Again: nothing changes, the count included.
    assert.equal((await ada.inject({ method: 'DELETE', url: `/api/comments/${parent.id}` })).statusCode, 204);
    assert.equal(await numComments(), before - 1);
  });

  test('a deleted comment without replies disappears; the form deletes with a 303 to the discussion', async () => {
    const ada = await user();
    const c = await post(ada, 'Lonely.');
    const res = await ada.inject({ method: 'POST', url: `/comments/${c.id}/delete`, headers: FORM, payload: form({ _csrf: ada.csrf }) });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, `/papers/${PAPER}#discussion`);
    assert.ok(!(await thread()).some((x) => x.id === c.id));
    assert.doesNotMatch((await t.app.inject(`/papers/${PAPER}`)).body, new RegExp(`id="comment-${c.id}"`));
    assert.equal(await rowsOf(), await numComments());
  });
});

describe('who may do what', () => {
  test("nobody edits or deletes another person's comment, through the API or the forms (403), and it stays as it was", async () => {
    const ada = await user();
    const mallory = await user();
    const c = await post(ada, "Ada's words.");
    assertError(await mallory.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Hacked.' } }), 403, /Only the author/);
    assertError(await mallory.inject({ method: 'DELETE', url: `/api/comments/${c.id}` }), 403, /Only the author/);
    const writeToken = await mallory.token('write');
    const bearer = { authorization: `Bearer ${writeToken}` };
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, headers: bearer, payload: { body: 'Hacked.' } })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/comments/${c.id}`, headers: bearer })).statusCode, 403);
    const formEdit = await mallory.inject({ method: 'POST', url: `/comments/${c.id}/edit`, headers: FORM, payload: form({ _csrf: mallory.csrf, body: 'Hacked.' }) });
    assert.equal(formEdit.statusCode, 403);
    assert.match(formEdit.body, /Only the author/);
    const formDelete = await mallory.inject({ method: 'POST', url: `/comments/${c.id}/delete`, headers: FORM, payload: form({ _csrf: mallory.csrf }) });
    assert.equal(formDelete.statusCode, 403);

    const now = (await t.app.inject(`/api/comments/${c.id}`)).json<CommentJson>();
    assert.equal(now.body, "Ada's words.");
    assert.equal(now.deleted, false);
    assert.deepEqual(now.revisions, []);
  });

  test('anonymous writes: 401 from the API, the forms send to log in; nothing is stored', async () => {
    const before = await rowsOf();
    assertError(await t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: 'Anon.' } }), 401, /Sign in/);
    assertError(await t.app.inject({ method: 'PATCH', url: '/api/comments/1', payload: { body: 'Anon.' } }), 401, /Sign in/);
    assertError(await t.app.inject({ method: 'DELETE', url: '/api/comments/1' }), 401, /Sign in/);
    const res = await t.app.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ body: 'Anon.' }) });
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/login\?next=/);
    assert.equal(await rowsOf(), before);
  });

  test('API tokens: a write token posts (no CSRF needed), a read token is refused with 403, an unknown one with 401', async () => {
    const ada = await user();
    const write = await ada.token('write');
    const ok = await t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, headers: { authorization: `Bearer ${write}` }, payload: { body: 'By script.' } });
    assert.equal(ok.statusCode, 201, ok.body);
    const read = await ada.token('read');
    const readHeaders = { authorization: `Bearer ${read}` };
    assertError(await t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, headers: readHeaders, payload: { body: 'x' } }), 403, /read-only/);
    const id = ok.json<CommentJson>().id;
    assertError(await t.app.inject({ method: 'PATCH', url: `/api/comments/${id}`, headers: readHeaders, payload: { body: 'x' } }), 403, /read-only/);
    assertError(await t.app.inject({ method: 'DELETE', url: `/api/comments/${id}`, headers: readHeaders }), 403, /read-only/);
    assert.equal((await t.app.inject({ url: `/api/papers/${PAPER}/comments`, headers: readHeaders })).statusCode, 200, 'reading needs no write scope');
    assertError(await t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, headers: { authorization: 'Bearer pb_nope' }, payload: { body: 'x' } }), 401, /unknown or revoked/);
  });

  test('a session without its CSRF token is refused (403), through the API and the forms', async () => {
    const ada = await user();
    const c = await post(ada, 'Safe.');
    const noCsrf = { cookie: ada.cookie };
    assertError(await t.app.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, headers: noCsrf, payload: { body: 'x' } }), 403, /could not be verified/);
    assertError(await t.app.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, headers: noCsrf, payload: { body: 'x' } }), 403, /could not be verified/);
    assertError(await t.app.inject({ method: 'DELETE', url: `/api/comments/${c.id}`, headers: noCsrf }), 403, /could not be verified/);
    for (const url of [`/papers/${PAPER}/comments`, `/comments/${c.id}/edit`, `/comments/${c.id}/delete`, '/notifications/read']) {
      const res = await t.app.inject({ method: 'POST', url, headers: { ...noCsrf, ...FORM }, payload: form({ body: 'x' }) });
      assert.equal(res.statusCode, 403, url);
      const wrong = await t.app.inject({ method: 'POST', url, headers: { ...noCsrf, ...FORM }, payload: form({ body: 'x', _csrf: 'forged' }) });
      assert.equal(wrong.statusCode, 403, url);
    }
    const now = (await t.app.inject(`/api/comments/${c.id}`)).json<CommentJson>();
    assert.equal(now.body, 'Safe.');
  });

  test('GET on the write URLs changes nothing', async () => {
    const ada = await user();
    const c = await post(ada, 'Still here.');
    const before = await rowsOf();
    for (const url of [`/comments/${c.id}/delete`, `/comments/${c.id}/edit`, '/notifications/read']) {
      const res = await ada.inject({ url });
      assert.ok([404, 405].includes(res.statusCode), `${url}: ${res.statusCode}`);
    }
    const permalink = await t.app.inject(`/comments/${c.id}`);
    assert.equal(permalink.statusCode, 302);
    assert.equal(permalink.headers.location, `/papers/${PAPER}#comment-${c.id}`);
    assert.equal(await rowsOf(), before);
    assert.equal((await t.app.inject(`/api/comments/${c.id}`)).json<CommentJson>().deleted, false);
  });
});

describe('input errors', () => {
  test('the API answers 400 naming the problem, 404 for what does not exist', async () => {
    const ada = await user();
    const c = await post(ada, 'Target.');
    const postTo = (payload: unknown, paper = PAPER) => ada.inject({ method: 'POST', url: `/api/papers/${paper}/comments`, payload: payload as Record<string, unknown> });
    assertError(await postTo({ body: '' }), 400, /The comment is empty/);
    assertError(await postTo({ body: ' \n\t ' }), 400, /The comment is empty/);
    assertError(await postTo({ body: 'x'.repeat(10_001) }), 400, /body: must be at most 10,000 characters/);
    assert.equal((await postTo({ body: 'x'.repeat(10_000) })).statusCode, 201, 'exactly the limit is fine');
    assertError(await postTo({}), 400, /body: is required/);
    assertError(await postTo({ body: 42 }), 400, /body/);
    assertError(await postTo({ body: 'x', parentId: 'one' }), 400, /parentId/);
    assertError(await postTo({ body: 'x', parentId: 1.5 }), 400, /parentId/);
    assertError(await postTo({ body: 'x', extra: true }), 400, /unknown parameter extra/);
    assertError(await postTo({ body: 'x' }, 'not-an-id'), 400, /not an arXiv id/);
    assertError(await postTo({ body: 'x' }, '2501.99999'), 404, /No paper 2501\.99999/);
    assertError(await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: '' } }), 400, /empty/);
    assertError(await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: {} }), 400, /body: is required/);
    assertError(await ada.inject({ method: 'PATCH', url: '/api/comments/abc', payload: { body: 'x' } }), 400, /id: must be a comment number/);
    assertError(await ada.inject({ method: 'PATCH', url: '/api/comments/999999999', payload: { body: 'x' } }), 404, /no comment 999999999/);
    assertError(await ada.inject({ method: 'DELETE', url: '/api/comments/999999999' }), 404, /no comment 999999999/);
    assertError(await t.app.inject('/api/comments/999999999'), 404, /no comment 999999999/);
    assertError(await t.app.inject('/api/papers/2501.99999/comments'), 404, /No paper/);
    assertError(await t.app.inject(`/api/papers/${PAPER}/comments?sort=new`), 400, /unknown parameter sort/);
  });

  test('the forms show the problem with the text kept, or a 404 page', async () => {
    const ada = await user();
    const empty = await ada.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ _csrf: ada.csrf, body: '' }) });
    assert.equal(empty.statusCode, 400);
    assert.match(String(empty.headers['content-type']), /^text\/html/);
    assert.match(empty.body, /<div class="notice error" role="alert"><p>The comment is empty/);
    const long = `${'y'.repeat(10_001)}<b>`;
    const tooLong = await ada.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ _csrf: ada.csrf, body: long }) });
    assert.equal(tooLong.statusCode, 400);
    assert.ok(tooLong.body.includes(`${'y'.repeat(10_001)}&lt;b&gt;</textarea>`), 'the text is kept, escaped');
    const noPaper = await ada.inject({ method: 'POST', url: '/papers/2501.99999/comments', headers: FORM, payload: form({ _csrf: ada.csrf, body: 'x' }) });
    assert.equal(noPaper.statusCode, 404);
    const badParent = await ada.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ _csrf: ada.csrf, body: 'x', parentId: 'abc' }) });
    assert.equal(badParent.statusCode, 400);
    const noComment = await ada.inject({ method: 'POST', url: '/comments/999999999/edit', headers: FORM, payload: form({ _csrf: ada.csrf, body: 'x' }) });
    assert.equal(noComment.statusCode, 404);
  });
});

describe('mentions and replies notify', () => {
  test('mentions of existing people (not yourself) make a notification and an email with a link to the comment', async () => {
    const ada = await user();
    const bob = await user();
    const carol = await user();
    const c = await post(ada, `Thanks @${bob.viewer.username} and @${carol.viewer.username.toUpperCase()}; cc @${ada.viewer.username} @nobody_here \`@${bob.viewer.username}\``);
    assert.match(c.bodyHtml ?? '', new RegExp(`<a class="mention" href="/u/${bob.viewer.username}" rel="nofollow ugc noopener">@${bob.viewer.username}</a>`));
    assert.match(c.bodyHtml ?? '', /@nobody_here/);
    assert.doesNotMatch(c.bodyHtml ?? '', /href="\/u\/nobody_here"/);

    assert.deepEqual(await notificationsOf(bob), [{ kind: 'mention', comment_id: c.id, read_at: null }]);
    assert.deepEqual(await notificationsOf(carol), [{ kind: 'mention', comment_id: c.id, read_at: null }]);
    assert.deepEqual(await notificationsOf(ada), [], 'no notification for mentioning yourself');
    const [mail] = await mailTo(`${bob.viewer.username}@example.org`);
    assert.equal(mail?.kind, 'mention');
    assert.match(mail?.subject ?? '', new RegExp(`^${ada.viewer.username} mentioned you in a comment on "`));
    assert.ok(mail?.text_body.includes(`http://localhost:3000/papers/${PAPER}#comment-${c.id}`), mail?.text_body);
    assert.ok(mail?.text_body.includes(`> Thanks @${bob.viewer.username}`));
    assert.equal((await mailTo(`${carol.viewer.username}@example.org`))[0]?.kind, 'mention');
  });

  test("a reply notifies the parent's author once, even when it also mentions them; an edit notifies only the newly mentioned", async () => {
    const ada = await user();
    const bob = await user();
    const carol = await user();
    const parent = await post(ada, 'Question?');
    const reply = await post(bob, `Answer, @${ada.viewer.username}.`, { parentId: parent.id });
    assert.deepEqual(await notificationsOf(ada), [{ kind: 'reply', comment_id: reply.id, read_at: null }]);
    const [mail] = await mailTo(`${ada.viewer.username}@example.org`);
    assert.equal(mail?.kind, 'reply');
    assert.match(mail?.subject ?? '', /replied to your comment/);
    // Replying to yourself notifies nobody.
    await post(ada, 'Me again.', { parentId: parent.id });
    assert.equal((await notificationsOf(ada)).length, 1);

    await bob.inject({ method: 'PATCH', url: `/api/comments/${reply.id}`, payload: { body: `Answer, @${ada.viewer.username} and @${carol.viewer.username}.` } });
    assert.equal((await notificationsOf(ada)).length, 1, 'ada was notified of this comment already');
    assert.deepEqual(await notificationsOf(carol), [{ kind: 'mention', comment_id: reply.id, read_at: null }]);
  });

  test('the notifications page lists them, unread first marked, and "mark all read" clears the header count', async () => {
    const ada = await user();
    const bob = await user();
    await post(bob, `Hello @${ada.viewer.username}, see $x^2$ <script>alert(1)</script>`);

    const anonymous = await t.app.inject('/notifications');
    assert.equal(anonymous.statusCode, 303);
    assert.match(String(anonymous.headers.location), /^\/login\?next=%2Fnotifications/);

    const page = await ada.inject({ url: '/notifications' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'private, no-store');
    assert.match(page.body, new RegExp(`<strong>${bob.viewer.username}</strong> mentioned you on\\s*<a href="/papers/${PAPER}#comment-\\d+">`));
    assert.match(page.body, /1 unread\./);
    assert.match(page.body, /<span class="badge" aria-label="1 unread">1<\/span>/, 'the header counts it');
    assert.doesNotMatch(page.body, /<script>alert/);

    const read = await ada.inject({ method: 'POST', url: '/notifications/read', headers: FORM, payload: form({ _csrf: ada.csrf }) });
    assert.equal(read.statusCode, 303);
    assert.equal(read.headers.location, '/notifications');
    assert.ok((await notificationsOf(ada)).every((n) => n.read_at !== null));
    const after = await ada.inject({ url: '/notifications' });
    assert.doesNotMatch(after.body, /unread/);
    assert.match(after.body, /All read\./);
  });

  test('deleting a comment withdraws its notifications', async () => {
    const ada = await user();
    const bob = await user();
    const c = await post(bob, `@${ada.viewer.username} look`);
    assert.equal((await notificationsOf(ada)).length, 1);
    await bob.inject({ method: 'DELETE', url: `/api/comments/${c.id}` });
    assert.deepEqual(await notificationsOf(ada), []);
  });
});

test('posting and editing count against the per-person write limit: 429 with Retry-After past it', async () => {
  const ada = await user();
  const first = await post(ada, 'Limit 1.');
  let status = 0;
  let sent = 1;
  let last: LightMyRequestResponse | undefined;
  while (sent < RATE_LIMIT + 5) {
    last = sent % 2 === 0
      ? await ada.inject({ method: 'PATCH', url: `/api/comments/${first.id}`, payload: { body: `Edit ${sent}.` } })
      : await ada.inject({ method: 'POST', url: `/api/papers/${PAPER}/comments`, payload: { body: `Limit ${sent}.` } });
    sent += 1;
    status = last.statusCode;
    if (status === 429) break;
  }
  assert.equal(status, 429);
  assert.equal(sent, RATE_LIMIT + 1, 'the request past the limit is refused');
  assert.ok(last);
  assert.ok(Number(last.headers['retry-after']) > 0);
  assertError(last, 429, /Too many requests/);
  const form429 = await ada.inject({ method: 'POST', url: `/papers/${PAPER}/comments`, headers: FORM, payload: form({ _csrf: ada.csrf, body: 'x' }) });
  assert.equal(form429.statusCode, 429, 'the forms share the budget');
  // Another person has a budget of their own.
  await post(await user(), 'Not limited.');
});

describe('the paper page', () => {
  test('anonymous visitors read the thread and get a link to log in, with no form or token', async () => {
    const ada = await user();
    await post(ada, 'Visible to all.');
    const page = await t.app.inject(`/papers/${PAPER}`);
    assert.equal(page.statusCode, 200);
    const section = page.body.slice(page.body.indexOf('<section id="discussion"'));
    assert.match(section, /<a href="\/login\?next=%2Fpapers%2F0704\.0001%23discussion">Log in<\/a>/);
    assert.doesNotMatch(section, /<form|_csrf/);
    assert.match(section, /Visible to all\./);
  });

  test('the ETag changes with a new comment, an edit, a deletion and the viewer', async () => {
    const ada = await user();
    const bob = await user();
    const etag = async (u?: TestUser): Promise<string> => {
      const res = u === undefined ? await t.app.inject(`/papers/${OTHER_PAPER}`) : await u.inject({ url: `/papers/${OTHER_PAPER}` });
      assert.equal(res.statusCode, 200);
      return String(res.headers.etag);
    };
    const start = await etag();
    assert.equal(await etag(), start, 'stable while nothing changes');
    const c = await post(ada, 'Changes the page.', { paper: OTHER_PAPER });
    const posted = await etag();
    assert.notEqual(posted, start);
    await ada.inject({ method: 'PATCH', url: `/api/comments/${c.id}`, payload: { body: 'Changed again.' } });
    const edited = await etag();
    assert.notEqual(edited, posted);
    const asAda = await etag(ada);
    const asBob = await etag(bob);
    assert.notEqual(asAda, edited);
    assert.notEqual(asAda, asBob);
    const revalidated = await ada.inject({ url: `/papers/${OTHER_PAPER}`, headers: { 'if-none-match': asAda } });
    assert.equal(revalidated.statusCode, 304);
    const anonymousCopy = await ada.inject({ url: `/papers/${OTHER_PAPER}`, headers: { 'if-none-match': edited } });
    assert.equal(anonymousCopy.statusCode, 200, 'a copy made for someone else is not reused');
    await ada.inject({ method: 'DELETE', url: `/api/comments/${c.id}` });
    assert.notEqual(await etag(), edited);
  });

  test('markup in comments is shown as text on the page and in the API', async () => {
    const ada = await user();
    const nasty = '<script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) <iframe src="https://evil.example"></iframe>';
    const c = await post(ada, nasty);
    assert.equal(c.body, nasty, 'the source is kept as written');
    assert.doesNotMatch(c.bodyHtml ?? '', /<script|<img|<iframe|href="javascript/i);
    const page = await t.app.inject(`/papers/${PAPER}`);
    const at = page.body.indexOf(`id="comment-${c.id}"`);
    const item = page.body.slice(at, page.body.indexOf('</article>', at));
    assert.doesNotMatch(item, /<script|<img|<iframe|href="javascript/i);
    assert.match(item, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

test('the OpenAPI document describes the comment endpoints and their bodies', async () => {
  const doc = (await t.app.inject('/api/openapi.json')).json<{
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  }>();
  const list = doc.paths['/api/papers/{id}/comments'];
  assert.ok(list?.get && list.post);
  assert.ok(list.post.responses['201'] && list.post.responses['401'] && list.post.responses['403'] && list.post.responses['429']);
  assert.deepEqual(Object.keys(list.post.requestBody?.content['application/json']?.schema.properties ?? {}), ['body', 'parentId']);
  const one = doc.paths['/api/comments/{id}'];
  assert.ok(one?.get && one.patch && one.delete);
  assert.ok(one.delete.responses['204'] && one.patch.responses['403'] && one.patch.responses['404']);
  assert.ok(doc.components.schemas.Comment?.properties?.bodyHtml);
  assert.ok(doc.components.schemas.CommentWithHistory?.properties?.revisions);
});
