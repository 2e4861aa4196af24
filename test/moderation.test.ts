/**
 * Curation and moderation through HTTP, on both engines: featuring and
 * unfeaturing with a reason (seen on the cached daily page at once), locking
 * a discussion, reports and the queue, hiding a comment (its text gone from
 * the page and the API for everyone but its author and moderators),
 * moderators editing and deleting others' comments, who may act on whom, and
 * the public log as a page and through the API. Each action's log entry is
 * checked, and each refused action is checked to change nothing.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signedInUser, type TestUser } from './support/accounts.js';
import { importedApp, type TestApp } from './support/app.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const OLD_STYLE = 'hep-th/9901001';

interface LogPage {
  entries: { id: number; action: string; actor: { username: string; role: string }; subject: { kind: string; id: string; label: string }; reason: string }[];
  next: number | null;
}
interface CommentJson {
  id: number;
  body: string | null;
  bodyHtml: string | null;
  hidden: boolean;
  hiddenReason: string | null;
}

let t: TestApp;
let user: TestUser;
let other: TestUser;
let curator: TestUser;
let moderator: TestUser;
let moderator2: TestUser;
let admin: TestUser;

before(async () => {
  t = await importedApp();
  [user, other, curator, moderator, moderator2, admin] = await Promise.all([
    signedInUser(t.ctx, t.app),
    signedInUser(t.ctx, t.app),
    signedInUser(t.ctx, t.app, { role: 'curator' }),
    signedInUser(t.ctx, t.app, { role: 'moderator' }),
    signedInUser(t.ctx, t.app, { role: 'moderator' }),
    signedInUser(t.ctx, t.app, { role: 'admin' }),
  ]);
});
after(async () => t.close());

function form(u: TestUser, fields: Record<string, string>): string {
  return new URLSearchParams({ ...fields, _csrf: u.csrf }).toString();
}

async function postForm(u: TestUser, url: string, fields: Record<string, string>) {
  return u.inject({ method: 'POST', url, headers: FORM, payload: form(u, fields) });
}

async function log(query = ''): Promise<LogPage> {
  const res = await t.app.inject(`/api/moderation${query}`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json<LogPage>();
}

async function latest(): Promise<LogPage['entries'][number] | undefined> {
  return (await log('?limit=1')).entries[0];
}

async function logCount(): Promise<number> {
  const rows = await t.ctx.database.db.selectFrom('moderation_log').select('id').execute();
  return rows.length;
}

async function comment(u: TestUser, paper: string, body: string): Promise<number> {
  const res = await u.inject({ method: 'POST', url: `/api/papers/${paper}/comments`, payload: { body } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: number }>().id;
}

/**
 * The daily page once it shows (or stops showing) `paper`. SQLite counts
 * commits itself; PostgreSQL's change notification arrives milliseconds after
 * the commit, so the page may take a moment there.
 */
async function dailyPageShows(day: string, paper: string, shown: boolean): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if ((await t.app.inject(day)).body.includes(`/papers/${paper}"`) === shown) return true;
    await sleep(50);
  }
  return false;
}

async function unfeaturedPaper(offset = 0): Promise<string> {
  const row = await t.ctx.database.db
    .selectFrom('papers')
    .select('arxiv_id')
    .where('id', 'not in', (eb) => eb.selectFrom('featured').select('paper_id'))
    .where('arxiv_id', 'not like', '%/%')
    .orderBy('id')
    .offset(offset)
    .limit(1)
    .executeTakeFirstOrThrow();
  return row.arxiv_id;
}

