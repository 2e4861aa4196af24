/**
 * The email digest in the browser: subscribing (/subscribe, reached from the
 * header box on every page), confirming from the emailed link, the
 * preferences page behind each email's link (no sign-in: the link's token is
 * the key), unsubscribing, and the digest section of a signed-in person's
 * settings.
 *
 * - The header box is a GET form to /subscribe: pages are cached for everyone
 *   and cannot carry a browser's CSRF token, so the real form (with its token)
 *   is one step later, prefilled.
 * - No answer tells whether an address was known (src/subscriptions/subscribers.ts).
 * - No GET changes anything: mail scanners open links. An emailed link leads
 *   to a page with a button.
 * - POST /unsubscribe/:token is RFC 8058 one-click: mail clients post to it
 *   without cookies, so it takes no CSRF token and answers 200 itself, never a
 *   redirect. It only ever ends a subscription, so a forged post can do no
 *   more than the link's holder could.
 * - Pages with a token in their URL (or links carrying one) send
 *   `Referrer-Policy: no-referrer` and are never cached.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { emailProblem, findUserById } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import type { DigestCadence, SuppressionReason } from '../db/schema.js';
import { CADENCES, MAX_PAPER_COUNT, PREFERENCES, preferencesOf, type Preferences } from '../subscriptions/preferences.js';
import { setDigestForYou } from '../personal/digest-section.js';
import { CADENCE_LABEL } from '../subscriptions/subscription-mail.js';
import {
  accountSubscriptions,
  confirmSubscription,
  peekConfirmation,
  requestSubscription,
  subscriberByLinkToken,
  suppressionOf,
  unsubscribeByLinkToken,
  updatePreferences,
  type Subscriber,
} from '../subscriptions/subscribers.js';
import { csrfField, requireSessionWrite } from './auth.js';
import { csrfProtection } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

const text = (max: number) => z.string().max(max).default('');
const cadence = z.enum(['daily', 'weekly']);
const SubscribeQuery = z.object({ email: z.string().max(254).catch(''), cadence: cadence.catch('daily') });
const SubscribeForm = z.object({ email: text(254), cadence: cadence.default('daily') });
const TokenQuery = z.object({ token: text(100) });
const TokenParams = z.object({ token: z.string().max(100) });
const PreferencesForm = z.object({
  cadence: text(20),
  paperCount: text(10),
  categories: text(2000),
  keywords: text(2000),
  mutedKeywords: text(2000),
  /** The "For you" checkbox (present: on) and the mark that it was on the form (accounts only). */
  forYou: z.string().max(10).optional(),
  forYouShown: z.string().max(10).optional(),
});
type PreferencesInput = z.infer<typeof PreferencesForm>;
type Problems = Partial<Record<keyof PreferencesInput | 'email' | 'form', string>>;

const SUPPRESSION_WORDS: Record<SuppressionReason, string> = {
  'hard-bounce': 'mail to it bounced',
  'soft-bounces': 'mail to it kept bouncing',
  complaint: 'a digest was reported as spam',
  manual: 'an administrator stopped it',
};

/** A token page: never cached, and its URL (the token) never sent on as a Referer. */
function sendTokenPage(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  reply.header('referrer-policy', 'no-referrer');
  return sendPrivatePage(reply, status, page);
}

const page = (title: string, body: SafeHtml): SafeHtml => layout({ title: `${title} · Paperboy` }, body);

function cadenceChoice(name: string, chosen: string): SafeHtml {
  return html`<fieldset class="choice">
<legend>How often</legend>
${CADENCES.map(
  (c) => html`<label><input type="radio" name="${name}" value="${c}"${c === chosen ? html` checked` : ''}> ${c === 'daily' ? 'Daily, on weekdays' : 'Weekly'}</label>\n`,
)}</fieldset>`;
}

