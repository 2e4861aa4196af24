/**
 * Sending a digest run: the delivery ledger (digest_deliveries) walked one
 * row at a time.
 *
 * Each row is leased (pending → sending), its subscriber re-checked, the
 * message rendered from the run's frozen content and the row's frozen
 * selection, handed to the mail server, and only then marked sent. A worker
 * that dies between the claim and the mark leaves exactly that one row in
 * `sending`; when its lease runs out the row becomes `uncertain` (the message
 * may or may not have gone) and follows DIGEST_UNCERTAIN: `resend` sends it
 * again (the same Message-ID, so a receiving system can tell), `hold` leaves
 * it for good. Nothing else is ever sent twice: a row is claimed by one
 * worker at a time, and marked sent fenced on that worker's lease.
 *
 * Each subscriber is checked again when their row is claimed: one who
 * unsubscribed, went back to unconfirmed or was suppressed since the run was
 * built gets nothing (the row is cancelled with the reason).
 *
 * Temporary failures (SMTP 4xx, timeouts, lost connections) go back to
 * pending with an exponential, jittered backoff, up to `maxAttempts`;
 * permanent ones (5xx) fail the row with the server's answer.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppContext } from '../context.js';
import { analyzeLedger, settleAndClaim, settleDelivery, type Settlement } from '../db/delivery-claim.js';
import type { DeliveryStatus } from '../db/schema.js';
import { backoffDelayMs, type BackoffOptions } from '../jobs/queue.js';
import { MailDeliveryError, createMailer, type BulkMessage, type Mailer } from '../mail/mailer.js';
import type { DigestContent, DigestSelection } from './content.js';
import { renderDigest } from './render.js';

/** The run's rows by status when deliverRun returns; `pending` includes rows still leased (`sending`). */
export interface DeliveryCounts {
  sent: number;
  failed: number;
  uncertain: number;
  cancelled: number;
  pending: number;
}

export interface DeliveryOptions {
  /** Stops the run between two messages (the message in flight is finished and recorded). */
  signal?: AbortSignal;
  /** Names this worker in lease_owner; default host:pid:random. */
  owner?: string;
  /** How long a claimed row stays leased; a crashed worker's row waits this long before it is uncertain. */
  leaseMs?: number;
  backoff?: BackoffOptions;
  /** Attempts before a temporarily failing row is failed for good. */
  maxAttempts?: number;
}

export const DEFAULT_DELIVERY_LEASE_MS = 5 * 60_000;
export const DEFAULT_DELIVERY_BACKOFF: BackoffOptions = { baseMs: 30_000, capMs: 30 * 60_000 };
export const DEFAULT_DELIVERY_ATTEMPTS = 8;
/** Longest sleep while another worker holds rows of the run: it usually finishes them within milliseconds. */
const MAX_IDLE_MS = 1_000;

/** The host name of the instance's base URL (no port: Message-ID and List-Id take a domain). */
export function baseHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** The bare address of a From value such as `Paperboy digest <digest@example.org>`. */
export function addressOf(from: string): string {
  const angled = /<([^<>\s]+)>\s*$/.exec(from);
  return (angled?.[1] ?? from).trim();
}

/** Stable per (run, subscriber): a message sent again after a crash is recognisably the same message. */
export function digestMessageId(runId: number, subscriberId: number, baseUrl: string): string {
  return `<digest-${runId}-${subscriberId}@${baseHost(baseUrl)}>`;
}

/** The preferences and unsubscribe pages of a subscriber's link token. */
export function digestLinks(baseUrl: string, linkToken: string): { baseUrl: string; preferencesUrl: string; unsubscribeUrl: string } {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    preferencesUrl: `${base}/subscription/${encodeURIComponent(linkToken)}`,
    unsubscribeUrl: `${base}/unsubscribe/${encodeURIComponent(linkToken)}`,
  };
}

/**
 * The list headers of a digest (RFC 2369, 2919, 8058, 3834): one-click
 * unsubscribe by POST to the HTTPS (or HTTP) link, a mailto alternative for
 * clients without it, the list's id, and the marks that keep auto-responders
 * and vacation replies away.
 */