describe('curators feature and unfeature', () => {
  test('a featured paper shows on the (cached) daily page at once, and leaves it when unfeatured; both logged', async () => {
    const paper = await unfeaturedPaper();
    const today = new Date().toISOString().slice(0, 10);
    const day = `/papers/date/${today}`;
    const beforePage = await t.app.inject(day);
    assert.ok(!beforePage.body.includes(`/papers/${paper}"`), 'not on the page yet');

    const page = await curator.inject({ url: `/papers/${paper}` });
    assert.match(page.body, /<h2 id="curation-h">Curation<\/h2>/);
    assert.doesNotMatch(page.body, /Lock discussion/, 'curators do not lock');

    const refused = await postForm(curator, `/papers/${paper}/feature`, { day: today, reason: '' });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /reason/);

    const res = await postForm(curator, `/papers/${paper}/feature`, { day: today, reason: 'great result' });
    assert.equal(res.statusCode, 303, res.body);
    assert.ok(await dailyPageShows(day, paper, true), 'on the daily page at once');
    assert.match((await t.app.inject(`/papers/${paper}`)).body, /Featured by /);
    const entry = await latest();
    assert.equal(entry?.action, 'feature_paper');
    assert.equal(entry?.subject.id, paper);
    assert.equal(entry?.actor.username, curator.viewer.username);
    assert.match(entry?.reason ?? '', /great result/);

    const again = await postForm(curator, `/papers/${paper}/feature`, { day: today, reason: 'twice' });
    assert.equal(again.statusCode, 409);

    const off = await postForm(curator, `/papers/${paper}/unfeature`, { reason: 'duplicate of another paper' });
    assert.equal(off.statusCode, 303);
    assert.ok(await dailyPageShows(day, paper, false), 'off the daily page at once');
    assert.equal((await latest())?.action, 'unfeature_paper');
    const offAgain = await postForm(curator, `/papers/${paper}/unfeature`, { reason: 'again' });
    assert.equal(offAgain.statusCode, 409);
  });

  test('a user cannot feature (403) and nothing changes; anonymous is sent to sign in', async () => {
    const paper = await unfeaturedPaper(1);
    const count = await logCount();
    const res = await postForm(user, `/papers/${paper}/feature`, { reason: 'mine' });
    assert.equal(res.statusCode, 403);
    const api = await user.inject({ method: 'POST', url: `/api/papers/${paper}/feature`, payload: { reason: 'mine' } });
    assert.equal(api.statusCode, 403);
    const anon = await t.app.inject({ method: 'POST', url: `/api/papers/${paper}/feature`, payload: { reason: 'x' } });
    assert.equal(anon.statusCode, 401);
    assert.equal(await logCount(), count);
    const row = await t.ctx.database.db.selectFrom('featured').innerJoin('papers', 'papers.id', 'featured.paper_id').select('featured.paper_id').where('papers.arxiv_id', '=', paper).executeTakeFirst();
    assert.equal(row, undefined);
    assert.doesNotMatch((await user.inject({ url: `/papers/${paper}` })).body, /curation-h/);
  });

  test('through the API with a write token, old-style ids too', async () => {
    const token = await curator.token('write');
    const auth = { authorization: `Bearer ${token}` };
    const paper = await unfeaturedPaper(2);
    const bad = await t.app.inject({ method: 'POST', url: `/api/papers/${paper}/feature`, headers: auth, payload: { reason: 'x', day: '2024-13-45' } });
    assert.equal(bad.statusCode, 400);
    const res = await t.app.inject({ method: 'POST', url: `/api/papers/${paper}/feature`, headers: auth, payload: { reason: 'api pick', day: '2024-05-01' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { action: 'feature_paper', subject: paper, reason: 'api pick' });
    const featured = await t.app.inject(`/api/papers/${paper}`);
    assert.match(featured.body, /2024-05-01/);
    const off = await t.app.inject({ method: 'DELETE', url: `/api/papers/${paper}/feature`, headers: auth, payload: { reason: 'api drop' } });
    assert.equal(off.statusCode, 200, off.body);
    const old = await t.app.inject({ method: 'DELETE', url: `/api/papers/${OLD_STYLE}/feature`, headers: auth, payload: { reason: 'old style' } });
    assert.ok([200, 409].includes(old.statusCode), old.body);
    const missing = await t.app.inject({ method: 'POST', url: '/api/papers/0704.9999/feature', headers: auth, payload: { reason: 'x' } });
    assert.equal(missing.statusCode, 404);
  });
});

describe('locked discussions', () => {
  test('a moderator locks: no new comments or replies (409 with the reason), the page says so; unlock opens it', async () => {
    const paper = '0704.0002';
    const first = await comment(user, paper, 'Before the lock.');
    const byCurator = await postForm(curator, `/papers/${paper}/lock`, { reason: 'heated' });
    assert.equal(byCurator.statusCode, 403);

    const res = await postForm(moderator, `/papers/${paper}/lock`, { reason: 'flame war' });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal((await latest())?.action, 'lock_thread');
    const api = await user.inject({ method: 'POST', url: `/api/papers/${paper}/comments`, payload: { body: 'after' } });
    assert.equal(api.statusCode, 409);
    assert.match(api.json<{ message: string }>().message, /locked.*flame war/);
    const reply = await user.inject({ method: 'POST', url: `/api/papers/${paper}/comments`, payload: { body: 'reply', parentId: first } });
    assert.equal(reply.statusCode, 409);
    const viaForm = await postForm(user, `/papers/${paper}/comments`, { body: 'by form' });
    assert.equal(viaForm.statusCode, 409);
    const page = await user.inject({ url: `/papers/${paper}` });
    assert.match(page.body, /This discussion is locked<\/strong> by the moderators: flame war/);
    assert.doesNotMatch(page.body, /id="comment-new"/);
    assert.equal((await postForm(moderator, `/papers/${paper}/lock`, { reason: 'again' })).statusCode, 409);

    const token = await moderator.token('write');
    const open = await t.app.inject({ method: 'DELETE', url: `/api/papers/${paper}/lock`, headers: { authorization: `Bearer ${token}` }, payload: { reason: 'calmer now' } });
    assert.equal(open.statusCode, 200, open.body);
    assert.equal((await latest())?.action, 'unlock_thread');
    await comment(user, paper, 'After the unlock.');
  });
});

describe('reports, hiding and the queue', () => {
  test('a report is filed once, never on your own comment; the moderator hides from the queue; the text is gone for others', async () => {
    const paper = '0704.0003';
    const secret = 'Buy cheap pills at spam.example';
    const id = await comment(user, paper, secret);

    const own = await user.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'spam' } });
    assert.equal(own.statusCode, 403);
    const badReason = await other.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'boring' } });
    assert.equal(badReason.statusCode, 400);
    const long = await other.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'other', details: 'x'.repeat(1001) } });
    assert.equal(long.statusCode, 400);
    const filed = await other.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'spam', details: 'an ad' } });
    assert.equal(filed.statusCode, 201, filed.body);
    assert.equal(filed.json<{ commentId: number }>().commentId, id);
    const twice = await other.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'abuse' } });
    assert.equal(twice.statusCode, 409);
    const byForm = await postForm(moderator2, `/comments/${id}/report`, { reason: 'off-topic', details: '' });
    assert.equal(byForm.statusCode, 303, byForm.body);

    assert.equal((await user.inject({ url: '/admin/reports' })).statusCode, 403);
    const queue = await moderator.inject({ url: '/admin/reports' });
    assert.equal(queue.statusCode, 200);
    assert.match(queue.body, new RegExp(`id="reported-${id}"`));
    assert.match(queue.body, /<strong>spam<\/strong> from /);
    assert.match(queue.body, /an ad/);

    const count = await logCount();
    const noReason = await postForm(moderator, `/comments/${id}/hide`, { reason: ' ', next: '/admin/reports' });
    assert.equal(noReason.statusCode, 400);
    assert.equal(await logCount(), count);
    const hidden = await postForm(moderator, `/comments/${id}/hide`, { reason: 'advertising', next: '/admin/reports' });
    assert.equal(hidden.statusCode, 303, hidden.body);
    assert.equal(hidden.headers.location, '/admin/reports');
    const entry = await latest();
    assert.equal(entry?.action, 'hide_comment');
    assert.equal(entry?.subject.id, String(id));
    assert.ok(!JSON.stringify(entry).includes('pills'), 'the log never holds the hidden text');
    assert.doesNotMatch((await moderator.inject({ url: '/admin/reports' })).body, new RegExp(`id="reported-${id}"`));
    const reports = await t.ctx.database.db.selectFrom('reports').select(['resolution']).where('comment_id', '=', id).execute();
    assert.deepEqual(reports.map((r) => r.resolution), ['hidden', 'hidden']);

    for (const viewer of [undefined, other]) {
      const page = viewer === undefined ? await t.app.inject(`/papers/${paper}`) : await viewer.inject({ url: `/papers/${paper}` });
      assert.match(page.body, /\[hidden by a moderator: advertising\]/);
      assert.ok(!page.body.includes('cheap pills'), 'hidden text not in the page');
      const api = viewer === undefined ? await t.app.inject(`/api/papers/${paper}/comments`) : await viewer.inject({ url: `/api/papers/${paper}/comments` });
      const shown = api.json<CommentJson[]>().find((c) => c.id === id);
      assert.equal(shown?.body, null);
      assert.equal(shown?.bodyHtml, null);
      assert.equal(shown?.hidden, true);
      assert.equal(shown?.hiddenReason, 'advertising');
      assert.ok(!(await t.app.inject(`/api/comments/${id}`)).body.includes('cheap pills'));
    }
    for (const viewer of [user, moderator]) {
      assert.ok((await viewer.inject({ url: `/papers/${paper}` })).body.includes('cheap pills'), 'author and moderators still read it');
      const api = await viewer.inject({ url: `/api/papers/${paper}/comments` });
      assert.equal(api.json<CommentJson[]>().find((c) => c.id === id)?.body, secret);
    }
    assert.equal((await postForm(moderator, `/comments/${id}/hide`, { reason: 'again' })).statusCode, 409);

    const shownAgain = await postForm(moderator, `/comments/${id}/unhide`, { reason: 'appeal accepted' });
    assert.equal(shownAgain.statusCode, 303);
    assert.equal((await latest())?.action, 'unhide_comment');
    assert.ok((await t.app.inject(`/papers/${paper}`)).body.includes('cheap pills'));
  });

  test('reports can be dismissed (logged); staff cannot hide a comment of their own or a higher role', async () => {
    const paper = '0704.0004';
    const id = await comment(user, paper, 'A fine comment.');
    await other.inject({ method: 'POST', url: `/api/comments/${id}/reports`, payload: { reason: 'other' } });
    const dismissed = await postForm(moderator, `/admin/reports/${id}/dismiss`, { reason: 'nothing wrong' });
    assert.equal(dismissed.statusCode, 303);
    assert.equal((await latest())?.action, 'dismiss_report');
    assert.equal((await postForm(moderator, `/admin/reports/${id}/dismiss`, { reason: 'again' })).statusCode, 409);

    const byModerator = await comment(moderator2, paper, 'A moderator speaks.');
    const byAdmin = await comment(admin, paper, 'An admin speaks.');
    const count = await logCount();
    assert.equal((await postForm(moderator, `/comments/${byModerator}/hide`, { reason: 'x' })).statusCode, 403);
    assert.equal((await postForm(moderator, `/comments/${byAdmin}/hide`, { reason: 'x' })).statusCode, 403);
    const self = await comment(moderator, paper, 'My own.');
    assert.equal((await postForm(moderator, `/comments/${self}/hide`, { reason: 'x' })).statusCode, 403);
    assert.equal((await postForm(user, `/comments/${id}/hide`, { reason: 'x' })).statusCode, 403);
    assert.equal(await logCount(), count);
    // An admin outranks a moderator.
    const token = await admin.token('write');
    const res = await t.app.inject({ method: 'POST', url: `/api/comments/${byModerator}/hide`, headers: { authorization: `Bearer ${token}` }, payload: { reason: 'off-topic' } });
    assert.equal(res.statusCode, 200, res.body);
  });
});