function field(name: string, label: string, type: string, value: string, problem: string | undefined, extra: SafeHtml = html``, hint = ''): SafeHtml {
  const id = `f-${name}`;
  const described = [problem ? `${id}-problem` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return html`<p class="field">
<label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${type}" value="${value}"${problem ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''} ${extra}>
${hint ? html`<span class="field-hint" id="${id}-hint">${hint}</span>` : ''}
${problem ? html`<span class="field-problem" id="${id}-problem">${problem}</span>` : ''}
</p>`;
}

/** A form (GET, no token needed) to ask for a subscription again. */
function subscribeAgain(email: string): SafeHtml {
  return html`<form method="get" action="/subscribe" class="account-form">
${field('again-email', 'Email', 'email', email, undefined, html`name="email" autocomplete="email" required`)}
<button type="submit">Subscribe again</button>
</form>`;
}

const splitCategories = (value: string): string[] => value.split(/[\s,]+/).filter((v) => v !== '');
const splitKeywords = (value: string): string[] => value.split(',').filter((v) => v.trim() !== '');
const capitalised = (message: string): string => message.charAt(0).toUpperCase() + message.slice(1);

/** The preferences a form describes, or what is wrong with it, field by field. */
function parsePreferences(input: PreferencesInput): { ok: true; prefs: Preferences } | { ok: false; problems: Problems } {
  const parsed = PREFERENCES.safeParse({
    cadence: input.cadence === '' ? undefined : input.cadence,
    paperCount: input.paperCount.trim(),
    categories: splitCategories(input.categories),
    keywords: splitKeywords(input.keywords),
    mutedKeywords: splitKeywords(input.mutedKeywords),
  });
  if (parsed.success) return { ok: true, prefs: parsed.data };
  const found = new Map<keyof PreferencesInput, string[]>();
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (typeof key !== 'string' || !(key in PreferencesForm.shape)) continue;
    const name = key as keyof PreferencesInput;
    // zod's own words for these two read like a stack trace; the custom messages of the lists are fine as they are.
    const message =
      name === 'paperCount' ? `Choose a whole number from 1 to ${MAX_PAPER_COUNT}.` : name === 'cadence' ? 'Choose daily or weekly.' : capitalised(issue.message);
    const list = found.get(name) ?? [];
    if (!list.includes(message)) list.push(message);
    found.set(name, list);
  }
  const problems: Problems = {};
  for (const [name, messages] of found) problems[name] = messages.join(' ');
  if (Object.keys(problems).length === 0) problems.form = 'The form could not be read; fill it in again.';
  return { ok: false, problems };
}

function inputOf(prefs: Preferences): PreferencesInput {
  return {
    cadence: prefs.cadence,
    paperCount: String(prefs.paperCount),
    categories: prefs.categories.join(', '),
    keywords: prefs.keywords.join(', '),
    mutedKeywords: prefs.mutedKeywords.join(', '),
  };
}

function statusLine(subscriber: Subscriber): SafeHtml {
  switch (subscriber.status) {
    case 'confirmed':
      return html`<p><strong>${subscriber.email}</strong> gets the digest.</p>`;
    case 'pending':
      return notice(html`<strong>${subscriber.email}</strong> is not confirmed yet: open the link in the confirmation email. Until then no digest is sent.`);
    case 'unsubscribed':
      return notice(html`<strong>${subscriber.email}</strong> is unsubscribed and gets no digest. <a href="/subscribe?email=${encodeURIComponent(subscriber.email)}">Subscribe again</a>.`);
  }
}

