/**
 * The digest delivery ledger's per-message statements, which differ by engine
 * (see src/digests/delivery.ts), modelled on the job claim (job-claim.ts):
 * the claim of the next row, and the outcome of the previous one written
 * together with it.
 */
import { sql, type ExpressionBuilder, type Kysely, type QueryCreator } from 'kysely';
import { claimsConcurrently, lockedCandidate } from './skip-locked.js';
import type { Database } from './connection.js';
import type { DB, DeliveryStatus } from './schema.js';

// Literals, as in job-claim.ts: the planner then knows the status while choosing an index.
const PENDING = sql.lit<DeliveryStatus>('pending');
const UNCERTAIN = sql.lit<DeliveryStatus>('uncertain');

/** What one claim asks for. */
export interface DeliveryClaimParams {
  runId: number;
  owner: string;
  leaseMs: number;
  now: number;
  /** Whether rows left uncertain by a crash may be sent again (DIGEST_UNCERTAIN=resend). */
  resendUncertain: boolean;
  /**
   * The caller's position in the run: never-tried rows are taken in
   * subscriber order after this id (0 starts over), so each claim reads on
   * from the previous one instead of stepping over every row already sent.
   */
  after: number;
}

/** What becomes of a row its worker is done with. */
export type Settlement =
  | { subscriberId: number; outcome: 'sent'; at: string }
  | { subscriberId: number; outcome: 'retry'; nextAttemptAt: number; error: string }
  | { subscriberId: number; outcome: 'failed' | 'cancelled'; error: string }
  /** Given back unsent (the run was stopped before the send): as if never claimed, claimable at once. */
  | { subscriberId: number; outcome: 'release'; at: number };

function claimQuery(qc: QueryCreator<DB>, concurrent: boolean, { runId, owner, leaseMs, now, resendUncertain, after }: DeliveryClaimParams) {
  const locked = <Q extends { forUpdate(): Q; skipLocked(): Q }>(q: Q): Q => lockedCandidate(concurrent, q);
  const candidates = (eb: ExpressionBuilder<DB, 'digest_deliveries'>) => {
    const rows = () => eb.selectFrom('digest_deliveries').select('subscriber_id').where('run_id', '=', runId);
    const uncertain = locked(rows().where('status', '=', UNCERTAIN).where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(1));
    const retry = locked(
      rows().where('status', '=', PENDING).where('next_attempt_at', '>', 0).where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(1),
    );
    const fresh = locked(
      rows().where('status', '=', PENDING).where('next_attempt_at', '=', 0).where('subscriber_id', '>', after).orderBy('subscriber_id').limit(1),
    );
    return resendUncertain ? eb.fn.coalesce(uncertain, retry, fresh) : eb.fn.coalesce(retry, fresh);
  };
  return qc
    .updateTable('digest_deliveries')
    .set((eb) => ({
      status: 'sending',
      lease_owner: owner,
      lease_expires_at: now + leaseMs,
      attempts: eb('attempts', '+', 1),
    }))
    .where('run_id', '=', runId)
    .where('subscriber_id', '=', candidates)
    .returning((eb) => [
      'digest_deliveries.run_id',
      'digest_deliveries.subscriber_id',
      'digest_deliveries.email',
      'digest_deliveries.selection',
      'digest_deliveries.attempts',
      eb.selectFrom('subscribers').select('subscribers.status').whereRef('subscribers.id', '=', 'digest_deliveries.subscriber_id').as('subscriber_status'),
      eb.selectFrom('subscribers').select('subscribers.link_token').whereRef('subscribers.id', '=', 'digest_deliveries.subscriber_id').as('link_token'),
      eb
        .selectFrom('suppressions')
        .innerJoin('subscribers', 'subscribers.email_key', 'suppressions.email_key')
        .select('suppressions.reason')
        .whereRef('subscribers.id', '=', 'digest_deliveries.subscriber_id')
        .as('suppressed'),
    ]);
}

/**
 * One UPDATE that leases the run's next sendable row to `owner` and returns
 * it with what the sender must re-check at that moment: the subscriber's
 * status, link token and any suppression of the address. None when nothing
 * is sendable now (or after `after`, for rows never tried).
 *
 * Which row, in order: an uncertain row (with the resend policy; it was
 * chosen before anything still pending), then a retry whose backoff is over,
 * then the next never-tried row after `after`. Rows are created with
 * next_attempt_at = 0 and only a retry or a release sets it, so the first two
 * read a short stretch of the (status, next_attempt_at) index, and the third
 * walks the run's rows in subscriber order from the caller's position: each
 * claim costs the same at the first row of a run and at its millionth.
 *
 * On PostgreSQL each candidate is locked with FOR UPDATE SKIP LOCKED, so
 * concurrent workers each get a different row without waiting; on SQLite
 * every write runs under the single write lock, so the plain subqueries are
 * already exclusive.
 */
