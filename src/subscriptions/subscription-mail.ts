/**
 * The transactional emails of a digest subscription: the confirmation link
 * (double opt-in) and, when the address is already subscribed, a note saying
 * so with its preferences link. Both go to the address that was typed in and
 * say nothing to whoever typed it (src/subscriptions/subscribers.ts), and
 * both are plain transactional mail: no list headers, the transactional
 * sender.
 */
import type { AppContext } from '../context.js';
import type { DigestCadence } from '../db/schema.js';

export interface SubscriptionMail {
  to: string;
  subject: string;
  text: string;
  kind: 'subscribe' | 'subscribe-existing';
}

/** In words, as the forms and emails say it. */
export const CADENCE_LABEL: Record<DigestCadence, string> = {
  daily: 'daily, on weekdays',
  weekly: 'weekly',
};

/** The page where a subscriber changes their preferences (no sign-in: the token is the key). */
export function preferencesUrl(ctx: AppContext, linkToken: string): string {
  return `${ctx.config.baseUrl}/subscription/${encodeURIComponent(linkToken)}`;
}

/** The one-click unsubscribe URL (RFC 8058): a GET shows a button, a POST unsubscribes. */
export function unsubscribeUrl(ctx: AppContext, linkToken: string): string {
  return `${ctx.config.baseUrl}/unsubscribe/${encodeURIComponent(linkToken)}`;
}

export function confirmUrl(ctx: AppContext, token: string): string {
  return `${ctx.config.baseUrl}/subscriptions/confirm?token=${encodeURIComponent(token)}`;
}

export function confirmationMail(ctx: AppContext, to: string, token: string, cadence: DigestCadence): SubscriptionMail {
  return {
    to,
    kind: 'subscribe',
    subject: 'Confirm your Paperboy digest subscription',
    text: `Someone (probably you) asked for Paperboy's trending papers by email at this address (${CADENCE_LABEL[cadence]}).

Confirm the subscription here:

${confirmUrl(ctx, token)}

The link works once, for 48 hours. If you did not ask for this, ignore this email: nothing is sent to you unless the link is used.
`,
  };
}

export function alreadySubscribedMail(ctx: AppContext, to: string, linkToken: string): SubscriptionMail {
  return {
    to,
    kind: 'subscribe-existing',
    subject: 'You already get the Paperboy digest',
    text: `Someone (probably you) asked to subscribe this address to Paperboy's digest. It is subscribed already, so nothing changed.

Choose how often, how many papers and which topics: ${preferencesUrl(ctx, linkToken)}
Unsubscribe: ${unsubscribeUrl(ctx, linkToken)}

If it was not you, ignore this email.
`,
  };
}