/** The "Email digest" section of the settings page, for the signed-in person `user`. */
export async function digestSettingsSection(
  ctx: AppContext,
  user: { id: number; email: string; email_key: string; email_verified_at: string | null },
  csrf: SafeHtml,
): Promise<SafeHtml> {
  const verified = user.email_verified_at !== null;
  const heading = html`<h2 id="digest-h">Email digest</h2>`;
  const subscribeForm = (button: string) => html`<form method="post" action="/settings/subscription" class="account-form">${csrf}
${cadenceChoice('cadence', 'daily')}
<button type="submit">${button}</button>
</form>`;
  if (!verified) {
    // Until the address is proven to be theirs, its subscription is not this person's to see.
    return html`<section aria-labelledby="digest-h" id="digest">${heading}
<p>Get the trending papers at <strong>${user.email}</strong>. Your address is not confirmed yet, so we email it a link to confirm the subscription first.</p>
${subscribeForm('Subscribe')}
</section>`;
  }
  const [rows, suppression] = await Promise.all([
    accountSubscriptions(ctx.database.db, { id: user.id, emailKey: user.email_key, emailVerified: true }),
    suppressionOf(ctx.database, user.email_key),
  ]);
  const own = rows.find((r) => r.email_key === user.email_key);
  const others = rows.filter((r) => r !== own && r.status !== 'unsubscribed');
  let state: SafeHtml;
  if (suppression !== null) {
    state = notice(
      html`Paperboy sends no mail to <strong>${user.email}</strong>: ${SUPPRESSION_WORDS[suppression.reason]} (${suppression.since.slice(0, 10)}). Ask the administrator of this site to lift the block.`,
      'alert',
    );
  } else if (own?.status === 'confirmed') {
    const prefs = preferencesOf(own);
    state = html`<p><strong>${user.email}</strong> gets the digest ${CADENCE_LABEL[prefs.cadence]}, up to ${prefs.paperCount} papers${
      prefs.categories.length > 0 ? html` in ${prefs.categories.join(', ')}` : ''
    }.</p>
<p><a href="/subscription/${own.link_token}" rel="noreferrer">Change your digest preferences or unsubscribe</a></p>`;
  } else {
    state = html`${own?.status === 'pending' ? html`<p>A confirmation link was emailed to <strong>${user.email}</strong>; you can also subscribe right here.</p>` : ''}
${own?.status === 'unsubscribed' && own.unsubscribed_at !== null ? html`<p>You unsubscribed on ${own.unsubscribed_at.slice(0, 10)}.</p>` : ''}
<p>Get the trending papers of the daily feed at <strong>${user.email}</strong>. You can pick categories, keywords and the number of papers afterwards.</p>
${subscribeForm('Subscribe')}`;
  }
  return html`<section aria-labelledby="digest-h" id="digest">${heading}
${state}
${others.map((r) => html`<p class="small">Also linked to your account: the digest to ${r.email} (<a href="/subscription/${r.link_token}" rel="noreferrer">preferences</a>).</p>`)}
</section>`;
}

