/**
 * Email digest subscriptions: asking for one (double opt-in), confirming it,
 * the preferences link and unsubscribing.
 *
 * - Asking never tells whether the address was known: every state gets the
 *   same answer, and what differs (a confirmation, an "already subscribed"
 *   note, nothing for a suppressed address) only reaches the mailbox.
 * - Each address gets at most one such email per 10 minutes, claimed with a
 *   conditional UPDATE on `confirm_sent_at`, so two requests racing (or two
 *   web processes) send one.
 * - The confirmation token is single-use and expires after 48 hours; only its
 *   hash is stored, and confirming is one UPDATE that clears it.
 * - `link_token` is made with the row and never changes, so the preferences
 *   and unsubscribe links of every email ever sent keep working.
 */
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { sendInBackground } from '../accounts/account-mail.js';
import { hashSecret, isSecret, newSecret } from '../accounts/secrets.js';
import { emailKey, emailProblem } from '../accounts/users.js';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import type { DB, DigestCadence, SubscribersTable, SuppressionReason } from '../db/schema.js';
import { preferenceColumns, type Preferences } from './preferences.js';
import { alreadySubscribedMail, confirmationMail } from './subscription-mail.js';

export type Subscriber = Selectable<SubscribersTable>;

/** How long a confirmation link works. */
export const CONFIRM_LIFETIME_MS = 48 * 3600_000;
/** At most one confirmation (or "already subscribed") email per address this often. */
export const CONFIRM_RESEND_MS = 10 * 60_000;

export interface SubscriptionRequest {
  email: string;
  cadence?: DigestCadence;
  /** Validated category ids or archives (PREFERENCES); omitted: keep what the address had, or all. */
  categories?: string[];
  /**
   * The address is an account's, proven (settings, signed in, verified):
   * confirmed at once, without an email, and linked to `userId`.
   */
  verified?: boolean;
  /** The account to link; only with `verified` (an unproven claim links nothing). */
  userId?: number;
}

/** What a request did. Callers answering anonymous requests must not show it. */
export type SubscriptionOutcome = 'confirmation-sent' | 'reminder-sent' | 'throttled' | 'suppressed' | 'confirmed';

/** Whether the address of `key` may get no mail at all, and why. */
export async function suppressionOf(database: Database, key: string): Promise<{ reason: SuppressionReason; since: string } | null> {
  const row = await database.db.selectFrom('suppressions').select(['reason', 'created_at']).where('email_key', '=', key).executeTakeFirst();
  return row === undefined ? null : { reason: row.reason, since: row.created_at };
}

/**
 * Asks for a digest subscription for `request.email` (a well-formed address:
 * callers validate it). Pending and unsubscribed addresses (and new ones)
 * become pending with a new confirmation link; a confirmed one is told it is
 * subscribed; a suppressed one gets nothing. Emails go out in the background.
 */
