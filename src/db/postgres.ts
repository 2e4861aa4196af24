/**
 * The PostgreSQL driver (pg) and what only it needs: the pool with Paperboy's
 * type parsing, and scratch schemas for the test suite.
 */
import pg from 'pg';

export type PgPool = pg.Pool;

// bigint (count(*), identity ids, epoch milliseconds) comes back as a string by
// default, to be safe beyond 2^53. Every bigint Paperboy stores is far below
// that, and SQLite returns the same columns as numbers: parse them as numbers
// so both engines give the code the same types.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** A pool of connections to the server at `url`. */
export function createPool(url: string, max = 10): PgPool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'paperboy' });
  // An idle client's connection can drop (server restart); pg emits that on
  // the pool, and an unhandled 'error' event would end the process.
  pool.on('error', () => {});
  return pool;
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/** `url` with its connections' search_path set to `schema`: a database of its own within one server database. */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates an empty schema (for one test file or benchmark run) and returns the URL that uses it. */
export async function createScratchSchema(url: string, schema: string): Promise<string> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  return urlWithSchema(url, schema);
}

/** Drops a schema made by {@link createScratchSchema}. */
export async function dropScratchSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Whether a server answers at `url` within `timeoutMs`. */
export async function canConnect(url: string, timeoutMs = 3000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Drops the schemas test runs left behind (a crashed run cannot drop its own):
 * `t_<pid>_…` schemas whose process is gone, so a run beside another leaves
 * the other's schemas alone.
 */
export async function dropTestSchemas(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'");
    for (const { nspname } of rows.rows) {
      const pid = Number(/^t_(\d+)_/.exec(nspname)?.[1]);
      if (!Number.isInteger(pid) || processAlive(pid) || !SCHEMA_NAME.test(nspname)) continue;
      await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`);
    }
  } finally {
    await client.end();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
