/**
 * Signing up, in and out: /signup, /verify, /login (password), /login/link
 * (emailed link), /reset, /logout. Every form posts with a CSRF token and the
 * sign-in forms share one rate limit per client address.
 *
 * No answer tells whether an address has an account: sign-up with a known
 * address looks like any sign-up (and emails its owner instead), a link or a
 * reset is "sent if the account exists", a wrong password reads like an
 * unknown name and takes the same time (a decoy hash), and emails go out in
 * the background so their sending time shows nothing either.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  alreadyRegisteredMail,
  loginLinkMail,
  resetMail,
  sendInBackground,
  verifyMail,
} from '../accounts/account-mail.js';
import { issueEmailToken, peekEmailToken, useEmailToken } from '../accounts/email-tokens.js';
import { hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../accounts/passwords.js';
import { endSession, endSessions } from '../accounts/sessions.js';
import { createUser, emailKey, emailProblem, findAccount } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import { instanceSettings } from '../moderation/settings.js';
import { clearSessionCookie, csrfField, safeNext, sessionToken, signIn } from './auth.js';
import { csrfProtection } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

const text = (max: number) => z.string().max(max).default('');
const SignupForm = z.object({ email: text(254), username: text(30), password: text(MAX_PASSWORD_LENGTH * 4), next: text(2000) });
const LoginForm = z.object({ login: text(254), password: text(MAX_PASSWORD_LENGTH * 4), next: text(2000) });
const EmailForm = z.object({ email: text(254) });
const TokenForm = z.object({ token: text(100), next: text(2000) });
const ResetForm = z.object({ token: text(100), password: text(MAX_PASSWORD_LENGTH * 4) });
const TokenQuery = z.object({ token: text(100) });
const NextQuery = z.object({ next: text(2000) });

type Problems = Partial<Record<string, string>>;

const REGISTRATIONS_CLOSED = 'Sign-up is closed on this instance for now: the admins are not taking new accounts.';


function field(name: string, label: string, type: string, value: string, problem: string | undefined, extra: SafeHtml | string = ''): SafeHtml {
  const id = `f-${name}`;
  return html`<p class="field">
<label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${type}" value="${value}"${problem ? html` aria-invalid="true" aria-describedby="${id}-problem"` : ''} ${extra}>
${problem ? html`<span class="field-problem" id="${id}-problem">${problem}</span>` : ''}
</p>`;
}


export function accountRoutes(ctx: AppContext): FastifyPluginAsync {
  const csrf = csrfProtection(ctx.config);
  const limited = { preHandler: csrf.requireCsrf, config: rateLimit(ctx.config, 'auth') };
  const page = (title: string, body: SafeHtml): SafeHtml =>
    layout({ title: `${title} · Paperboy` }, body);

  const signupPage = (req: FastifyRequest, reply: FastifyReply, values: z.infer<typeof SignupForm>, problems: Problems, status = 200) =>
    sendPrivatePage(
      reply,
      status,
      page(
        'Sign up',
        html`<h1>Sign up</h1>
${problems.form ? notice(problems.form, 'alert') : ''}
<form method="post" action="/signup" class="account-form" novalidate>
${csrfField(ctx, req, reply)}
<input type="hidden" name="next" value="${values.next}">
${field('email', 'Email', 'email', values.email, problems.email, 'autocomplete="email" required')}
${field('username', 'Username', 'text', values.username, problems.username, 'autocomplete="username" required minlength="3" maxlength="30"')}
${field('password', 'Password (at least 8 characters; a passphrase is best)', 'password', '', problems.password, 'autocomplete="new-password" required minlength="8"')}
<button type="submit">Sign up</button>
</form>
<p>Already have an account? <a href="/login">Log in</a>.</p>`,
      ),
    );

  const loginPage = (req: FastifyRequest, reply: FastifyReply, values: { login: string; next: string }, message: SafeHtml | '', status = 200) =>
    sendPrivatePage(
      reply,
      status,
      page(
        'Log in',
        html`<h1>Log in</h1>
${message}
<form method="post" action="/login" class="account-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="next" value="${values.next}">
${field('login', 'Email or username', 'text', values.login, undefined, 'autocomplete="username" required')}
${field('password', 'Password', 'password', '', undefined, 'autocomplete="current-password" required')}
<button type="submit">Log in</button>
</form>
<p><a href="/reset">Forgot your password?</a> · New here? <a href="/signup">Sign up</a>.</p>
<h2>Or get a sign-in link by email</h2>
<form method="post" action="/login/link/send" class="account-form">
${csrfField(ctx, req, reply)}
${field('link-email', 'Email', 'email', '', undefined, 'autocomplete="email" required')}
<button type="submit">Email me a link</button>
</form>`,
      ),
    );

  /** The page behind an emailed link: a button that posts the token (opening the link changes nothing). */
  const confirmPage = (req: FastifyRequest, reply: FastifyReply, title: string, action: string, token: string, button: string, live: boolean) =>
    sendPrivatePage(
      reply,
      live ? 200 : 400,
      page(
        title,
        live
          ? html`<h1>${title}</h1>
<form method="post" action="${action}" class="account-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="token" value="${token}">
<button type="submit">${button}</button>
</form>`
          : html`<h1>${title}</h1>${notice('This link has expired or was already used. Ask for a new one.', 'alert')}
<p><a href="/login">Log in</a> · <a href="/reset">Reset your password</a></p>`,
      ),
    );

  return async (app) => {
    /**
     * An emailed link that signs its person in: GET shows the button, POST
     * uses the token. Either kind proves the address, so it is verified too.
     */
    const signInLink = (path: string, purpose: 'verify' | 'login', title: string, button: string, then: string): void => {
      app.get(path, async (req, reply) => {
        const { token } = TokenQuery.parse(req.query ?? {});
        return confirmPage(req, reply, title, path, token, button, await peekEmailToken(ctx.database, token, purpose));
      });
      app.post(path, limited, async (req, reply) => {
        const form = TokenForm.safeParse(req.body ?? {});
        const used = form.success ? await useEmailToken(ctx.database, form.data.token, purpose) : null;
        if (used === null) return confirmPage(req, reply, title, path, '', '', false);
        await ctx.database.db
          .updateTable('users')
          .set({ email_verified_at: new Date().toISOString() })
          .where('id', '=', used.userId)
          .where('email_verified_at', 'is', null)
          .execute();
        await signIn(ctx, req, reply, used.userId);
        return reply.redirect(then, 303);
      });
    };

    app.get('/signup', async (req, reply) => {
      const { next } = NextQuery.parse(req.query ?? {});
      const closed = (await instanceSettings(ctx.database)).registrations === 'closed';
      return signupPage(req, reply, { email: '', username: '', password: '', next: safeNext(next || '/') }, closed ? { form: REGISTRATIONS_CLOSED } : {});
    });

    app.post('/signup', limited, async (req, reply) => {
      if ((await instanceSettings(ctx.database)).registrations === 'closed') {
        return signupPage(req, reply, { email: '', username: '', password: '', next: '/' }, { form: REGISTRATIONS_CLOSED }, 403);
      }
      const form = SignupForm.safeParse(req.body ?? {});
      if (!form.success) return signupPage(req, reply, { email: '', username: '', password: '', next: '/' }, { form: 'The form was incomplete; fill it in again.' }, 400);
      const values = form.data;
      const created = await createUser(ctx.database, { email: values.email, username: values.username, password: values.password });
      if (!created.ok && !(created.taken && created.field === 'email')) {
        return signupPage(req, reply, values, { [created.field]: created.problem }, 400);
      }
      if (created.ok) {
        const token = await issueEmailToken(ctx.database, created.user.id, 'verify');
        sendInBackground(ctx, verifyMail(ctx, values.email.trim(), created.user.username, token));
        req.log.info({ userId: created.user.id }, 'account created');
      } else {
        sendInBackground(ctx, alreadyRegisteredMail(ctx, values.email.trim()));
      }
      return sendPrivatePage(
        reply,
        200,
        page('Check your email', html`<h1>Check your email</h1>
${notice(html`We sent a link to <strong>${values.email.trim()}</strong>. Open it to confirm your address and sign in.`)}
<p class="muted">No email after a few minutes? Check your spam folder, or <a href="/signup">sign up again</a>.</p>`),
      );
    });

    signInLink('/verify', 'verify', 'Confirm your email address', 'Confirm and sign in', '/?welcome=1');

    app.get('/login', async (req, reply) => {
      const { next } = NextQuery.parse(req.query ?? {});
      return loginPage(req, reply, { login: '', next: safeNext(next || '/') }, '');
    });

    app.post('/login', limited, async (req, reply) => {
      const form = LoginForm.safeParse(req.body ?? {});
      const values = form.success ? form.data : { login: '', password: '', next: '/' };
      const account = values.login === '' ? undefined : await findAccount(ctx.database, values.login);
      // Always one password hash, account or not: the answer time says nothing.
      const matches = await verifyPassword(values.password, account?.password_hash ?? null);
      if (account === undefined || !matches) {
        req.log.info('sign-in refused: unknown account or wrong password');
        return loginPage(req, reply, { login: values.login, next: safeNext(values.next) }, notice('The email or username and password do not match an account.', 'alert'), 401);
      }
      if (account.email_verified_at === null) {
        const token = await issueEmailToken(ctx.database, account.id, 'verify');
        sendInBackground(ctx, verifyMail(ctx, account.email, account.username, token));
        return loginPage(req, reply, { login: values.login, next: safeNext(values.next) }, notice('Confirm your email address first: we sent you a new link.', 'alert'), 403);
      }
      await signIn(ctx, req, reply, account.id);
      return reply.redirect(safeNext(values.next || '/'), 303);
    });

    app.post('/login/link/send', limited, async (req, reply) => {
      const raw = (req.body ?? {}) as Record<string, unknown>;
      const form = EmailForm.safeParse({ email: raw['link-email'] ?? raw.email });
      const email = form.success ? form.data.email.trim() : '';
      if (emailProblem(email)) {
        return loginPage(req, reply, { login: '', next: '/' }, notice('Enter the email address of your account.', 'alert'), 400);
      }
      const account = await findAccount(ctx.database, email);
      if (account !== undefined && account.email_key === emailKey(email)) {
        const token = await issueEmailToken(ctx.database, account.id, 'login');
        sendInBackground(ctx, loginLinkMail(ctx, account.email, token));
      }
      return sendPrivatePage(reply, 200, page('Check your email', html`<h1>Check your email</h1>
${notice(html`If an account uses <strong>${email}</strong>, a sign-in link is on its way. It works once, for 15 minutes.`)}`));
    });

    signInLink('/login/link', 'login', 'Sign in to Paperboy', 'Sign in', '/');

    app.get('/reset', async (req, reply) =>
      sendPrivatePage(reply, 200, page('Reset your password', html`<h1>Reset your password</h1>
<form method="post" action="/reset" class="account-form">
${csrfField(ctx, req, reply)}
${field('email', 'Email', 'email', '', undefined, 'autocomplete="email" required')}
<button type="submit">Email me a reset link</button>
</form>`)),
    );

    app.post('/reset', limited, async (req, reply) => {
      const form = EmailForm.safeParse(req.body ?? {});
      const email = form.success ? form.data.email.trim() : '';
      const account = emailProblem(email) ? undefined : await findAccount(ctx.database, email);
      if (account !== undefined && account.email_key === emailKey(email)) {
        const token = await issueEmailToken(ctx.database, account.id, 'reset');
        sendInBackground(ctx, resetMail(ctx, account.email, token));
      }
      return sendPrivatePage(reply, 200, page('Check your email', html`<h1>Check your email</h1>
${notice(html`If an account uses <strong>${email}</strong>, a reset link is on its way. It works once, for an hour.`)}`));
    });

    const resetForm = (req: FastifyRequest, reply: FastifyReply, token: string, problem: string | undefined, status = 200) =>
      sendPrivatePage(reply, status, page('Choose a new password', html`<h1>Choose a new password</h1>
<form method="post" action="/reset/confirm" class="account-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="token" value="${token}">
${field('password', 'New password (at least 8 characters)', 'password', '', problem, 'autocomplete="new-password" required minlength="8"')}
<button type="submit">Set password and sign in</button>
</form>`));

    app.get('/reset/confirm', async (req, reply) => {
      const { token } = TokenQuery.parse(req.query ?? {});
      if (!(await peekEmailToken(ctx.database, token, 'reset'))) return confirmPage(req, reply, 'Reset your password', '/reset/confirm', '', '', false);
      return resetForm(req, reply, token, undefined);
    });

    app.post('/reset/confirm', limited, async (req, reply) => {
      const form = ResetForm.safeParse(req.body ?? {});
      if (!form.success) return confirmPage(req, reply, 'Reset your password', '/reset/confirm', '', '', false);
      const problem = passwordProblem(form.data.password);
      // Checked before the token is used, so a rejected password does not spend the link.
      if (problem !== null) return resetForm(req, reply, form.data.token, problem, 400);
      const used = await useEmailToken(ctx.database, form.data.token, 'reset');
      if (used === null) return confirmPage(req, reply, 'Reset your password', '/reset/confirm', '', '', false);
      await ctx.database.db
        .updateTable('users')
        .set({ password_hash: await hashPassword(form.data.password), email_verified_at: new Date().toISOString() })
        .where('id', '=', used.userId)
        .execute();
      // Whoever knew the old password is signed out everywhere.
      await endSessions(ctx.database, used.userId);
      await signIn(ctx, req, reply, used.userId);
      req.log.info({ userId: used.userId }, 'password reset');
      return reply.redirect('/settings?reset=1', 303);
    });

    app.post('/logout', { preHandler: csrf.requireCsrf }, async (req, reply) => {
      const token = sessionToken(ctx, req);
      if (token !== undefined) await endSession(ctx.database, token);
      clearSessionCookie(ctx, reply);
      return reply.redirect('/', 303);
    });
  };
}
