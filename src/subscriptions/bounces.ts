/**
 * What comes back from sending: bounces, complaints and list unsubscribes,
 * whether a mail provider posts them to the webhook or the MTA pipes the
 * returned messages in (src/api/mail-webhook-routes.ts, src/mail/dsn.ts).
 *
 * Every event is kept in `mail_events`. A hard bounce or a complaint
 * suppresses the address at once; soft bounces (a full mailbox, a server
 * that stayed down until the MTA gave up) only once there have been
 * SOFT_BOUNCE_LIMIT of them within 30 days, since each one alone says
 * nothing lasting. A suppressed address never gets a digest again, whatever
 * its subscription says (the digest builder and sender both check).
 */
import type { Kysely } from 'kysely';
import { emailKey } from '../accounts/users.js';
import { isSecret } from '../accounts/secrets.js';
import type { Config } from '../config.js';
import type { Database } from '../db/connection.js';
import type { DB, MailEventKind, MailEventsTable, SuppressionReason } from '../db/schema.js';

export type MailEventSource = MailEventsTable['source'];

/** What recording an event needs of the application context. */
export interface BounceContext {
  database: Database;
  config: Pick<Config, 'softBounceLimit'>;
}

export const SOFT_BOUNCE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
const MAX_DETAIL = 1000;

export interface MailEvent {
  email: string;
  kind: MailEventKind;
  source: MailEventSource;
  detail?: string | null;
}

/** What one event changed. */
export interface MailEventOutcome {
  /** The address was added to the suppressions by this event. */
  suppressed: boolean;
  /** A subscription went to `unsubscribed` by this event. */
  unsubscribed: boolean;
}

/** An event naming its subscriber by address, by link token, or both (the token wins when it is known). */
export interface ReportedMailEvent {
  kind: MailEventKind;
  email?: string;
  token?: string;
  detail?: string | null;
}

export interface MailEventCounts {
  /** Rows written to mail_events. */
  recorded: number;
  /** Addresses newly suppressed. */
  suppressed: number;
  /** Subscriptions newly unsubscribed. */
  unsubscribed: number;
  /** Events that named nobody known: a link token of no subscriber and no address. */
  ignored: number;
}

function clip(detail: string | null | undefined): string | null {
  if (detail === undefined || detail === null || detail.trim() === '') return null;
  const text = detail.trim();
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL - 1)}…`;
}

async function suppressIn(db: Kysely<DB>, key: string, reason: SuppressionReason, detail: string | null, now: Date): Promise<boolean> {
  // The first reason stays: it is the one that stopped the mail.
  const inserted = await db
    .insertInto('suppressions')
    .values({ email_key: key, reason, detail: clip(detail), created_at: now.toISOString() })
    .onConflict((oc) => oc.column('email_key').doNothing())
    .returning('email_key')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Stops all mail to `email` for good. Idempotent: suppressing an address
 * again keeps its first reason. True when the address was not suppressed before.
 */
export async function suppress(
  database: Database,
  email: string,
  reason: SuppressionReason,
  detail: string | null = null,
  now: Date = new Date(),
): Promise<boolean> {
  return suppressIn(database.db, emailKey(email), reason, detail, now);
}

/** Whether mail to `email` is suppressed. */
export async function isSuppressed(database: Database, email: string): Promise<boolean> {
  const row = await database.db.selectFrom('suppressions').select('email_key').where('email_key', '=', emailKey(email)).executeTakeFirst();
  return row !== undefined;
}

async function unsubscribeIn(db: Kysely<DB>, key: string, now: Date): Promise<boolean> {
  const iso = now.toISOString();
  const result = await db
    .updateTable('subscribers')
    // A pending confirmation link must not bring the subscription back.
    .set({ status: 'unsubscribed', unsubscribed_at: iso, updated_at: iso, confirm_token_hash: null, confirm_expires_at: null })
    .where('email_key', '=', key)
    .where('status', '!=', 'unsubscribed')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

async function recordIn(db: Kysely<DB>, config: BounceContext['config'], event: MailEvent, now: Date): Promise<MailEventOutcome> {
  const key = emailKey(event.email);
  const detail = clip(event.detail);
  await db
    .insertInto('mail_events')
    .values({ email_key: key, kind: event.kind, source: event.source, detail, created_at: now.toISOString() })
    .execute();
  switch (event.kind) {
    case 'hard-bounce':
    case 'complaint':
      return { suppressed: await suppressIn(db, key, event.kind, detail, now), unsubscribed: false };
    case 'soft-bounce': {
      const since = new Date(now.getTime() - SOFT_BOUNCE_WINDOW_MS).toISOString();
      const row = await db
        .selectFrom('mail_events')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('email_key', '=', key)
        .where('kind', '=', 'soft-bounce')
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      const count = Number(row.n);
      if (count < config.softBounceLimit) return { suppressed: false, unsubscribed: false };
      const why = `${count} soft bounces within 30 days${detail === null ? '' : `; last: ${detail}`}`;
      return { suppressed: await suppressIn(db, key, 'soft-bounces', why, now), unsubscribed: false };
    }
    case 'unsubscribe':
      return { suppressed: false, unsubscribed: await unsubscribeIn(db, key, now) };
  }
}

/**
 * Records one bounce, complaint or unsubscribe for an address and acts on
 * it, atomically (a retried webhook cannot leave an event without its
 * suppression).
 */
export async function recordMailEvent(ctx: BounceContext, event: MailEvent, now: Date = new Date()): Promise<MailEventOutcome> {
  return ctx.database.db.transaction().execute((trx) => recordIn(trx, ctx.config, event, now));
}

/** The address of the subscriber with this link token, if any. */
async function addressOfToken(db: Kysely<DB>, token: string): Promise<string | undefined> {
  if (!isSecret(token)) return undefined;
  const row = await db.selectFrom('subscribers').select('email').where('link_token', '=', token).executeTakeFirst();
  return row?.email;
}

/**
 * Records a batch of events in one transaction, all or none, so a sender
 * that retries a failed request does not count its soft bounces twice. An
 * event with a link token is for that token's subscriber; one whose token is
 * unknown falls back to its address, or is ignored without one.
 */
export async function recordMailEvents(
  ctx: BounceContext,
  events: readonly ReportedMailEvent[],
  source: MailEventSource,
  now: Date = new Date(),
): Promise<MailEventCounts> {
  return ctx.database.db.transaction().execute(async (trx) => {
    const counts: MailEventCounts = { recorded: 0, suppressed: 0, unsubscribed: 0, ignored: 0 };
    for (const event of events) {
      const email = (event.token === undefined ? undefined : await addressOfToken(trx, event.token)) ?? event.email;
      if (email === undefined) {
        counts.ignored += 1;
        continue;
      }
      const outcome = await recordIn(trx, ctx.config, { email, kind: event.kind, source, detail: event.detail }, now);
      counts.recorded += 1;
      if (outcome.suppressed) counts.suppressed += 1;
      if (outcome.unsubscribed) counts.unsubscribed += 1;
    }
    return counts;
  });
}
