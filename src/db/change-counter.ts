/**
 * "Has anything changed since?" for caches of rendered pages, across every
 * process writing to the database. Engine-specific by nature: SQLite counts
 * commits itself; on PostgreSQL triggers notify at commit (migration 007) and
 * each process counts the notifications on a connection of its own.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { cachedStatement, onClose, sqliteHandle, type Database } from './connection.js';

const CHANNEL = 'paperboy_data_changed';
const RECONNECT_MS = 1_000;

/** Counts change notifications; while not listening, every version is new, so nothing is served from a cache. */
class ChangeListener {
  private count = 0;
  private listening = false;
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly url: string) {
    void this.connect();
  }

  version(): string {
    return this.listening ? String(this.count) : `unknown:${randomUUID()}`;
  }

  /** Resolves once the listener is subscribed (or gave up for now). */
  ready: Promise<void> = Promise.resolve();

  private connect(): Promise<void> {
    this.ready = (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: 'paperboy-changes' });
      // The channel is the database's; the payload names the schema that changed
      // (migration 013), and other schemas are other instances.
      let schema: string | undefined;
      client.on('notification', (message) => {
        if (message.payload === schema) this.count += 1;
      });
      client.on('error', () => this.lost(client));
      client.on('end', () => this.lost(client));
      try {
        await client.connect();
        schema = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema;
        await client.query(`LISTEN ${CHANNEL}`);
        if (this.closed) {
          await client.end();
          return;
        }
        this.client = client;
        // Anything may have changed while no one listened.
        this.count += 1;
        this.listening = true;
      } catch {
        this.lost(client);
      }
    })();
    return this.ready;
  }

  private lost(client: pg.Client): void {
    if (this.client === client) this.client = null;
    this.listening = false;
    client.end().catch(() => {});
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.listening = false;
    await this.ready;
    await this.client?.end().catch(() => {});
  }
}

const listeners = new WeakMap<Database, ChangeListener>();

function listenerFor(database: Database): ChangeListener {
  let listener = listeners.get(database);
  if (listener === undefined && database.location.engine === 'postgres') {
    const created = new ChangeListener(database.location.url);
    listeners.set(database, created);
    onClose(database, () => created.close());
    listener = created;
  }
  if (listener === undefined) throw new Error(`no change listener for ${database.description}`);
  return listener;
}

/**
 * An opaque version of the data: equal versions mean no write committed in
 * between. On PostgreSQL a commit by another process shows once its
 * notification arrives, within milliseconds.
 */
export async function dataVersion(database: Database): Promise<string> {
  if (database.engine === 'sqlite') {
    const sqlite = sqliteHandle(database);
    // data_version moves when another connection (an import, a worker
    // process) commits; total_changes() when this connection writes.
    const other = cachedStatement(sqlite, 'PRAGMA data_version').pluck().get() as number;
    const own = cachedStatement(sqlite, 'SELECT total_changes()').pluck().get() as number;
    return `${other}:${own}`;
  }
  const listener = listenerFor(database);
  await listener.ready;
  return listener.version();
}
