import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { claimStatement } from '../db/job-claim.js';
import type { DB, JobsTable } from '../db/schema.js';
import type { AppContext } from '../context.js';
import type { Logger } from '../log.js';

/** A row of the `jobs` table. */
export type JobRow = Selectable<JobsTable>;

/** Exponential backoff between attempts: `baseMs * 2^(attempt-1)`, at most `capMs`, jittered. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** Base 5 s, cap 1 h. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5_000, capMs: 3_600_000 };

/** Attempts a job gets unless its type or its enqueue says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 10;

/** Defaults a job type applies to every job of that type. */
export interface JobTypeOptions {
  maxAttempts?: number;
  priority?: number;
  backoff?: Partial<BackoffOptions>;
}

/** A job type: its stored name and the zod schema its payload must satisfy. */
export interface JobType<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  readonly options: Readonly<JobTypeOptions>;
}

/** Declares a job type; enqueue and claim both validate payloads against `schema`. */
export function defineJobType<S extends z.ZodType>(name: string, schema: S, options: JobTypeOptions = {}): JobType<S> {
  if (!/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/.test(name)) throw new Error(`invalid job type name "${name}"`);
  return { name, schema, options };
}

/** What to enqueue. `payload` is the schema's input and must survive JSON. */
export interface JobSpec<S extends z.ZodType = z.ZodType> {
  type: JobType<S>;
  payload: z.input<S>;
  /** Enqueueing a key that already exists (in any status) is a no-op. */
  uniqueKey?: string;
  /** When the job becomes runnable (ms since the epoch or a Date); default now. */
  runAt?: number | Date;
  /** Higher runs first among runnable jobs; default 0. */
  priority?: number;
  maxAttempts?: number;
}

/** Builds a JobSpec with the payload checked against the type at compile time. */
export function jobSpec<S extends z.ZodType>(
  type: JobType<S>,
  payload: z.input<S>,
  options: Omit<JobSpec<S>, 'type' | 'payload'> = {},
): JobSpec<S> {
  return { ...options, type, payload };
}

/** The job row's id, and whether this call created it (false: the unique key existed). */
export interface EnqueueResult {
  id: number;
  created: boolean;
}

/** Thrown by a handler (or for an unusable payload) to fail the job now, without retries. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** Thrown by enqueue when the payload does not match its job type's schema. */
export class InvalidJobPayloadError extends Error {
  constructor(
    readonly jobType: string,
    readonly detail: string,
  ) {
    super(`invalid payload for job type "${jobType}": ${detail}`);
    this.name = 'InvalidJobPayloadError';
  }
}

interface NewJob {
  type: string;
  payload: string;
  unique_key: string | null;
  priority: number;
  run_at: number;
  max_attempts: number;
}

function describeIssues(error: z.ZodError): string {
  return z.prettifyError(error).replace(/\s*\n\s*/g, '; ');
}

/**
 * Validates a spec into the row to insert. The payload is checked after a JSON
 * round trip, because that is what the handler will get: a Date or undefined
 * that passes the schema here but not after storage is rejected now, at the
 * caller, rather than failing the job later.
 */
