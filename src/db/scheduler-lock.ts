/**
 * Which scheduler of an instance enqueues periodic jobs. Only one should: the
 * per-period unique key already keeps a period's job from being created twice,
 * but a single leader keeps the schedulers' writes and logs to one process,
 * and leaves the door open to schedules that are not idempotent by key.
 *
 * PostgreSQL: a session-level advisory lock, taken with pg_try_advisory_lock
 * on a connection of the scheduler's own (outside the pool, whose connections
 * are shared and recycled). The server releases it the moment that session
 * ends, so when the leading process dies or is SIGKILLed its connection closes
 * and the next standby to try (every few seconds) takes over; no lease has to
 * run out first.
 *
 * SQLite: every scheduler leads. An SQLite instance's processes share one
 * machine and one file, there is no advisory lock to hold, and a lease row
 * would only add a write per tick and a failover delay, while the per-period
 * unique key already makes each period's job exactly once.
 */
import pg from 'pg';
import type { Database } from './connection.js';

/** Leadership among the schedulers of one instance. */
export interface SchedulerLock {
  /**
   * Whether this process leads now: confirms a lock it holds (its connection
   * still answers) or tries to take it. Never throws; a database that cannot
   * be reached means "not leading", and the next call tries again.
   */
  hold(): Promise<boolean>;
  /** Gives the lead up (if held) and closes the lock's connection. */
  release(): Promise<void>;
}

// The first key of the two-key advisory lock ("PBsc"); the second is the
// schema's hash, so instances in different schemas of one database (and the
// test suite's scratch schemas) each have their own scheduler. Single-bigint
// advisory locks (migrations, paper writers) live in another key space.
const LOCK_CLASS = 0x50427363;

class AdvisorySchedulerLock implements SchedulerLock {
  private client: pg.Client | null = null;
  private held = false;

  constructor(private readonly url: string) {}

  async hold(): Promise<boolean> {
    try {
      const client = this.client ?? (await this.connect());
      if (this.held) {
        // A lost connection means a lost lock: the server let go of it when the session ended.
        await client.query('SELECT 1');
        return true;
      }
      const result = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS locked',
        [LOCK_CLASS],
      );
      this.held = result.rows[0]?.locked === true;
      return this.held;
    } catch {
      this.drop();
      return false;
    }
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.held = false;
    // Ending the session releases its advisory locks.
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<pg.Client> {
    // keepAlive: a leader cut off by the network is noticed (and its session
    // ended, releasing the lock) by the server without waiting for hours.
    const client = new pg.Client({ connectionString: this.url, application_name: 'paperboy-scheduler', keepAlive: true });
    // Without a listener, a dropped idle connection's 'error' would end the process.
    client.on('error', () => {
      if (this.client === client) this.drop();
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    this.held = false;
    client?.end().catch(() => {});
  }
}

const everyoneLeads: SchedulerLock = {
  hold: () => Promise.resolve(true),
  release: () => Promise.resolve(),
};

/** The scheduler lock of `database`'s instance: an advisory lock on PostgreSQL, always held on SQLite. */
export function schedulerLock(database: Database): SchedulerLock {
  return database.location.engine === 'postgres' ? new AdvisorySchedulerLock(database.location.url) : everyoneLeads;
}