describe("moderators edit and delete others' comments", () => {
  test('with a reason (logged, history kept); without one 400; users still cannot', async () => {
    const paper = '0704.0005';
    const id = await comment(user, paper, 'Original words.');
    const byUser = await other.inject({ method: 'PATCH', url: `/api/comments/${id}`, payload: { body: 'hijack' } });
    assert.equal(byUser.statusCode, 403);
    const noReason = await moderator.inject({ method: 'PATCH', url: `/api/comments/${id}`, payload: { body: 'Edited by mod.' } });
    assert.equal(noReason.statusCode, 400);
    const formNoReason = await postForm(moderator, `/comments/${id}/edit`, { body: 'Edited by mod.' });
    assert.equal(formNoReason.statusCode, 400);
    assert.match(formNoReason.body, /say why/);
    assert.match(formNoReason.body, /name="reason"/, 'the form comes back with a reason field');
    assert.match(formNoReason.body, /Edited by mod\./, 'and what was typed');
    const edited = await moderator.inject({ method: 'PATCH', url: `/api/comments/${id}`, payload: { body: 'Edited by mod.', reason: 'removed a phone number' } });
    assert.equal(edited.statusCode, 200, edited.body);
    const entry = await latest();
    assert.equal(entry?.action, 'edit_comment');
    assert.equal(entry?.reason, 'removed a phone number');
    const history = await t.app.inject(`/api/comments/${id}`);
    assert.deepEqual(
      history.json<{ revisions: { body: string }[] }>().revisions.map((r) => r.body),
      ['Original words.'],
    );

    const viaForm = await postForm(moderator, `/comments/${id}/delete`, {});
    assert.equal(viaForm.statusCode, 400);
    const deleted = await postForm(moderator, `/comments/${id}/delete`, { reason: 'spam after all' });
    assert.equal(deleted.statusCode, 303, deleted.body);
    assert.equal((await latest())?.action, 'delete_comment');
    const gone = await t.app.inject(`/api/comments/${id}`);
    assert.equal(gone.json<{ deleted: boolean }>().deleted, true);
  });
});