export function claimDeliveryStatement(db: Kysely<DB>, params: DeliveryClaimParams) {
  return claimQuery(db, claimsConcurrently(db), params);
}

/** A row as a claim returns it. */
export type ClaimedDelivery = NonNullable<Awaited<ReturnType<ReturnType<typeof claimDeliveryStatement>['executeTakeFirst']>>>;

/**
 * The UPDATE writing a settlement, fenced on the worker's lease: a row
 * another worker took over is theirs and is left alone. A row merely marked
 * uncertain after a slow send is still the worker's, and is now known sent.
 */
function settlementQuery(qc: QueryCreator<DB>, runId: number, owner: string, s: Settlement) {
  const held = qc.updateTable('digest_deliveries').where('run_id', '=', runId).where('subscriber_id', '=', s.subscriberId).where('lease_owner', '=', owner);
  switch (s.outcome) {
    case 'sent':
      return held.where('status', 'in', ['sending', 'uncertain']).set({ status: 'sent', sent_at: s.at, lease_expires_at: null, error: null });
    case 'retry':
      return held
        .where('status', '=', 'sending')
        .set({ status: 'pending', next_attempt_at: s.nextAttemptAt, error: s.error.slice(0, 1000), lease_owner: null, lease_expires_at: null });
    case 'release':
      return held.where('status', '=', 'sending').set((eb) => ({
        status: 'pending',
        attempts: eb('attempts', '-', 1),
        next_attempt_at: s.at,
        lease_owner: null,
        lease_expires_at: null,
      }));
    default:
      return held.where('status', '=', 'sending').set({ status: s.outcome, error: s.error.slice(0, 1000), lease_expires_at: null });
  }
}

/** Writes a settlement on its own (the last one of a call); false when the lease was lost. */
export async function settleDelivery(db: Kysely<DB>, runId: number, owner: string, settlement: Settlement): Promise<boolean> {
  const result = await settlementQuery(db, runId, owner, settlement).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Writes the outcome of the worker's previous row and claims its next one
 * atomically: one commit per message, and never two rows of one worker in
 * `sending` at once. `settled` is false when the previous row's lease was
 * lost (undefined when that is not known: PostgreSQL reports it only with a
 * claimed row).
 *
 * PostgreSQL: one statement, the settlement as a data-modifying WITH (a
 * round trip instead of four; the two never touch the same row, since the
 * settled row is in `sending` and the claim takes only pending or uncertain
 * rows). SQLite: a transaction of the two statements, in-process and cheap.
 */
export async function settleAndClaim(
  db: Kysely<DB>,
  settlement: Settlement | undefined,
  params: DeliveryClaimParams,
): Promise<{ claimed: ClaimedDelivery | undefined; settled: boolean | undefined }> {
  if (settlement === undefined) return { claimed: await claimDeliveryStatement(db, params).executeTakeFirst(), settled: true };
  if (claimsConcurrently(db)) {
    const qc = db.with('settled', (q) => settlementQuery(q, params.runId, params.owner, settlement).returning('subscriber_id'));
    const row = await claimQuery(qc, true, params)
      .returning(sql<string | number>`(SELECT count(*) FROM settled)`.as('settled'))
      .executeTakeFirst();
    if (row === undefined) return { claimed: undefined, settled: undefined };
    const { settled, ...claimed } = row;
    return { claimed, settled: Number(settled) > 0 };
  }
  return db.transaction().execute(async (tx) => {
    const settled = await settleDelivery(tx, params.runId, params.owner, settlement);
    return { claimed: await claimDeliveryStatement(tx, params).executeTakeFirst(), settled };
  });
}

/**
 * Refreshes PostgreSQL's statistics of the ledger before a run is sent. A run
 * has just inserted its rows, all pending; until autovacuum gets to the table
 * the planner's picture is of the ledger before (empty, or every row sent),
 * and it would sort the whole run at each claim instead of walking it in
 * subscriber order. Sampling the table costs a fraction of a second once per
 * call. Nothing to do on SQLite, which plans the claim the same way without
 * statistics.
 */
export async function analyzeLedger(database: Database): Promise<void> {
  if (database.engine !== 'postgres') return;
  await sql`ANALYZE digest_deliveries`.execute(database.db);
}