export function digestHeaders(input: { baseUrl: string; from: string; linkToken: string }): Record<string, string> {
  const { unsubscribeUrl } = digestLinks(input.baseUrl, input.linkToken);
  const mailto = `mailto:${addressOf(input.from)}?subject=${encodeURIComponent(`unsubscribe ${input.linkToken}`)}`;
  return {
    'List-Unsubscribe': `<${unsubscribeUrl}>, <${mailto}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': `Paperboy digest <digest.${baseHost(input.baseUrl)}>`,
    Precedence: 'bulk',
    'Auto-Submitted': 'auto-generated',
  };
}

/** Why a claimed row must not be sent, or undefined when its subscriber may still get it. */
export function ineligibility(row: { subscriber_status: string | null; suppressed: string | null; link_token: string | null }): string | undefined {
  if (row.subscriber_status === null || row.link_token === null) return 'subscriber deleted';
  if (row.subscriber_status !== 'confirmed') return `subscriber ${row.subscriber_status}`;
  if (row.suppressed !== null) return `address suppressed (${row.suppressed})`;
  return undefined;
}

/** Resolves after `ms`, or false at once when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * At most `perSecond` messages a second, without bursts after a pause: each
 * call waits until one interval after the previous one.
 */
function pacer(perSecond: number, signal: AbortSignal | undefined): () => Promise<boolean> {
  const interval = 1_000 / perSecond;
  let next = 0;
  return async () => {
    const now = performance.now();
    const wait = next - now;
    next = Math.max(now, next) + interval;
    // Timers are not finer than a millisecond; a smaller lead is caught up by the next call.
    return wait >= 1 ? pause(wait, signal) : !signal?.aborted;
  };
}

function parseSelection(json: string): DigestSelection {
  const value: unknown = JSON.parse(json);
  const list = (v: unknown): number[] => (Array.isArray(v) ? v.filter((i): i is number => Number.isInteger(i)) : []);
  if (typeof value !== 'object' || value === null) throw new Error('selection is not an object');
  const record = value as Record<string, unknown>;
  const selection: DigestSelection = { trending: list(record.trending), keywords: list(record.keywords) };
  // Written by this program when the run was built (src/personal/digest-section.ts).
  if (Array.isArray(record.forYou)) selection.forYou = record.forYou as NonNullable<DigestSelection['forYou']>;
  return selection;
}

/**
 * Sends every sendable row of run `runId` and returns the run's counts.
 * Several workers may deliver the same run at once (PostgreSQL); each claims
 * its own rows. Waits within the call for rows in backoff and for other
 * workers' leases, and marks the run done when no row is left to send.
 * Calling it again on a finished run sends nothing.
 *
 * Per message the database does one commit: the outcome of the message just
 * sent, written together with the claim of the next one (settleAndClaim).
 * So a worker holds at most one row in `sending` at any moment (the one
 * being sent, or the one just sent and not yet recorded), and a run pays one
 * fsync per message on PostgreSQL.
 */
export async function deliverRun(ctx: AppContext, runId: number, options: DeliveryOptions = {}): Promise<DeliveryCounts> {
  const { db } = ctx.database;
  const { signal } = options;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leaseMs = options.leaseMs ?? DEFAULT_DELIVERY_LEASE_MS;
  const backoff = options.backoff ?? DEFAULT_DELIVERY_BACKOFF;
  const maxAttempts = options.maxAttempts ?? DEFAULT_DELIVERY_ATTEMPTS;
  const resendUncertain = ctx.config.digest.uncertain === 'resend';
  const { baseUrl } = ctx.config;
  const { from, replyTo } = ctx.config.digest;
  const log = ctx.log.child({ digestRun: runId, worker: owner });

  const run = await db.selectFrom('digest_runs').select(['status', 'content']).where('id', '=', runId).executeTakeFirst();
  if (run === undefined) throw new Error(`there is no digest run ${runId}`);
  if (run.status === 'building') throw new Error(`digest run ${runId} is still being built`);
  // Frozen at build time and written by this program: parsed once for the whole run.
  const content = JSON.parse(run.content) as DigestContent;
  const open: DeliveryStatus[] = resendUncertain ? ['pending', 'sending', 'uncertain'] : ['pending', 'sending'];
  const claimable: DeliveryStatus[] = resendUncertain ? ['pending', 'uncertain'] : ['pending'];

  const lostLease = (subscriberId: number) =>
    log.warn({ subscriber: subscriberId }, 'a digest row was settled after its lease was lost; another worker owns it now');

  /** Rows whose worker died mid-send: the message may have gone. One statement for all of them. */
  const recover = async (): Promise<number> => {
    const result = await db
      .updateTable('digest_deliveries')
      .set({ status: 'uncertain', uncertain_at: new Date().toISOString() })
      .where('run_id', '=', runId)
      .where('status', '=', 'sending')
      .where('lease_expires_at', '<', Date.now())
      .executeTakeFirst();
    const n = Number(result.numUpdatedRows);
    if (n > 0) log.warn({ rows: n }, 'digest deliveries whose worker stopped mid-send are now uncertain');
    return n;
  };

  /** When something of the run may next be sendable: the earliest retry, or the earliest lease to run out. */
  const nextWake = async (): Promise<number | undefined> => {
    const [retry, lease] = await Promise.all([
      db
        .selectFrom('digest_deliveries')
        .select((eb) => eb.fn.min('next_attempt_at').as('at'))
        .where('run_id', '=', runId)
        .where('status', 'in', claimable)
        .executeTakeFirst(),
      db
        .selectFrom('digest_deliveries')
        .select((eb) => eb.fn.min('lease_expires_at').as('at'))
        .where('run_id', '=', runId)
        .where('status', '=', 'sending')
        .executeTakeFirst(),
    ]);
    const times = [retry?.at, lease?.at].filter((t): t is number => t !== null && t !== undefined).map(Number);
    return times.length === 0 ? undefined : Math.min(...times);
  };

  const finishRun = () =>
    db
      .updateTable('digest_runs')
      .set({ status: 'done', finished_at: new Date().toISOString() })
      .where('id', '=', runId)
      .where('status', '=', 'sending')
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('digest_deliveries').select('subscriber_id').where('run_id', '=', runId).where('status', 'in', open))),
      )
      .execute();

  const mailer: Mailer = createMailer(ctx.config, ctx.database, ctx.log);
  const pace = pacer(ctx.config.digest.sendRatePerSecond, signal);
  let pending: Settlement | undefined;
  // Never-tried rows are claimed in subscriber order from here (see claimDeliveryStatement).
  let after = 0;
  try {
    await analyzeLedger(ctx.database);
    await recover();
    while (!signal?.aborted) {
      const previous = pending;
      pending = undefined;
      const now = Date.now();
      const { claimed, settled } = await settleAndClaim(db, previous, { runId, owner, leaseMs, now, resendUncertain, after });
      if (previous !== undefined && settled === false) lostLease(previous.subscriberId);

      if (claimed === undefined) {
        // Rows behind the position: given back by a stopped worker, or skipped while another held them.
        if (after > 0) {
          after = 0;
          continue;
        }
        if ((await recover()) > 0) continue;
        const wake = await nextWake();
        if (wake === undefined) {
          await finishRun();
          break;
        }
        if (!(await pause(Math.max(1, Math.min(wake - Date.now(), MAX_IDLE_MS)), signal))) break;
        continue;
      }
      if (claimed.attempts === 1) after = Math.max(after, claimed.subscriber_id);
      const subscriberId = claimed.subscriber_id;

      const reason = ineligibility(claimed);
      if (reason !== undefined || claimed.link_token === null) {
        pending = { subscriberId, outcome: 'cancelled', error: reason ?? 'subscriber deleted' };
        continue;
      }

      let message: BulkMessage;
      try {
        const rendered = renderDigest(content, parseSelection(claimed.selection), digestLinks(baseUrl, claimed.link_token));
        message = {
          to: claimed.email,
          from,
          replyTo,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          headers: digestHeaders({ baseUrl, from, linkToken: claimed.link_token }),
          messageId: digestMessageId(runId, subscriberId, baseUrl),
          kind: 'digest',
        };
      } catch (err) {
        // Stored data this program wrote cannot be rendered: no retry will help.
        log.error({ err, subscriber: subscriberId }, 'a digest could not be rendered');
        pending = { subscriberId, outcome: 'failed', error: `render: ${err instanceof Error ? err.message : String(err)}` };
        continue;
      }

      if (!(await pace())) {
        pending = { subscriberId, outcome: 'release', at: Date.now() };
        break;
      }
      try {
        await mailer.deliver(message);
        pending = { subscriberId, outcome: 'sent', at: new Date().toISOString() };
      } catch (err) {
        if (!(err instanceof MailDeliveryError)) throw err;
        pending =
          err.temporary && claimed.attempts < maxAttempts
            ? { subscriberId, outcome: 'retry', nextAttemptAt: Date.now() + backoffDelayMs(claimed.attempts, backoff), error: err.response }
            : { subscriberId, outcome: 'failed', error: err.response };
      }
    }
  } finally {
    mailer.close();
    // The outcome of the last message (sent, or stopped before it): written even when the run is stopping.
    if (pending !== undefined && !(await settleDelivery(db, runId, owner, pending))) lostLease(pending.subscriberId);
  }
  return countDeliveries(ctx, runId);
}

/** The run's rows by status. */
export async function countDeliveries(ctx: AppContext, runId: number): Promise<DeliveryCounts> {
  const rows = await ctx.database.db
    .selectFrom('digest_deliveries')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('n')])
    .where('run_id', '=', runId)
    .groupBy('status')
    .execute();
  const counts: DeliveryCounts = { sent: 0, failed: 0, uncertain: 0, cancelled: 0, pending: 0 };
  for (const { status, n } of rows) {
    const key = status === 'sending' ? 'pending' : status;
    counts[key] += Number(n);
  }
  return counts;
}
