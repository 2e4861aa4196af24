/**
 * Copying an instance's database to another engine or file (`paperboy
 * migrate-data`). The tables come from the source's catalog at run time, so a
 * table added by a later migration is copied without a change here. Each table
 * is read in primary-key order in batches, each batch written in its own
 * transaction, so a killed copy leaves whole batches behind and a rerun picks
 * up where it stopped. Afterwards both sides are counted and checksummed.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database, Engine } from './connection.js';
import { rebuildKeywordIndex } from './keyword-index.js';

/** A table as one engine's catalog describes it. */
export interface TableInfo {
  name: string;
  /** In declaration order. */
  columns: string[];
  /** Primary-key columns in key order; empty for a table without one. */
  primaryKey: string[];
  /** Whether the key is one integer column (an id), which lets a rerun resume after the highest copied key. */
  integerKey: boolean;
  /** Tables this one references by foreign key. */
  references: string[];
  /** PostgreSQL identity or serial columns, whose sequences must follow copied ids. */
  generated: string[];
}

/** What will be copied for one table: the source's key, the columns both sides have. */
export interface TablePlan {
  table: string;
  columns: string[];
  key: string[];
  integerKey: boolean;
  /** Identity columns among `columns` on a PostgreSQL target. */
  targetGenerated: string[];
}

export interface CopyPlan {
  /** In an order that writes referenced tables before the tables that reference them. */
  tables: TablePlan[];
  /** Source tables the target has no table for (engine-specific bookkeeping), with their row counts. */
  sourceOnly: { table: string; rows: number }[];
}

/** Rows of a table committed so far, and since when this run copies it. */
export interface CopyProgress {
  table: string;
  copied: number;
  elapsedMs: number;
}

export interface CopyOptions {
  /** Rows read and written per transaction. */
  batchSize?: number;
  /** Test hook: a pause after each committed batch, so a test can kill the copy midway. */
  batchDelayMs?: number;
  onProgress?: (p: CopyProgress) => void;
}

export interface TableCopyResult {
  table: string;
  /** Rows this run inserted (a rerun inserts only what was missing). */
  copied: number;
  /** Set when the copy started after rows an earlier run committed. */
  resumedAfter: number | null;
  durationMs: number;
}

export interface TableCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

export const DEFAULT_BATCH_SIZE = 5000;

/** The migration ledger: each side keeps its own, written by migrate(). */
const LEDGER = 'schema_migrations';

type AnyDb = Kysely<unknown>;
type Row = Record<string, unknown>;

function kysely(database: Database): AnyDb {
  return database.db as unknown as AnyDb;
}

async function all<T>(database: Database, query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(kysely(database))).rows;
}

const ids = (names: string[]): RawBuilder<unknown> => sql.join(names.map((n) => sql.id(n)));

/** The tables of a database with their columns, keys and references, read from its catalog. */
export async function listTables(database: Database): Promise<TableInfo[]> {
  return database.engine === 'sqlite' ? listSqliteTables(database) : listPostgresTables(database);
}

async function listSqliteTables(database: Database): Promise<TableInfo[]> {
  const entries = await all(
    database,
    sql<{ name: string; type: string; ddl: string | null }>`SELECT name, type, sql AS ddl FROM sqlite_master
      WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`,
  );
  // A virtual table (the FTS5 keyword index) is derived from other tables and
  // rebuilt after the copy; FTS5 keeps its data in shadow tables named after it.
  const virtual = entries.filter((e) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(e.ddl ?? '')).map((e) => e.name);
  const names = entries
    .map((e) => e.name)
    .filter((name) => name !== LEDGER && !virtual.some((v) => name === v || name.startsWith(`${v}_`)));
  const tables: TableInfo[] = [];
  for (const name of names) {
    const columns = await all(
      database,
      sql<{ name: string; type: string; pk: number }>`SELECT name, type, pk FROM pragma_table_info(${name}) ORDER BY cid`,
    );
    const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const references = await all(database, sql<{ parent: string }>`SELECT DISTINCT "table" AS parent FROM pragma_foreign_key_list(${name})`);
    tables.push({
      name,
      columns: columns.map((c) => c.name),
      primaryKey: key.map((c) => c.name),
      // SQLite's rule for integer affinity: the declared type contains INT.
      integerKey: key.length === 1 && /INT/i.test(key[0]?.type ?? ''),
      references: references.map((r) => r.parent),
      generated: [],
    });
  }
  return tables;
}