export async function requestSubscription(ctx: AppContext, request: SubscriptionRequest): Promise<SubscriptionOutcome> {
  const email = request.email.trim();
  if (emailProblem(email) !== null) throw new Error('requestSubscription needs a well-formed address');
  const key = emailKey(email);
  const { db } = ctx.database;
  if ((await suppressionOf(ctx.database, key)) !== null) return 'suppressed';
  const verified = request.verified === true;
  const userId = verified ? request.userId : undefined;
  const choices = {
    ...(request.cadence === undefined ? {} : { cadence: request.cadence }),
    ...(request.categories === undefined ? {} : { categories: JSON.stringify(request.categories) }),
  };

  // Each pass reads the row and changes it only if it is still as read; a
  // request that lost a race to another one reads again.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const row = await db.selectFrom('subscribers').selectAll().where('email_key', '=', key).executeTakeFirst();
    const now = Date.now();
    const iso = new Date(now).toISOString();

    if (row === undefined) {
      const token = verified ? null : newSecret();
      const inserted = await db
        .insertInto('subscribers')
        .values({
          email,
          email_key: key,
          user_id: userId ?? null,
          status: verified ? 'confirmed' : 'pending',
          ...choices,
          link_token: newSecret(),
          confirm_token_hash: token === null ? null : hashSecret(token),
          confirm_expires_at: token === null ? null : now + CONFIRM_LIFETIME_MS,
          confirm_sent_at: token === null ? null : now,
          created_at: iso,
          confirmed_at: verified ? iso : null,
          updated_at: iso,
        })
        .onConflict((oc) => oc.column('email_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted === undefined) continue;
      if (token === null) return 'confirmed';
      sendInBackground(ctx, confirmationMail(ctx, email, token, request.cadence ?? 'daily'));
      return 'confirmation-sent';
    }

    if (verified) {
      if (row.status === 'confirmed') {
        if (userId !== undefined && row.user_id !== userId) {
          await db.updateTable('subscribers').set({ user_id: userId, updated_at: iso }).where('id', '=', row.id).execute();
        }
        return 'confirmed';
      }
      const done = await db
        .updateTable('subscribers')
        .set({
          status: 'confirmed',
          confirmed_at: iso,
          unsubscribed_at: null,
          confirm_token_hash: null,
          confirm_expires_at: null,
          ...choices,
          ...(userId === undefined ? {} : { user_id: userId }),
          updated_at: iso,
        })
        .where('id', '=', row.id)
        .where('status', '=', row.status)
        .executeTakeFirst();
      if (done.numUpdatedRows === 0n) continue;
      return 'confirmed';
    }

    const mayMail = (eb: ExpressionBuilder<DB, 'subscribers'>) =>
      eb.or([eb('confirm_sent_at', 'is', null), eb('confirm_sent_at', '<=', now - CONFIRM_RESEND_MS)]);

    if (row.status === 'confirmed') {
      // An unproven request must not change a live subscription: its owner only hears of it.
      const claimed = await db
        .updateTable('subscribers')
        .set({ confirm_sent_at: now })
        .where('id', '=', row.id)
        .where('status', '=', 'confirmed')
        .where(mayMail)
        .returning(['email', 'link_token'])
        .executeTakeFirst();
      if (claimed === undefined) return 'throttled';
      sendInBackground(ctx, alreadySubscribedMail(ctx, claimed.email, claimed.link_token));
      return 'reminder-sent';
    }

    const token = newSecret();
    const claimed = await db
      .updateTable('subscribers')
      .set({
        email,
        status: 'pending',
        confirm_token_hash: hashSecret(token),
        confirm_expires_at: now + CONFIRM_LIFETIME_MS,
        confirm_sent_at: now,
        ...choices,
        updated_at: iso,
      })
      .where('id', '=', row.id)
      .where('status', '=', row.status)
      .where(mayMail)
      .returning('cadence')
      .executeTakeFirst();
    // Throttled: the link already on its way stays the valid one.
    if (claimed === undefined) return 'throttled';
    sendInBackground(ctx, confirmationMail(ctx, email, token, claimed.cadence));
    return 'confirmation-sent';
  }
  throw new Error('requestSubscription: the subscriber row kept changing');
}

/** What a live confirmation link is for (without using it): the page behind the link shows a button first. */
export async function peekConfirmation(database: Database, token: string): Promise<{ email: string; cadence: DigestCadence } | null> {
  if (!isSecret(token)) return null;
  const row = await database.db
    .selectFrom('subscribers')
    .select(['email', 'cadence'])
    .where('confirm_token_hash', '=', hashSecret(token))
    .where('status', '=', 'pending')
    .where('confirm_expires_at', '>', Date.now())
    .executeTakeFirst();
  return row ?? null;
}

/** Uses a confirmation link: the subscription is confirmed, or null when the link is unknown, used or expired. */
export async function confirmSubscription(database: Database, token: string): Promise<{ email: string; linkToken: string } | null> {
  if (!isSecret(token)) return null;
  const now = Date.now();
  const iso = new Date(now).toISOString();
  const row = await database.db
    .updateTable('subscribers')
    .set({ status: 'confirmed', confirmed_at: iso, unsubscribed_at: null, confirm_token_hash: null, confirm_expires_at: null, updated_at: iso })
    .where('confirm_token_hash', '=', hashSecret(token))
    .where('status', '=', 'pending')
    .where('confirm_expires_at', '>', now)
    .returning(['email', 'link_token'])
    .executeTakeFirst();
  return row === undefined ? null : { email: row.email, linkToken: row.link_token };
}

/** The subscriber a preferences or unsubscribe link names. */
export async function subscriberByLinkToken(database: Database, token: string): Promise<Subscriber | undefined> {
  if (!isSecret(token)) return undefined;
  return database.db.selectFrom('subscribers').selectAll().where('link_token', '=', token).executeTakeFirst();
}

/** Stores `prefs` (validated with PREFERENCES) for subscriber `id`. */
export async function updatePreferences(database: Database, id: number, prefs: Preferences): Promise<void> {
  await database.db
    .updateTable('subscribers')
    .set({ ...preferenceColumns(prefs), updated_at: new Date().toISOString() })
    .where('id', '=', id)
    .execute();
}

/** The columns of an ended subscription: a pending confirmation link must not bring it back. */
function ended(iso: string) {
  return { status: 'unsubscribed', unsubscribed_at: iso, confirm_token_hash: null, confirm_expires_at: null, updated_at: iso } as const;
}

/**
 * Ends the subscription a link names. Idempotent: true whenever the link is
 * known (also when it was ended before), false for an unknown link.
 */
export async function unsubscribeByLinkToken(database: Database, token: string): Promise<boolean> {
  if (!isSecret(token)) return false;
  const result = await database.db
    .updateTable('subscribers')
    .set(ended(new Date().toISOString()))
    .where('link_token', '=', token)
    .where('status', '!=', 'unsubscribed')
    .executeTakeFirst();
  if (result.numUpdatedRows > 0n) return true;
  return (await subscriberByLinkToken(database, token)) !== undefined;
}

/** Ends the subscription of an address (its email key); true when one was live. */
export async function unsubscribeAddress(database: Database, key: string): Promise<boolean> {
  const result = await database.db
    .updateTable('subscribers')
    .set(ended(new Date().toISOString()))
    .where('email_key', '=', key)
    .where('status', '!=', 'unsubscribed')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The subscriptions that are a person's: the one linked to their account and
 * the one of their account's address once they proved it is theirs.
 */
export async function accountSubscriptions(
  db: Kysely<DB>,
  user: { id: number; emailKey: string; emailVerified: boolean },
): Promise<Subscriber[]> {
  return db
    .selectFrom('subscribers')
    .selectAll()
    .where((eb) => (user.emailVerified ? eb.or([eb('user_id', '=', user.id), eb('email_key', '=', user.emailKey)]) : eb('user_id', '=', user.id)))
    .orderBy('id')
    .execute();
}

/**
 * What deleting an account does to its subscriptions: someone who deletes
 * their account expects no more mail from us and their interests gone. The
 * rows stay, unsubscribed, unlinked and back to the default preferences, only
 * as the record that the address asked for no more mail (and so the links in
 * old digests still answer instead of failing).
 */
export async function endAccountSubscriptions(db: Kysely<DB>, user: { id: number; emailKey: string; emailVerified: boolean }): Promise<void> {
  const rows = await accountSubscriptions(db, user);
  if (rows.length === 0) return;
  const iso = new Date().toISOString();
  const ids = rows.map((r) => r.id);
  await db.updateTable('subscribers').set(ended(iso)).where('id', 'in', ids).where('status', '!=', 'unsubscribed').execute();
  await db
    .updateTable('subscribers')
    .set({ user_id: null, categories: '[]', keywords: '[]', muted_keywords: '[]', updated_at: iso })
    .where('id', 'in', ids)
    .execute();
}