function prepare(spec: JobSpec): NewJob {
  const { type } = spec;
  const json = JSON.stringify(spec.payload);
  if (json === undefined) throw new InvalidJobPayloadError(type.name, 'payload is not JSON-serialisable');
  const parsed = type.schema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new InvalidJobPayloadError(type.name, describeIssues(parsed.error));
  const maxAttempts = spec.maxAttempts ?? type.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be a positive integer`);
  const runAt = spec.runAt === undefined ? Date.now() : typeof spec.runAt === 'number' ? spec.runAt : spec.runAt.getTime();
  if (!Number.isFinite(runAt)) throw new Error('runAt is not a valid time');
  return {
    type: type.name,
    payload: json,
    unique_key: spec.uniqueKey ?? null,
    priority: spec.priority ?? type.options.priority ?? 0,
    run_at: Math.round(runAt),
    max_attempts: maxAttempts,
  };
}

/**
 * Enqueues a job. Pass the caller's transaction to create the job atomically
 * with the change that needs it: if that transaction rolls back, so does the job.
 */
export async function enqueue<S extends z.ZodType>(
  db: Kysely<DB> | Transaction<DB>,
  job: JobSpec<S>,
): Promise<EnqueueResult> {
  const row = prepare(job);
  const now = Date.now();
  // Two tries: between a conflicting insert and the lookup, the existing row can
  // only disappear by being pruned, and then the second insert succeeds.
  for (let tries = 0; tries < 2; tries++) {
    const inserted = await db
      .insertInto('jobs')
      .values({ ...row, status: 'queued', attempts: 0, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('unique_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return { id: inserted.id, created: true };
    const existing = await db
      .selectFrom('jobs')
      .select('id')
      .where('unique_key', '=', row.unique_key)
      .executeTakeFirst();
    if (existing) return { id: existing.id, created: false };
  }
  throw new Error(`could not enqueue job with unique key "${row.unique_key}"`);
}

/** Options for `claimJob`. */
export interface ClaimOptions {
  /**
   * Identifies this claim. It must be unique per claim, not just per worker
   * (the worker appends a sequence number): every later write is fenced on it,
   * so a stale invocation of the same job can never match.
   */
  owner: string;
  leaseMs: number;
  /** Job types this worker can run; other types are left for other workers. */
  types: readonly string[];
  now?: number;
}

/** A claimed job: the row as it is now, leased to `lease_owner`. */
export type ClaimedJob = JobRow & { status: 'running'; lease_owner: string; lease_expires_at: number };

/** The part of a claimed job that identifies the lease. */
export type JobLease = Pick<JobRow, 'id' | 'lease_owner'>;

const LOST_ON_FINAL_ATTEMPT = 'lease expired on the final attempt: the worker crashed or stalled';

/**
 * Claims the next runnable job for `owner`, or returns undefined. One UPDATE
 * statement picks and leases the job, so two workers, in this process or
 * another, can never claim the same job (SQLite runs a write statement under
 * the database's single write lock; PostgreSQL locks the candidate with FOR
 * UPDATE SKIP LOCKED).
 */
export async function claimJob(db: Kysely<DB>, options: ClaimOptions): Promise<ClaimedJob | undefined> {
  const { owner, leaseMs, types } = options;
  if (types.length === 0) return undefined;
  for (;;) {
    const now = options.now ?? Date.now();
    const row = await claimStatement(db, { owner, leaseMs, types, now }).executeTakeFirst();
    if (row === undefined) return undefined;
    const claimed = row as ClaimedJob;
    // Re-claiming an expired lease counts the lost run as an attempt, so a job
    // that kills its worker every time still runs out of attempts.
    if (claimed.attempts <= claimed.max_attempts) return claimed;
    await db
      .updateTable('jobs')
      .set({
        status: 'failed',
        attempts: claimed.max_attempts,
        lease_expires_at: null,
        last_error: LOST_ON_FINAL_ATTEMPT,
        finished_at: now,
        updated_at: now,
      })
      .where('id', '=', claimed.id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .execute();
  }
}

function changed(result: { numUpdatedRows: bigint } | undefined): boolean {
  return result !== undefined && result.numUpdatedRows > 0n;
}

/**
 * Extends the lease to now + leaseMs if `owner` still holds it. False means the
 * lease was lost (expired and re-claimed, or released): stop working on the job.
 */
export async function heartbeatJob(db: Kysely<DB>, lease: JobLease, leaseMs: number, now = Date.now()): Promise<boolean> {
  if (lease.lease_owner === null) return false;
  const result = await db
    .updateTable('jobs')
    .set({ lease_expires_at: now + leaseMs, updated_at: now })
    .where('id', '=', lease.id)
    .where('lease_owner', '=', lease.lease_owner)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return changed(result);
}

/**
 * Marks the job done with `result` (stored as JSON). False, and nothing
 * written, when the caller no longer holds the lease.
 */
export async function completeJob(db: Kysely<DB>, lease: JobLease, result?: unknown, now = Date.now()): Promise<boolean> {
  if (lease.lease_owner === null) return false;
  const json = result === undefined ? null : (JSON.stringify(result) ?? null);
  const updated = await db
    .updateTable('jobs')
    .set({ status: 'done', result: json, lease_expires_at: null, finished_at: now, updated_at: now })
    .where('id', '=', lease.id)
    .where('lease_owner', '=', lease.lease_owner)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return changed(updated);
}

/**
 * Delay before the retry that follows failed attempt number `attempt` (1-based):
 * "equal jitter", uniformly within [d/2, d] for d = min(cap, base * 2^(attempt-1)),
 * so retries of jobs that failed together spread out and never exceed the cap.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 52);
  const d = Math.min(options.capMs, options.baseMs * 2 ** exp);
  return Math.round(d / 2 + random() * (d / 2));
}

/** Options for `failJob`. */
export interface FailOptions {
  /** Fail now regardless of attempts left. Implied by a PermanentJobError. */
  permanent?: boolean;
  backoff?: BackoffOptions;
  now?: number;
  random?: () => number;
}

/** What `failJob` did: scheduled a retry, failed the job for good, or nothing (lease lost). */
export type FailOutcome = { outcome: 'retry'; runAt: number } | { outcome: 'failed' } | { outcome: 'lost-lease' };

/** The text stored in last_error: the stack when there is one, bounded. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.length > 8_000 ? `${text.slice(0, 8_000)}…` : text;
}

/**
 * Records a failed attempt: back to `queued` with a backed-off run_at while
 * attempts remain, otherwise `failed`. Needs the claimed row's attempts and
 * max_attempts, which cannot change while the lease is held.
 */
export async function failJob(
  db: Kysely<DB>,
  job: JobLease & Pick<JobRow, 'attempts' | 'max_attempts'>,
  error: unknown,
  options: FailOptions = {},
): Promise<FailOutcome> {
  if (job.lease_owner === null) return { outcome: 'lost-lease' };
  const now = options.now ?? Date.now();
  const permanent = options.permanent === true || error instanceof PermanentJobError;
  const lastError = errorText(error);
  const fenced = db
    .updateTable('jobs')
    .where('id', '=', job.id)
    .where('lease_owner', '=', job.lease_owner)
    .where('status', '=', 'running');
  if (permanent || job.attempts >= job.max_attempts) {
    const r = await fenced
      .set({ status: 'failed', last_error: lastError, lease_expires_at: null, finished_at: now, updated_at: now })
      .executeTakeFirst();
    return changed(r) ? { outcome: 'failed' } : { outcome: 'lost-lease' };
  }
  const runAt = now + backoffDelayMs(job.attempts, options.backoff, options.random);
  const r = await fenced
    .set({
      status: 'queued',
      run_at: runAt,
      last_error: lastError,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
    })
    .executeTakeFirst();
  return changed(r) ? { outcome: 'retry', runAt } : { outcome: 'lost-lease' };
}

/**
 * Hands a claimed job back unfinished (graceful shutdown): queued, runnable
 * now, and the interrupted attempt is not counted (attempts - 1), because
 * being stopped by a deploy is not the job's failure.
 */
export async function releaseJob(db: Kysely<DB>, lease: JobLease, now = Date.now()): Promise<boolean> {
  if (lease.lease_owner === null) return false;
  const result = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      run_at: now,
      attempts: eb('attempts', '-', 1),
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
    }))
    .where('id', '=', lease.id)
    .where('lease_owner', '=', lease.lease_owner)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return changed(result);
}

/** Cancels a job that has not started; false if it is running or finished. */
export async function cancelJob(db: Kysely<DB>, id: number, now = Date.now()): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'cancelled', finished_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return changed(result);
}

/** The job a handler sees: its validated payload and where it stands. */
export interface JobInfo<P> {
  id: number;
  type: string;
  payload: P;
  uniqueKey: string | null;
  /** 1 on the first run; includes runs lost to a crashed worker. */
  attempt: number;
  maxAttempts: number;
  runAt: number;
  createdAt: number;
}

/** Everything a handler gets. `signal` aborts on shutdown or when the lease is lost. */
export interface JobHandlerArgs<P> {
  job: JobInfo<P>;
  signal: AbortSignal;
  log: Logger;
  ctx: AppContext;
}

/**
 * Runs one job. Handlers must be idempotent: a job whose worker dies is run
 * again from the start. The resolved value is stored as the job's result.
 */
export type JobHandler<P> = (args: JobHandlerArgs<P>) => Promise<unknown>;

/** A registered job type, with the payload type erased. */
export interface RegisteredJobType {
  type: JobType;
  /** Validates the stored payload and runs the handler; an invalid payload throws PermanentJobError. */
  run(row: JobRow, args: Omit<JobHandlerArgs<unknown>, 'job'>): Promise<unknown>;
}

/** The job types a worker can run, each with its handler. */
export class JobRegistry {
  private readonly entries = new Map<string, RegisteredJobType>();

  /** Adds a handler for `type`; one handler per type. */
  register<S extends z.ZodType>(type: JobType<S>, handler: JobHandler<z.output<S>>): this {
    if (this.entries.has(type.name)) throw new Error(`job type "${type.name}" is already registered`);
    this.entries.set(type.name, {
      type,
      async run(row, args) {
        let raw: unknown;
        try {
          raw = JSON.parse(row.payload);
        } catch (err) {
          throw new PermanentJobError(`payload is not valid JSON: ${errorText(err)}`);
        }
        const parsed = type.schema.safeParse(raw);
        if (!parsed.success) {
          throw new PermanentJobError(`invalid payload for job type "${type.name}": ${describeIssues(parsed.error)}`);
        }
        return handler({
          ...args,
          job: {
            id: row.id,
            type: row.type,
            payload: parsed.data,
            uniqueKey: row.unique_key,
            attempt: row.attempts,
            maxAttempts: row.max_attempts,
            runAt: row.run_at,
            createdAt: row.created_at,
          },
        });
      },
    });
    return this;
  }

  /** The registered type called `name`, if any. */
  get(name: string): RegisteredJobType | undefined {
    return this.entries.get(name);
  }

  /** Names of every registered type. */
  types(): string[] {
    return [...this.entries.keys()];
  }
}
