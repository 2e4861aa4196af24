/**
 * A signed-in person's settings: email (changed after re-entering the
 * password, confirmed from the new address), password, sessions (list, end
 * one, end all others), personal API tokens (create, shown once; list;
 * revoke), the data export, and deleting the account. Every change is a
 * browser form post with a CSRF token (requireSessionWrite); owner-scoped ids
 * (a session, a token) only ever match the person's own rows.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { deleteAccount, exportAccount } from '../accounts/account-data.js';
import { emailChangeMail, emailChangeNoticeMail, sendInBackground } from '../accounts/account-mail.js';
import { createApiToken, listApiTokens, revokeApiToken, TOKEN_SCOPES } from '../accounts/api-tokens.js';
import { issueEmailToken, peekEmailToken, useEmailToken } from '../accounts/email-tokens.js';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../accounts/passwords.js';
import { endSessionById, endSessions, listSessions } from '../accounts/sessions.js';
import { emailKey, emailProblem, findUserById } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import { clearSessionCookie, csrfField, requireSessionWrite, requireUser, signIn } from './auth.js';
import { csrfProtection } from './csrf.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';
import { digestSettingsSection } from './subscription-pages.js';

const secret = z.string().max(MAX_PASSWORD_LENGTH * 4).default('');
const EmailChange = z.object({ email: z.string().max(254).default(''), password: secret });
const PasswordChange = z.object({ current: secret, password: secret });
const TokenCreate = z.object({ name: z.string().trim().min(1, 'Name the token (what will use it).').max(100), scope: z.enum(TOKEN_SCOPES) });
const DeleteForm = z.object({ password: secret, confirm: z.string().max(100).default('') });
const IdParams = z.object({ id: z.coerce.number().int().positive() });
const TokenField = z.object({ token: z.string().max(100).default('') });


const when = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

export function settingsRoutes(ctx: AppContext): FastifyPluginAsync {
  const write = { preHandler: requireSessionWrite(ctx) };
  // Re-entering a password can be guessed at: these forms spend the sign-in budget.
  const reauth = { preHandler: requireSessionWrite(ctx), config: rateLimit(ctx.config, 'auth') };

  async function settingsPage(req: FastifyRequest, reply: FastifyReply, message: SafeHtml | '' = '', status = 200, created?: { token: string; name: string }) {
    const auth = req.auth;
    if (auth === null) return reply.redirect('/login?next=/settings', 303);
    const user = await findUserById(ctx.database, auth.viewer.id);
    if (user === undefined) return reply.redirect('/login', 303);
    const field = csrfField(ctx, req, reply);
    const [sessions, tokens, digest] = await Promise.all([
      listSessions(ctx.database, ctx.config, user.id),
      listApiTokens(ctx.database, user.id),
      digestSettingsSection(ctx, user, field),
    ]);
    const body = html`<h1>Settings</h1>
${message}
${
  created
    ? html`<div class="notice" role="status"><p>Your new token <strong>${created.name}</strong>. Copy it now: it is not shown again.</p>
<p><code class="token" id="new-token">${created.token}</code></p></div>`
    : ''
}
<section aria-labelledby="account-h"><h2 id="account-h">Account</h2>
<p>Signed in as <strong>${user.username}</strong> (${user.role}) with <strong>${user.email}</strong>${user.email_verified_at ? '' : ' (not confirmed yet)'}.</p>
<form method="post" action="/settings/email" class="account-form">${field}
<p class="field"><label for="new-email">New email address</label><input id="new-email" name="email" type="email" autocomplete="email" required></p>
<p class="field"><label for="email-password">Your password</label><input id="email-password" name="password" type="password" autocomplete="current-password" required></p>
<button type="submit">Change email</button>
</form>
<form method="post" action="/settings/password" class="account-form">${field}
<p class="field"><label for="current-password">Current password${user.password_hash === null ? ' (none yet: leave empty)' : ''}</label><input id="current-password" name="current" type="password" autocomplete="current-password"></p>
<p class="field"><label for="new-password">New password (at least 8 characters)</label><input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8"></p>
<button type="submit">${user.password_hash === null ? 'Set password' : 'Change password'}</button>
</form>
</section>
<section aria-labelledby="sessions-h"><h2 id="sessions-h">Where you are signed in</h2>
<ul class="plain-list">
${sessions.map(
  (s) => html`<li>${s.userAgent ?? 'Unknown browser'}${s.ip ? html` · ${s.ip}` : ''} · since ${when(s.createdAt)} · last seen ${when(s.lastSeenAt)}
${
  s.id === auth.sessionId
    ? html` · <strong>this browser</strong>`
    : html`<form method="post" action="/settings/sessions/${s.id}/revoke" class="inline-form">${field}<button type="submit">Sign out</button></form>`
}</li>`,
)}
</ul>
<form method="post" action="/settings/sessions/revoke-others" class="inline-form">${field}<button type="submit">Sign out everywhere else</button></form>
</section>
<section aria-labelledby="tokens-h"><h2 id="tokens-h">Personal API tokens</h2>
<p>Send a token as <code>Authorization: Bearer &lt;token&gt;</code>. <em>read</em> tokens get higher rate limits; <em>write</em> tokens can also upvote, comment and submit.</p>
${
  tokens.length === 0
    ? html`<p class="muted">No tokens yet.</p>`
    : html`<ul class="plain-list">${tokens.map(
        (t) => html`<li><strong>${t.name}</strong> (${t.scope}) · created ${t.createdAt.slice(0, 10)} · ${t.lastUsedAt ? `last used ${t.lastUsedAt.slice(0, 10)}` : 'never used'}
<form method="post" action="/settings/tokens/${t.id}/revoke" class="inline-form">${field}<button type="submit">Revoke</button></form></li>`,
      )}</ul>`
}
<form method="post" action="/settings/tokens" class="account-form">${field}
<p class="field"><label for="token-name">Token name</label><input id="token-name" name="name" type="text" maxlength="100" required placeholder="e.g. my notebook"></p>
<p class="field"><label for="token-scope">Scope</label><select id="token-scope" name="scope"><option value="read">read</option><option value="write">write</option></select></p>
<button type="submit">Create token</button>
</form>
</section>
${digest}
<section aria-labelledby="muted-link-h"><h2 id="muted-link-h">Muted keywords and papers</h2>
<p><a href="/settings/muted">Mute keywords, and see the papers you marked "not interested"</a>: they leave your feeds, search results, For you and digest.</p>
</section>
<section aria-labelledby="data-h"><h2 id="data-h">Your data</h2>
<p><a href="/settings/export.json" download>Download everything Paperboy holds about you (JSON)</a></p>
<form method="post" action="/settings/delete" class="account-form danger">${field}
<p>Deleting your account removes your sessions, tokens, upvotes and notifications, and unsubscribes your address from the email digest. Your comments stay as "[deleted]" so replies keep their place.</p>
${
  user.password_hash === null
    ? html`<p class="field"><label for="delete-confirm">Type your username to confirm</label><input id="delete-confirm" name="confirm" type="text" required></p>`
    : html`<p class="field"><label for="delete-password">Your password</label><input id="delete-password" name="password" type="password" autocomplete="current-password" required></p>`
}
<button type="submit">Delete my account</button>
</form>
</section>`;
    return sendPrivatePage(reply, status, layout({ title: 'Settings · Paperboy' }, body));
  }


  return async (app) => {
    app.get('/settings', { preHandler: requireUser }, async (req, reply) => {
      const reset = (req.query as Record<string, unknown> | undefined)?.reset === '1';
      return settingsPage(req, reply, reset ? notice('Your password is set. Every other session was signed out.') : '');
    });

    app.get('/settings/export.json', { preHandler: requireUser }, async (req, reply) => {
      const data = await exportAccount(ctx.database, req.auth?.viewer.id ?? 0);
      if (data === null) return sendError(req, reply, 404, 'No such account.');
      return reply
        .header('cache-control', 'private, no-store')
        .header('content-disposition', `attachment; filename="paperboy-${data.account.username}.json"`)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(data, null, 2));
    });

    app.post('/settings/email', reauth, async (req, reply) => {
      const form = EmailChange.safeParse(req.body ?? {});
      const userId = req.auth?.viewer.id ?? 0;
      const user = await findUserById(ctx.database, userId);
      if (!form.success || user === undefined) return settingsPage(req, reply, notice('The form was incomplete.', 'alert'), 400);
      const email = form.data.email.trim();
      if (!(await verifyPassword(form.data.password, user.password_hash))) {
        return settingsPage(req, reply, notice(user.password_hash === null ? 'Set a password first: an email change needs it.' : 'The password is not right.', 'alert'), 403);
      }
      const problem = emailProblem(email);
      if (problem !== null) return settingsPage(req, reply, notice(problem, 'alert'), 400);
      if (emailKey(email) === user.email_key) return settingsPage(req, reply, notice('That is already your address.', 'alert'), 400);
      const token = await issueEmailToken(ctx.database, user.id, 'email', email);
      sendInBackground(ctx, emailChangeMail(ctx, email, token));
      sendInBackground(ctx, emailChangeNoticeMail(ctx, user.email, email));
      return settingsPage(req, reply, notice(`We sent a link to ${email}. Your address changes when you open it.`));
    });

    app.get('/settings/email/confirm', async (req, reply) => {
      const { token } = TokenField.parse(req.query ?? {});
      const live = await peekEmailToken(ctx.database, token, 'email');
      const body = live
        ? html`<h1>Confirm your new email address</h1><form method="post" action="/settings/email/confirm" class="account-form">${csrfField(ctx, req, reply)}<input type="hidden" name="token" value="${token}"><button type="submit">Use this address</button></form>`
        : html`<h1>Confirm your new email address</h1>${notice('This link has expired or was already used.', 'alert')}`;
      return sendPrivatePage(reply, live ? 200 : 400, layout({ title: 'Confirm your email · Paperboy' }, body));
    });

    // The link may be opened signed out (another browser): the token is the proof, CSRF the form's.
    app.post('/settings/email/confirm', { preHandler: csrfProtection(ctx.config).requireCsrf, config: rateLimit(ctx.config, 'auth') }, async (req, reply) => {
      const form = TokenField.safeParse(req.body ?? {});
      const used = form.success ? await useEmailToken(ctx.database, form.data.token, 'email') : null;
      if (used === null || used.data === null) return sendError(req, reply, 400, 'This link has expired or was already used.');
      const taken = await ctx.database.db.selectFrom('users').select('id').where('email_key', '=', emailKey(used.data)).where('id', '!=', used.userId).executeTakeFirst();
      if (taken !== undefined) return sendError(req, reply, 409, 'Another account uses this address now.');
      await ctx.database.db
        .updateTable('users')
        .set({ email: used.data, email_key: emailKey(used.data), email_verified_at: new Date().toISOString() })
        .where('id', '=', used.userId)
        .execute();
      req.log.info({ userId: used.userId }, 'email address changed');
      return reply.redirect(req.auth ? '/settings' : '/login', 303);
    });

    app.post('/settings/password', reauth, async (req, reply) => {
      const form = PasswordChange.safeParse(req.body ?? {});
      const user = await findUserById(ctx.database, req.auth?.viewer.id ?? 0);
      if (!form.success || user === undefined) return settingsPage(req, reply, notice('The form was incomplete.', 'alert'), 400);
      if (user.password_hash !== null && !(await verifyPassword(form.data.current, user.password_hash))) {
        return settingsPage(req, reply, notice('The current password is not right.', 'alert'), 403);
      }
      const problem = passwordProblem(form.data.password);
      if (problem !== null) return settingsPage(req, reply, notice(problem, 'alert'), 400);
      await ctx.database.db.updateTable('users').set({ password_hash: await hashPassword(form.data.password) }).where('id', '=', user.id).execute();
      // A new password signs out everyone else, and this browser gets a fresh session.
      await endSessions(ctx.database, user.id);
      await signIn(ctx, req, reply, user.id);
      return reply.redirect('/settings?reset=1', 303);
    });

    app.post('/settings/sessions/:id/revoke', write, async (req, reply) => {
      const params = IdParams.safeParse(req.params);
      const ended = params.success && (await endSessionById(ctx.database, req.auth?.viewer.id ?? 0, params.data.id));
      if (!ended) return sendError(req, reply, 404, 'No such session of yours.');
      return reply.redirect('/settings', 303);
    });

    app.post('/settings/sessions/revoke-others', write, async (req, reply) => {
      const ended = await endSessions(ctx.database, req.auth?.viewer.id ?? 0, req.auth?.sessionId);
      return settingsPage(req, reply, notice(`Signed out of ${ended} other ${ended === 1 ? 'session' : 'sessions'}.`));
    });

    app.post('/settings/tokens', write, async (req, reply) => {
      const form = TokenCreate.safeParse(req.body ?? {});
      if (!form.success) return settingsPage(req, reply, notice(form.error.issues[0]?.message ?? 'Name the token and pick its scope.', 'alert'), 400);
      const { token } = await createApiToken(ctx.database, req.auth?.viewer.id ?? 0, form.data.scope, form.data.name);
      return settingsPage(req, reply, '', 201, { token, name: form.data.name });
    });

    app.post('/settings/tokens/:id/revoke', write, async (req, reply) => {
      const params = IdParams.safeParse(req.params);
      const revoked = params.success && (await revokeApiToken(ctx.database, req.auth?.viewer.id ?? 0, params.data.id));
      if (!revoked) return sendError(req, reply, 404, 'No such token of yours.');
      return reply.redirect('/settings', 303);
    });

    app.post('/settings/delete', reauth, async (req, reply) => {
      const form = DeleteForm.safeParse(req.body ?? {});
      const user = await findUserById(ctx.database, req.auth?.viewer.id ?? 0);
      if (!form.success || user === undefined) return settingsPage(req, reply, notice('The form was incomplete.', 'alert'), 400);
      const confirmed =
        user.password_hash === null ? form.data.confirm.toLowerCase() === user.username_key : await verifyPassword(form.data.password, user.password_hash);
      if (!confirmed) return settingsPage(req, reply, notice('Confirm with your password (or username) to delete the account.', 'alert'), 403);
      await deleteAccount(ctx.database, user.id);
      clearSessionCookie(ctx, reply);
      req.log.info({ userId: user.id }, 'account deleted');
      return reply.redirect('/?deleted=1', 303);
    });
  };
}