export function subscriptionRoutes(ctx: AppContext): FastifyPluginAsync {
  const csrf = csrfProtection(ctx.config);
  const subscribeLimited = { preHandler: csrf.requireCsrf, config: rateLimit(ctx.config, 'subscribe') };
  const withCsrf = { preHandler: csrf.requireCsrf };

  const subscribePage = (req: FastifyRequest, reply: FastifyReply, values: { email: string; cadence: DigestCadence }, problem: string | undefined, status = 200) =>
    sendPrivatePage(
      reply,
      status,
      page(
        'Get trending papers by email',
        html`<h1>Get trending papers by email</h1>
<p>The most upvoted and discussed papers of Paperboy's daily feed in your inbox, daily on weekdays or weekly. We first email you a link to confirm; every digest has a link to change what you get and to unsubscribe in one click.</p>
<form method="post" action="/subscribe" class="account-form" novalidate>
${csrfField(ctx, req, reply)}
${field('email', 'Email', 'email', values.email, problem, html`autocomplete="email" required`)}
${cadenceChoice('cadence', values.cadence)}
<button type="submit">Subscribe</button>
</form>
<p class="muted small">After confirming you can choose categories, keywords to boost or mute, and how many papers each digest has.${
          req.auth?.via === 'session' ? html` Signed in? <a href="/settings#digest">Subscribe your account's address in settings</a>.` : ''
        }</p>`,
      ),
    );

  const checkInbox = (reply: FastifyReply, email: string) =>
    sendPrivatePage(
      reply,
      200,
      page(
        'Check your inbox',
        html`<h1>Check your inbox</h1>
${notice(html`If <strong>${email}</strong> can get our digest, an email is on its way. Open its link to confirm the subscription; it works for 48 hours.`)}
<p class="muted">Nothing after a few minutes? Check your spam folder. We send at most one email to an address every 10 minutes.</p>`,
      ),
    );

  const deadLink = (reply: FastifyReply, status: number) =>
    sendTokenPage(
      reply,
      status,
      page(
        'Confirm your subscription',
        html`<h1>Confirm your subscription</h1>
${notice('This confirmation link has expired or was already used.', 'alert')}
<p>If you confirmed already, you are subscribed: every digest links to your preferences. Otherwise ask for a new link:</p>
${subscribeAgain('')}`,
      ),
    );

  const notFound = (reply: FastifyReply) =>
    sendTokenPage(
      reply,
      404,
      page(
        'Unknown link',
        html`<h1>Unknown link</h1>
${notice('This subscription link is not known here. Use the link in your latest digest, or check that the whole link was copied.', 'alert')}`,
      ),
    );

  const unsubscribedPage = (reply: FastifyReply, subscriber: Subscriber) =>
    sendTokenPage(
      reply,
      200,
      page(
        'Unsubscribed',
        html`<h1>You are unsubscribed</h1>
${notice(html`<strong>${subscriber.email}</strong> gets no more digests from Paperboy.`)}
<p>Changed your mind? <a href="/subscribe?email=${encodeURIComponent(subscriber.email)}">Subscribe again</a> (we email you a link to confirm).</p>`,
      ),
    );

  const preferencesPage = (req: FastifyRequest, reply: FastifyReply, subscriber: Subscriber, values: PreferencesInput, problems: Problems, status = 200, saved = false) => {
    const action = `/subscription/${subscriber.link_token}`;
    return sendTokenPage(
      reply,
      status,
      page(
        'Your digest',
        html`<h1>Your digest</h1>
${statusLine(subscriber)}
${saved ? notice('Saved. The next digest follows these preferences.') : ''}
${Object.keys(problems).length > 0 ? notice(problems.form ?? 'Some choices need fixing; see below.', 'alert') : ''}
<form method="post" action="${action}" class="account-form preferences-form" novalidate>
${csrfField(ctx, req, reply)}
${cadenceChoice('cadence', values.cadence)}
${problems.cadence ? html`<p class="field-problem">${problems.cadence}</p>` : ''}
${field('paperCount', 'Papers per digest', 'number', values.paperCount, problems.paperCount, html`min="1" max="${MAX_PAPER_COUNT}" step="1" inputmode="numeric" required`, `1 to ${MAX_PAPER_COUNT}.`)}
${field('categories', 'Categories', 'text', values.categories, problems.categories, html`autocomplete="off" spellcheck="false"`, 'arXiv categories or archives, e.g. cs.LG, hep-th, math. Empty: every category.')}
${field('keywords', 'Keywords to boost', 'text', values.keywords, problems.keywords, html`autocomplete="off"`, 'Comma-separated. Papers that mention them get a section of their own.')}
${field('mutedKeywords', 'Muted keywords', 'text', values.mutedKeywords, problems.mutedKeywords, html`autocomplete="off"`, 'Comma-separated. Papers that mention them are left out.')}
${
  subscriber.user_id !== null
    ? html`<fieldset class="choice" id="for-you"><legend>For you</legend>
<input type="hidden" name="forYouShown" value="1">
<label><input type="checkbox" name="forYou" value="1"${(values.forYouShown === undefined ? subscriber.for_you === 1 : values.forYou !== undefined) ? html` checked` : ''}> Add a "For you" section: up to 5 recent papers picked from your account's upvotes, collections and follows, each with the reason</label>
<p class="field-hint">This address belongs to a Paperboy account, so the digest also leaves out papers matching the account's <a href="/settings/muted">muted keywords</a> and the papers it marked "not interested".</p>
</fieldset>`
    : ''
}
<button type="submit">Save preferences</button>
</form>
${
  subscriber.status === 'unsubscribed'
    ? ''
    : html`<h2>Unsubscribe</h2>
<form method="post" action="${action}/unsubscribe" class="account-form">
${csrfField(ctx, req, reply)}
<button type="submit" class="secondary">Unsubscribe ${subscriber.email}</button>
</form>`
}`,
      ),
    );
  };

  return async (app) => {
    app.get('/subscribe', async (req, reply) => {
      const query = SubscribeQuery.safeParse(req.query ?? {});
      const values = query.success ? { email: query.data.email.trim(), cadence: query.data.cadence } : { email: '', cadence: 'daily' as const };
      return subscribePage(req, reply, values, undefined);
    });

    app.post('/subscribe', subscribeLimited, async (req, reply) => {
      const form = SubscribeForm.safeParse(req.body ?? {});
      if (!form.success) return subscribePage(req, reply, { email: '', cadence: 'daily' }, 'The form was incomplete; fill it in again.', 400);
      const email = form.data.email.trim();
      const problem = emailProblem(email);
      if (problem !== null) return subscribePage(req, reply, { email, cadence: form.data.cadence }, problem, 400);
      await requestSubscription(ctx, { email, cadence: form.data.cadence });
      return checkInbox(reply, email);
    });

    app.get('/subscriptions/confirm', async (req, reply) => {
      const query = TokenQuery.safeParse(req.query ?? {});
      const token = query.success ? query.data.token : '';
      const live = await peekConfirmation(ctx.database, token);
      if (live === null) return deadLink(reply, token === '' ? 400 : 410);
      return sendTokenPage(
        reply,
        200,
        page(
          'Confirm your subscription',
          html`<h1>Confirm your subscription</h1>
<p>Send Paperboy's trending papers to <strong>${live.email}</strong>, ${CADENCE_LABEL[live.cadence]}?</p>
<form method="post" action="/subscriptions/confirm" class="account-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="token" value="${token}">
<button type="submit">Confirm subscription</button>
</form>
<p class="muted small">Did not ask for this? Close this page: nothing is sent unless you confirm.</p>`,
        ),
      );
    });

    app.post('/subscriptions/confirm', withCsrf, async (req, reply) => {
      const form = TokenQuery.safeParse(req.body ?? {});
      const token = form.success ? form.data.token : '';
      const confirmed = await confirmSubscription(ctx.database, token);
      if (confirmed === null) return deadLink(reply, token === '' ? 400 : 410);
      req.log.info('digest subscription confirmed');
      return sendTokenPage(
        reply,
        200,
        page(
          'You are subscribed',
          html`<h1>You are subscribed</h1>
${notice(html`<strong>${confirmed.email}</strong> will get Paperboy's trending papers.`)}
<p><a href="/subscription/${confirmed.linkToken}">Choose how often, how many papers and which topics</a>. Every digest links to that page, and to unsubscribe in one click.</p>`,
        ),
      );
    });

    app.get('/subscription/:token', async (req, reply) => {
      const params = TokenParams.safeParse(req.params);
      const subscriber = params.success ? await subscriberByLinkToken(ctx.database, params.data.token) : undefined;
      if (subscriber === undefined) return notFound(reply);
      const saved = (req.query as Record<string, unknown> | undefined)?.saved === '1';
      return preferencesPage(req, reply, subscriber, inputOf(preferencesOf(subscriber)), {}, 200, saved);
    });

    app.post('/subscription/:token', withCsrf, async (req, reply) => {
      const params = TokenParams.safeParse(req.params);
      const subscriber = params.success ? await subscriberByLinkToken(ctx.database, params.data.token) : undefined;
      if (subscriber === undefined) return notFound(reply);
      const form = PreferencesForm.safeParse(req.body ?? {});
      if (!form.success) {
        return preferencesPage(req, reply, subscriber, inputOf(preferencesOf(subscriber)), { form: 'The form could not be read; fill it in again.' }, 400);
      }
      const result = parsePreferences(form.data);
      if (!result.ok) return preferencesPage(req, reply, subscriber, form.data, result.problems, 400);
      await updatePreferences(ctx.database, subscriber.id, result.prefs);
      if (subscriber.user_id !== null && form.data.forYouShown !== undefined) await setDigestForYou(ctx.database, subscriber.id, form.data.forYou !== undefined);
      reply.header('referrer-policy', 'no-referrer');
      return reply.redirect(`/subscription/${subscriber.link_token}?saved=1`, 303);
    });

    app.post('/subscription/:token/unsubscribe', withCsrf, async (req, reply) => {
      const params = TokenParams.safeParse(req.params);
      const token = params.success ? params.data.token : '';
      if (!(await unsubscribeByLinkToken(ctx.database, token))) return notFound(reply);
      const subscriber = await subscriberByLinkToken(ctx.database, token);
      if (subscriber === undefined) return notFound(reply);
      return unsubscribedPage(reply, subscriber);
    });

    app.get('/unsubscribe/:token', async (req, reply) => {
      const params = TokenParams.safeParse(req.params);
      const subscriber = params.success ? await subscriberByLinkToken(ctx.database, params.data.token) : undefined;
      if (subscriber === undefined) return notFound(reply);
      if (subscriber.status === 'unsubscribed') return unsubscribedPage(reply, subscriber);
      return sendTokenPage(
        reply,
        200,
        page(
          'Unsubscribe',
          html`<h1>Unsubscribe</h1>
<p>Stop sending Paperboy's digest to <strong>${subscriber.email}</strong>?</p>
<form method="post" action="/unsubscribe/${subscriber.link_token}" class="account-form">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>
<p class="muted small">Or <a href="/subscription/${subscriber.link_token}">change how often and what you get</a> instead.</p>`,
        ),
      );
    });

    // RFC 8058 one-click: its own scope, so the request body (form-encoded,
    // multipart or anything else a mail client sends) is accepted and ignored.
    await app.register(async (oneClick) => {
      oneClick.removeAllContentTypeParsers();
      oneClick.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, undefined));
      oneClick.post('/unsubscribe/:token', async (req, reply) => {
        const params = TokenParams.safeParse(req.params);
        const token = params.success ? params.data.token : '';
        if (!(await unsubscribeByLinkToken(ctx.database, token))) return notFound(reply);
        const subscriber = await subscriberByLinkToken(ctx.database, token);
        if (subscriber === undefined) return notFound(reply);
        req.log.info('digest unsubscribed by one-click link');
        return unsubscribedPage(reply, subscriber);
      });
    });

    app.post('/settings/subscription', { preHandler: requireSessionWrite(ctx), config: rateLimit(ctx.config, 'subscribe') }, async (req, reply) => {
      const user = await findUserById(ctx.database, req.auth?.viewer.id ?? 0);
      if (user === undefined) return reply.redirect('/login?next=/settings', 303);
      const form = SubscribeForm.pick({ cadence: true }).safeParse(req.body ?? {});
      const verified = user.email_verified_at !== null;
      await requestSubscription(ctx, {
        email: user.email,
        ...(form.success ? { cadence: form.data.cadence } : {}),
        verified,
        userId: user.id,
      });
      if (!verified) return checkInbox(reply, user.email);
      req.log.info({ userId: user.id }, 'digest subscription from settings');
      return reply.redirect('/settings#digest', 303);
    });
  };
}