describe('the public moderation log', () => {
  test('page and API: newest first, filter by action, keyset pages, no private data', async () => {
    const page = await t.app.inject('/moderation');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Moderation log<\/h1>/);
    assert.match(page.body, /hide comment/);
    assert.ok(!page.body.includes(`${moderator.viewer.username}@example.org`), 'no email addresses');
    const filtered = await t.app.inject('/moderation?action=lock_thread');
    assert.match(filtered.body, /lock thread/);
    assert.doesNotMatch(filtered.body, /<td>hide comment<\/td>/);
    assert.equal((await t.app.inject('/moderation?action=nonsense')).statusCode, 400);

    const all = await log('?limit=100');
    assert.ok(all.entries.length >= 10);
    const ids = all.entries.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    const first = await log('?limit=2');
    assert.equal(first.entries.length, 2);
    assert.ok(first.next !== null);
    const second = await log(`?limit=2&before=${first.next}`);
    assert.deepEqual(second.entries.map((e) => e.id), ids.slice(2, 4));
    const hides = await log('?action=hide_comment');
    assert.ok(hides.entries.length > 0 && hides.entries.every((e) => e.action === 'hide_comment'));
    assert.equal((await t.app.inject('/api/moderation?action=nope')).statusCode, 400);
    assert.equal((await t.app.inject('/api/moderation?limit=0')).statusCode, 400);
    assert.ok(!JSON.stringify(all).includes('@example.org'), 'no email addresses');
  });
});
