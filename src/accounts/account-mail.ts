/**
 * The account emails: what each says and where its link goes. Sent through
 * the one mail module (src/mail/mailer.ts). Links carry a single-use token
 * and lead to a page with a button: opening a link (or a mail scanner
 * prefetching it) changes nothing until the button is pressed.
 */
import type { AppContext } from '../context.js';
import { mailerFor } from '../mail/mailer.js';

interface AccountMail {
  to: string;
  subject: string;
  text: string;
  kind: string;
}

function link(ctx: AppContext, path: string, token: string): string {
  return `${ctx.config.baseUrl}${path}?token=${encodeURIComponent(token)}`;
}

export function verifyMail(ctx: AppContext, to: string, username: string, token: string): AccountMail {
  return {
    to,
    kind: 'verify',
    subject: 'Confirm your email address for Paperboy',
    text: `Hello ${username},

Confirm your address to finish signing up:

${link(ctx, '/verify', token)}

The link works for 48 hours. If you did not sign up, ignore this email.
`,
  };
}

/** Sent instead of a confirmation when someone signs up with an address that has an account (no enumeration on the form). */
export function alreadyRegisteredMail(ctx: AppContext, to: string): AccountMail {
  return {
    to,
    kind: 'signup-existing',
    subject: 'You already have a Paperboy account',
    text: `Someone (probably you) tried to sign up for Paperboy with this address, which already has an account.

Log in: ${ctx.config.baseUrl}/login
Forgot your password? ${ctx.config.baseUrl}/reset

If it was not you, ignore this email; nothing has changed.
`,
  };
}

export function loginLinkMail(ctx: AppContext, to: string, token: string): AccountMail {
  return {
    to,
    kind: 'login',
    subject: 'Your Paperboy sign-in link',
    text: `Sign in to Paperboy with this link:

${link(ctx, '/login/link', token)}

It works once, for 15 minutes. If you did not ask for it, ignore this email.
`,
  };
}

export function resetMail(ctx: AppContext, to: string, token: string): AccountMail {
  return {
    to,
    kind: 'reset',
    subject: 'Reset your Paperboy password',
    text: `Choose a new password with this link:

${link(ctx, '/reset/confirm', token)}

It works once, for an hour. If you did not ask for it, ignore this email; your password stays as it is.
`,
  };
}

export function emailChangeMail(ctx: AppContext, to: string, token: string): AccountMail {
  return {
    to,
    kind: 'email-change',
    subject: 'Confirm your new email address for Paperboy',
    text: `Confirm that Paperboy should use this address for your account:

${link(ctx, '/settings/email/confirm', token)}

The link works for 24 hours. If you did not ask for this, ignore this email.
`,
  };
}

export function emailChangeNoticeMail(ctx: AppContext, to: string, newAddress: string): AccountMail {
  return {
    to,
    kind: 'email-change-notice',
    subject: 'Your Paperboy email address is changing',
    text: `Someone signed in to your Paperboy account asked to use ${newAddress} instead of this address.
The change happens when the new address is confirmed.

If this was not you, reset your password now: ${ctx.config.baseUrl}/reset
`,
  };
}

/**
 * Sends without making the request wait: how long a send takes must not tell
 * whether an account exists. Failures are kept in the outbox and logged.
 */
export function sendInBackground(ctx: AppContext, mail: AccountMail): void {
  mailerFor(ctx)
    .send(mail)
    .catch((err: unknown) => ctx.log.error({ err, kind: mail.kind }, 'storing an email failed'));
}
