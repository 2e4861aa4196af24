/**
 * Admin pages, never cached:
 * - /admin: the staff dashboard (open reports, pending claims, links).
 * - /admin/users, /admin/users/:id (moderators and up): find an account, see
 *   its status and recent comments, ban, unban, suspend or unsuspend it; admins
 *   also change roles and see email addresses.
 * - /admin/settings (admins): the instance settings (src/moderation/settings.ts).
 * - /admin/outbox (admins): the mail the instance sent or, without SMTP,
 *   would have sent: on a first-run instance it is how an admin reads a
 *   confirmation link.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { restrictionOf, ROLES, roleAtLeast, type Viewer } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import type { Role } from '../db/schema.js';
import { openReportCount } from '../moderation/reports.js';
import { pendingClaimCount } from '../people/claims.js';
import { banUser, MAX_SUSPENSION_DAYS, setRole, suspendUser, unbanUser, unsuspendUser, type AccountActionResult } from '../moderation/restrictions.js';
import { changeSettings, instanceSettings, SETTING_KEYS, SETTINGS, SettingsChange, settingValues } from '../moderation/settings.js';
import { csrfField, requireWrite } from './auth.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

const PAGE = 50;
const OutboxQuery = z.object({ before: z.coerce.number().int().positive().optional() });
const UsersQuery = z.object({ q: z.string().trim().max(254).default('') });
const USER_ID_RE = /^\d{1,15}$/;
const issues = (error: z.ZodError): string => error.issues.map((i) => i.message).join(' ');
const reason = z.string({ error: 'reason: say why.' }).trim().min(1, 'reason: say why; it goes to the public moderation log.').max(500, 'reason: at most 500 characters.');
const ReasonForm = z.object({ reason });
const SuspendForm = z.object({
  reason,
  days: z.coerce
    .number({ error: `days: a whole number from 1 to ${MAX_SUSPENSION_DAYS}.` })
    .int(`days: a whole number from 1 to ${MAX_SUSPENSION_DAYS}.`)
    .min(1, `days: a whole number from 1 to ${MAX_SUSPENSION_DAYS}.`)
    .max(MAX_SUSPENSION_DAYS, `days: a whole number from 1 to ${MAX_SUSPENSION_DAYS}.`),
});
const RoleForm = z.object({ reason, role: z.enum(ROLES as [Role, ...Role[]], { error: `role: one of ${ROLES.join(', ')}.` }) });

function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

async function dashboard(ctx: AppContext, viewer: Viewer): Promise<SafeHtml> {
  const [reports, claims, users] = await Promise.all([
    openReportCount(ctx.database),
    pendingClaimCount(ctx.database),
    ctx.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  const moderator = roleAtLeast(viewer.role, 'moderator');
  const admin = roleAtLeast(viewer.role, 'admin');
  return html`<h1>Admin</h1>
<p class="muted">You are signed in as a ${viewer.role}.</p>
<ul class="admin-links">
${moderator ? html`<li><a href="/admin/reports">Reports</a>: ${Number(reports)} ${Number(reports) === 1 ? 'comment' : 'comments'} with open reports</li>` : ''}
<li><a href="/admin/claims">Authorship claims</a>: ${claims} pending</li>
${moderator ? html`<li><a href="/admin/users">Users</a>: ${Number(users.n)} accounts</li>` : ''}
${admin ? html`<li><a href="/admin/settings">Instance settings</a></li><li><a href="/admin/outbox">Outbox</a>: mail sent or waiting</li>` : ''}
<li><a href="/moderation">Public moderation log</a></li>
</ul>`;
}

async function usersPage(ctx: AppContext, viewer: Viewer, q: string): Promise<SafeHtml> {
  const admin = roleAtLeast(viewer.role, 'admin');
  let query = ctx.database.db
    .selectFrom('users')
    .select(['id', 'username', 'email', 'role', 'created_at', 'banned_at', 'suspended_until', 'restriction_reason'])
    .orderBy('id', 'desc')
    .limit(PAGE);
  if (q !== '') {
    const pattern = `%${q.toLowerCase()}%`;
    // Moderators find people by name; only admins, who see addresses, by email.
    query = admin ? query.where((eb) => eb.or([eb('username_key', 'like', pattern), eb('email_key', 'like', pattern)])) : query.where('username_key', 'like', pattern);
  }
  const rows = await query.execute();
  return html`<h1>Users</h1>
<form method="get" action="/admin/users" class="inline-form" role="search">
<label for="users-q">${admin ? 'Username or email' : 'Username'}</label>
<input id="users-q" name="q" type="search" value="${q}">
<button type="submit" class="secondary">Search</button>
</form>
${
  rows.length === 0
    ? html`<p>No accounts match.</p>`
    : html`<table class="users"><caption class="visually-hidden">Accounts${q === '' ? ', newest first' : ` matching ${q}`}</caption>
<thead><tr><th scope="col">Username</th>${admin ? html`<th scope="col">Email</th>` : ''}<th scope="col">Role</th><th scope="col">Status</th><th scope="col">Joined</th></tr></thead>
<tbody>${rows.map((u) => {
        const restriction = restrictionOf(u);
        return html`<tr><td><a href="/admin/users/${u.id}">${u.username}</a></td>${admin ? html`<td>${u.email}</td>` : ''}<td>${u.role}</td>
<td>${restriction === null ? 'active' : restriction.kind === 'banned' ? 'banned' : `suspended until ${when(restriction.until)}`}</td><td>${u.created_at.slice(0, 10)}</td></tr>`;
      })}</tbody></table>`
}`;
}

async function userPage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, viewer: Viewer, userId: number, message: SafeHtml | '' = ''): Promise<SafeHtml | null> {
  const user = await ctx.database.db
    .selectFrom('users')
    .select(['id', 'username', 'email', 'role', 'created_at', 'banned_at', 'suspended_until', 'restriction_reason'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (user === undefined) return null;
  const comments = await ctx.database.db
    .selectFrom('comments as c')
    .innerJoin('papers as p', 'p.id', 'c.paper_id')
    .select(['c.id', 'c.body', 'c.created_at', 'c.hidden_at', 'c.deleted_at', 'p.arxiv_id', 'p.title_text'])
    .where('c.user_id', '=', user.id)
    .orderBy('c.id', 'desc')
    .limit(20)
    .execute();
  const restriction = restrictionOf(user);
  const admin = roleAtLeast(viewer.role, 'admin');
  const csrf = csrfField(ctx, req, reply);
  const canAct = user.id !== viewer.id && ROLES.indexOf(user.role) < ROLES.indexOf(viewer.role);
  const reasonField = (id: string) => html`<p class="field"><label for="${id}">Reason (shown in the public moderation log)</label><input id="${id}" name="reason" type="text" required maxlength="500"></p>`;
  const status =
    restriction === null
      ? 'Active.'
      : restriction.kind === 'banned'
        ? `Banned: ${restriction.reason}`
        : `Suspended until ${when(restriction.until)}: ${restriction.reason}`;
  return html`<h1>${user.username}</h1>
${message}
<dl class="facts">
<dt>Role</dt><dd>${user.role}</dd>
${admin ? html`<dt>Email</dt><dd>${user.email}</dd>` : ''}
<dt>Joined</dt><dd>${when(user.created_at)}</dd>
<dt>Status</dt><dd>${status}</dd>
</dl>
<p><a href="/u/${user.username}">Public profile</a> · <a href="/admin/users">All users</a></p>
<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2>
${
  !canAct
    ? html`<p class="muted">${user.id === viewer.id ? 'Staff cannot act on their own account.' : `A ${viewer.role} cannot act on a ${user.role}.`}</p>`
    : html`${
        user.banned_at === null
          ? html`<form method="post" action="/admin/users/${user.id}/ban" class="stacked-form">${csrf}
<h3>Ban</h3><p class="small">Ends every session and API token; sign-in is refused with the reason. Comments stay.</p>
${reasonField('ban-reason')}<button type="submit" class="danger">Ban ${user.username}</button></form>
${
  restriction?.kind === 'suspended'
    ? html`<form method="post" action="/admin/users/${user.id}/unsuspend" class="stacked-form">${csrf}
<h3>End the suspension</h3>${reasonField('unsuspend-reason')}<button type="submit" class="secondary">Unsuspend</button></form>`
    : html`<form method="post" action="/admin/users/${user.id}/suspend" class="stacked-form">${csrf}
<h3>Suspend</h3><p class="small">The account can sign in and read, but not post, vote or change anything until the suspension ends by itself.</p>
<p class="field"><label for="suspend-days">Days (1 to ${MAX_SUSPENSION_DAYS})</label><input id="suspend-days" name="days" type="number" min="1" max="${MAX_SUSPENSION_DAYS}" value="7" required></p>
${reasonField('suspend-reason')}<button type="submit" class="secondary">Suspend</button></form>`
}`
          : html`<form method="post" action="/admin/users/${user.id}/unban" class="stacked-form">${csrf}
<h3>Unban</h3>${reasonField('unban-reason')}<button type="submit" class="secondary">Unban ${user.username}</button></form>`
      }
${
  admin
    ? html`<form method="post" action="/admin/users/${user.id}/role" class="stacked-form">${csrf}
<h3>Role</h3>
<p class="field"><label for="role">Role</label><select id="role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === user.role ? ' selected' : ''}>${r}</option>`)}</select></p>
${reasonField('role-reason')}<button type="submit" class="secondary">Change role</button></form>`
    : ''
}`
}
</section>
<section aria-labelledby="comments-h"><h2 id="comments-h">Recent comments</h2>
${
  comments.length === 0
    ? html`<p class="muted">No comments.</p>`
    : html`<ol class="plain-list">${comments.map(
        (c) => html`<li><a href="/comments/${c.id}">${when(c.created_at)}</a> on ${c.title_text} ${c.deleted_at !== null ? html`<span class="muted">[deleted]</span>` : c.hidden_at !== null ? html`<span class="muted">[hidden]</span>` : ''}
${c.deleted_at === null ? html`<blockquote class="small">${c.body.length > 300 ? `${c.body.slice(0, 299)}…` : c.body}</blockquote>` : ''}</li>`,
      )}</ol>`
}
</section>`;
}

function settingsPage(csrf: SafeHtml, values: Record<string, string | number>, message: SafeHtml | ''): SafeHtml {
  return html`<h1>Instance settings</h1>
${message}
<form method="post" action="/admin/settings" class="account-form">${csrf}
${SETTING_KEYS.map((key) => {
  const setting = SETTINGS[key];
  const id = `setting-${key}`;
  const input =
    setting.schema.type === 'enum'
      ? html`<select id="${id}" name="${key}" aria-describedby="${id}-help">${setting.schema.options.map((o) => html`<option value="${o}"${values[key] === o ? ' selected' : ''}>${o}</option>`)}</select>`
      : html`<input id="${id}" name="${key}" type="number" min="0" max="720" value="${String(values[key])}" aria-describedby="${id}-help">`;
  return html`<p class="field"><label for="${id}">${setting.label}</label>${input}<span class="small muted" id="${id}-help">${setting.help}</span></p>`;
})}
<p class="field"><label for="settings-reason">Reason (optional; shown in the public moderation log)</label><input id="settings-reason" name="reason" type="text" maxlength="500"></p>
<button type="submit">Save settings</button>
</form>`;
}

export function adminRoutes(ctx: AppContext): FastifyPluginAsync {
  const staff = (minRole: 'moderator' | 'admin') => ({ config: { minRole, ...rateLimit(ctx.config, 'write') }, preHandler: requireWrite(ctx) });
  const page = (reply: FastifyReply, status: number, title: string, body: SafeHtml) => sendPrivatePage(reply, status, layout({ title: `${title} · Paperboy` }, body));

  /** An account action from a form: the user id, the validated form, and back to the user's page (or its error). */
  function accountAction<S extends z.ZodType>(
    app: FastifyInstance,
    path: string,
    minRole: 'moderator' | 'admin',
    schema: S,
    run: (viewer: Viewer, userId: number, form: z.output<S>) => Promise<AccountActionResult>,
  ): void {
    app.post<{ Params: { id: string } }>(path, staff(minRole), async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      if (!USER_ID_RE.test(req.params.id)) return sendError(req, reply, 404, `There is no user ${req.params.id.slice(0, 40)}.`);
      const userId = Number(req.params.id);
      const form = schema.safeParse(req.body ?? {});
      const result: AccountActionResult = form.success ? await run(viewer, userId, form.data) : { ok: false, status: 400, message: issues(form.error) };
      if (result.ok) return reply.redirect(`/admin/users/${userId}`, 303);
      if (result.status === 404) return sendError(req, reply, 404, result.message);
      const body = await userPage(ctx, req, reply, viewer, userId, notice(result.message, 'alert'));
      return body === null ? sendError(req, reply, 404, result.message) : page(reply, result.status, 'User', body);
    });
  }

  return async (app) => {
    app.get('/admin', { config: { minRole: 'curator' } }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      return page(reply, 200, 'Admin', await dashboard(ctx, viewer));
    });

    app.get('/admin/users', { config: { minRole: 'moderator' } }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      const query = UsersQuery.safeParse(req.query ?? {});
      if (!query.success) return sendError(req, reply, 400, issues(query.error));
      return page(reply, 200, 'Users', await usersPage(ctx, viewer, query.data.q));
    });

    app.get<{ Params: { id: string } }>('/admin/users/:id', { config: { minRole: 'moderator' } }, async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      const body = USER_ID_RE.test(req.params.id) ? await userPage(ctx, req, reply, viewer, Number(req.params.id)) : null;
      return body === null ? sendError(req, reply, 404, `There is no user ${req.params.id.slice(0, 40)}.`) : page(reply, 200, 'User', body);
    });

    accountAction(app, '/admin/users/:id/ban', 'moderator', ReasonForm, (v, id, f) => banUser(ctx.database, v, id, f.reason));
    accountAction(app, '/admin/users/:id/unban', 'moderator', ReasonForm, (v, id, f) => unbanUser(ctx.database, v, id, f.reason));
    accountAction(app, '/admin/users/:id/suspend', 'moderator', SuspendForm, (v, id, f) => suspendUser(ctx.database, v, id, f.days, f.reason));
    accountAction(app, '/admin/users/:id/unsuspend', 'moderator', ReasonForm, (v, id, f) => unsuspendUser(ctx.database, v, id, f.reason));
    accountAction(app, '/admin/users/:id/role', 'admin', RoleForm, (v, id, f) => setRole(ctx.database, v, id, f.role, f.reason));

    app.get('/admin/settings', { config: { minRole: 'admin' } }, async (req, reply) => {
      const values = settingValues(await instanceSettings(ctx.database));
      return page(reply, 200, 'Instance settings', settingsPage(csrfField(ctx, req, reply), values, ''));
    });

    app.post('/admin/settings', staff('admin'), async (req, reply) => {
      const viewer = req.auth?.viewer;
      if (viewer === undefined) return reply;
      const { reason: given, _csrf: _token, ...fields } = (req.body ?? {}) as Record<string, unknown>;
      const change = SettingsChange.safeParse(fields);
      const why = typeof given === 'string' ? given.trim().slice(0, 500) : '';
      if (!change.success) {
        const typed = { ...settingValues(await instanceSettings(ctx.database)), ...(fields as Record<string, string>) };
        return page(reply, 400, 'Instance settings', settingsPage(csrfField(ctx, req, reply), typed, notice(issues(change.error), 'alert')));
      }
      const changed = await changeSettings(ctx.database, viewer, change.data, why);
      const values = settingValues(await instanceSettings(ctx.database));
      return page(reply, 200, 'Instance settings', settingsPage(csrfField(ctx, req, reply), values, notice(changed.length === 0 ? 'Nothing changed.' : `Saved: ${changed.join(', ')}.`)));
    });

    app.get('/admin/outbox', { config: { minRole: 'admin' } }, async (req, reply) => {
      const query = OutboxQuery.safeParse(req.query ?? {});
      const before = query.success ? query.data.before : undefined;
      let select = ctx.database.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(PAGE + 1);
      if (before !== undefined) select = select.where('id', '<', before);
      const rows = await select.execute();
      const shown = rows.slice(0, PAGE);
      const last = shown.at(-1);
      const delivery = ctx.config.smtpUrl === undefined ? 'SMTP_URL is not set: mail stays here and nobody receives it.' : 'Mail is sent over SMTP; this is the delivery log.';
      const body = html`<h1>Outbox</h1>
<p class="muted">${delivery}</p>
${
  shown.length === 0
    ? html`<p>No mail yet.</p>`
    : html`<ol class="outbox plain-list">${shown.map(
        (m) => html`<li id="mail-${m.id}"><details>
<summary><strong>${m.subject}</strong> to ${m.recipient} · ${m.kind} · ${m.created_at.slice(0, 19).replace('T', ' ')} UTC ·
${m.sent_at ? 'sent' : m.error ? html`<span class="error">failed: ${m.error}</span>` : 'not sent'}</summary>
<pre class="mail-body">${m.text_body}</pre>
</details></li>`,
      )}</ol>`
}
${rows.length > PAGE && last ? html`<p><a href="/admin/outbox?before=${last.id}">Older mail</a></p>` : ''}`;
      return sendPrivatePage(reply, 200, layout({ title: 'Outbox · Paperboy' }, body));
    });
  };
}