async function listPostgresTables(database: Database): Promise<TableInfo[]> {
  const names = await all(
    database,
    sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> ${LEDGER} ORDER BY table_name`,
  );
  const columns = await all(
    database,
    sql<{ table: string; name: string; type: string; generated: boolean }>`SELECT table_name AS "table", column_name AS name,
        data_type AS type, (is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%') AS generated
      FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const keys = await all(
    database,
    sql<{ table: string; name: string }>`SELECT k.table_name AS "table", k.column_name AS name
      FROM information_schema.table_constraints c
      JOIN information_schema.key_column_usage k
        ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND c.constraint_type = 'PRIMARY KEY'
      ORDER BY k.table_name, k.ordinal_position`,
  );
  const references = await all(
    database,
    sql<{ child: string; parent: string }>`SELECT DISTINCT c.relname AS child, p.relname AS parent
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
      WHERE k.contype = 'f' AND k.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`,
  );
  return names.map(({ name }) => {
    const own = columns.filter((c) => c.table === name);
    const key = keys.filter((k) => k.table === name).map((k) => k.name);
    const keyType = own.find((c) => c.name === key[0])?.type ?? '';
    return {
      name,
      columns: own.map((c) => c.name),
      primaryKey: key,
      integerKey: key.length === 1 && ['smallint', 'integer', 'bigint'].includes(keyType),
      references: references.filter((r) => r.child === name).map((r) => r.parent),
      generated: own.filter((c) => c.generated).map((c) => c.name),
    };
  });
}

/** Orders tables so that every table comes after the tables it references (a cycle keeps catalog order). */
function parentsFirst(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const out: TableInfo[] = [];
  const seen = new Set<string>();
  const visit = (t: TableInfo): void => {
    if (seen.has(t.name)) return;
    seen.add(t.name);
    for (const parent of t.references) {
      const p = byName.get(parent);
      if (p !== undefined) visit(p);
    }
    out.push(t);
  };
  tables.forEach(visit);
  return out;
}

/** Which tables and columns to copy: every source table the target has, the columns both have. */
export async function planCopy(source: Database, target: Database): Promise<CopyPlan> {
  const sourceTables = await listTables(source);
  const targetTables = new Map((await listTables(target)).map((t) => [t.name, t]));
  const tables: TablePlan[] = [];
  const sourceOnly: CopyPlan['sourceOnly'] = [];
  // The target enforces its foreign keys, so its references decide the order.
  const ordered = parentsFirst(
    sourceTables.map((t) => ({ ...t, references: [...t.references, ...(targetTables.get(t.name)?.references ?? [])] })),
  );
  for (const s of ordered) {
    const t = targetTables.get(s.name);
    if (t === undefined) {
      sourceOnly.push({ table: s.name, rows: await countRows(source, s.name) });
      continue;
    }
    const columns = s.columns.filter((c) => t.columns.includes(c));
    tables.push({
      table: s.name,
      columns,
      key: s.primaryKey.filter((c) => columns.includes(c)).length === s.primaryKey.length ? s.primaryKey : [],
      integerKey: s.integerKey && columns.includes(s.primaryKey[0] ?? ''),
      targetGenerated: t.generated.filter((c) => columns.includes(c)),
    });
  }
  return { tables, sourceOnly };
}

async function countRows(database: Database, table: string, where: RawBuilder<unknown> = sql`TRUE`): Promise<number> {
  const [row] = await all(database, sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.id(table)} WHERE ${where}`);
  return Number(row?.n ?? 0);
}

/** Rows in the target's copied tables: a target with any is refused unless the caller means to merge or resume. */
export async function targetRowCount(target: Database, plan: CopyPlan): Promise<number> {
  let n = 0;
  for (const t of plan.tables) n += await countRows(target, t.table);
  return n;
}

/**
 * Reads a table in batches: by key after the last row seen (an index range
 * scan per batch however far in), or, for a table without a key, by offset
 * over all columns (only small bookkeeping tables have no key).
 */
async function* batches(database: Database, plan: TablePlan, batchSize: number, after: unknown[] | null): AsyncGenerator<Row[]> {
  let last = after;
  let offset = 0;
  const order = plan.key.length > 0 ? plan.key : plan.columns;
  for (;;) {
    const where = plan.key.length > 0 && last !== null ? sql`(${ids(plan.key)}) > (${sql.join(last)})` : sql`TRUE`;
    const page = plan.key.length > 0 ? sql`` : sql`OFFSET ${offset}`;
    const rows = await all(
      database,
      sql<Row>`SELECT ${ids(plan.columns)} FROM ${sql.id(plan.table)} WHERE ${where} ORDER BY ${ids(order)} LIMIT ${batchSize} ${page}`,
    );
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    const tail = rows[rows.length - 1] as Row;
    last = plan.key.map((k) => tail[k]);
    offset += rows.length;
  }
}

/** A value as the target engine's driver takes it. */
function toTarget(value: unknown, engine: Engine): unknown {
  if (typeof value === 'string') {
    // PostgreSQL text cannot hold NUL, which SQLite stores; the paper writer drops it too.
    return engine === 'postgres' && value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
  }
  if (typeof value === 'boolean') return engine === 'sqlite' ? Number(value) : value;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return value;
}

// Bound parameters per INSERT; a batch is split into several. SQLite allows
// 32,766. PostgreSQL allows 65,535, but statements that large copied papers at
// half the rate of ~300-row ones (planning grows with the VALUES list), and
// one JSON parameter per batch (json_populate_recordset) measured slower still.
const MAX_PARAMS: Record<Engine, number> = { sqlite: 32_000, postgres: 10_000 };

/** Inserts rows, skipping any whose key (or another unique value) the target already has. Returns rows inserted. */
async function insertRows(trx: AnyDb, engine: Engine, plan: TablePlan, rows: Row[]): Promise<number> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS[engine] / plan.columns.length));
  // Explicit ids into an identity column; harmless for BY DEFAULT, needed for ALWAYS.
  const overriding = engine === 'postgres' && plan.targetGenerated.length > 0 ? sql`OVERRIDING SYSTEM VALUE` : sql``;
  let inserted = 0;
  for (let i = 0; i < rows.length; i += perStatement) {
    const values = rows
      .slice(i, i + perStatement)
      .map((row) => sql`(${sql.join(plan.columns.map((c) => toTarget(row[c], engine)))})`);
    const result = await sql`INSERT INTO ${sql.id(plan.table)} (${ids(plan.columns)}) ${overriding}
      VALUES ${sql.join(values)} ON CONFLICT DO NOTHING`.execute(trx);
    inserted += Number(result.numAffectedRows ?? 0);
  }
  return inserted;
}

/**
 * Where a rerun can start for a table keyed by one integer: after the
 * target's highest key, when the target holds exactly the source's rows up to
 * it (what a killed copy leaves, since batches commit in key order). Otherwise
 * (a merge into a target with other rows) from the start, skipping existing keys.
 */
async function resumePoint(source: Database, target: Database, plan: TablePlan): Promise<number | null> {
  const key = plan.key[0];
  if (!plan.integerKey || key === undefined) return null;
  const [row] = await all(target, sql<{ m: number | null }>`SELECT max(${sql.id(key)}) AS m FROM ${sql.id(plan.table)}`);
  const highest = row?.m ?? null;
  if (highest === null) return null;
  const upTo = sql`${sql.id(key)} <= ${Number(highest)}`;
  const [inSource, inTarget] = await Promise.all([countRows(source, plan.table, upTo), countRows(target, plan.table)]);
  return inSource === inTarget ? Number(highest) : null;
}

/** Copies one table in batches, each committed on its own. */
export async function copyTable(source: Database, target: Database, plan: TablePlan, options: CopyOptions = {}): Promise<TableCopyResult> {
  const started = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const resumedAfter = await resumePoint(source, target, plan);
  let copied = 0;
  if (plan.key.length === 0 && (await countRows(target, plan.table)) > 0) {
    // Without a key a rerun could not tell copied rows from new ones; the checks report any difference.
    return { table: plan.table, copied, resumedAfter, durationMs: Date.now() - started };
  }
  const reader = batches(source, plan, batchSize, resumedAfter === null ? null : [resumedAfter]);
  // The next batch is read while this one is written: one engine works while
  // the other waits on its server or disk.
  let next = reader.next();
  for (;;) {
    const batch = await next;
    if (batch.done === true) break;
    next = reader.next();
    // Handled by the await above on the next turn; this keeps a read that fails during a write from going unhandled.
    next.catch(() => {});
    copied += await kysely(target)
      .transaction()
      .execute((trx) => insertRows(trx, target.engine, plan, batch.value));
    options.onProgress?.({ table: plan.table, copied, elapsedMs: Date.now() - started });
    if (options.batchDelayMs !== undefined && options.batchDelayMs > 0) await sleep(options.batchDelayMs);
  }
  return { table: plan.table, copied, resumedAfter, durationMs: Date.now() - started };
}

/**
 * What the target needs once its rows are in: PostgreSQL sequences moved past
 * the copied ids (or the next insert collides with row 1), SQLite's FTS5
 * keyword index rebuilt from the copied papers (its rows are not copied).
 */
export async function finishTarget(target: Database, plan: CopyPlan): Promise<void> {
  if (target.engine === 'sqlite') {
    if (plan.tables.some((t) => t.table === 'papers')) await rebuildKeywordIndex(target);
    return;
  }
  for (const t of plan.tables) {
    for (const column of t.targetGenerated) {
      const col = sql.id(column);
      await sql`SELECT setval(pg_get_serial_sequence(quote_ident(${t.table}), ${column}),
          coalesce(max(${col}), 1), max(${col}) IS NOT NULL) FROM ${sql.id(t.table)}`.execute(kysely(target));
    }
  }
}

/**
 * A row as text both engines agree on: values in column order, integers as
 * integers whichever driver returned them, booleans as 0/1 (SQLite has no
 * boolean), dates as ISO text (how Paperboy stores them), and NUL dropped
 * (PostgreSQL text cannot hold it, so a copy there cannot either).
 */
export function canonicalRow(row: Row, columns: string[]): string {
  return JSON.stringify(
    columns.map((c) => {
      const v = row[c];
      if (v === null || v === undefined) return null;
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (typeof v === 'boolean') return Number(v);
      if (typeof v === 'string') return v.replaceAll('\u0000', '');
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('base64') };
      if (typeof v === 'object') return JSON.stringify(v);
      return v;
    }),
  );
}

const MOD = 1n << 256n;

/**
 * Row count and checksum of a table: the sum, modulo 2^256, of the SHA-256 of
 * each row's canonical text. A sum does not depend on row order, which matters
 * because the engines order text keys differently (SQLite by bytes, PostgreSQL
 * by its collation), and forcing one order on PostgreSQL would sort the whole
 * table per batch instead of walking its key index.
 */
export async function tableChecksum(database: Database, plan: TablePlan, batchSize = DEFAULT_BATCH_SIZE): Promise<{ rows: number; checksum: string }> {
  let sum = 0n;
  let rows = 0;
  for await (const batch of batches(database, plan, batchSize, null)) {
    for (const row of batch) {
      sum += BigInt(`0x${createHash('sha256').update(canonicalRow(row, plan.columns)).digest('hex')}`);
      rows++;
    }
    sum %= MOD;
  }
  return { rows, checksum: sum.toString(16).padStart(64, '0') };
}

/** Counts and checksums one table on both sides. */
export async function checkTable(source: Database, target: Database, plan: TablePlan, batchSize = DEFAULT_BATCH_SIZE): Promise<TableCheck> {
  const [s, t] = await Promise.all([tableChecksum(source, plan, batchSize), tableChecksum(target, plan, batchSize)]);
  return {
    table: plan.table,
    sourceRows: s.rows,
    targetRows: t.rows,
    sourceChecksum: s.checksum,
    targetChecksum: t.checksum,
    ok: s.rows === t.rows && s.checksum === t.checksum,
  };
}
