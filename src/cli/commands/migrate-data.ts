import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { openDatabase, type Database, type DatabaseLocation } from '../../db/connection.js';
import {
  DEFAULT_BATCH_SIZE,
  checkTable,
  copyTable,
  finishTarget,
  planCopy,
  targetRowCount,
  type CopyPlan,
  type CopyProgress,
  type TableCheck,
  type TableCopyResult,
} from '../../db/copy.js';
import { migrate } from '../../db/migrate.js';
import { UsageError } from '../usage.js';

/**
 * A copy whose counts or checksums differ. The report above already says
 * which tables; main() prints an unexpected error's stack, which would add
 * nothing here, so the stack is the message.
 */
class CopyMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyMismatch';
    this.stack = message;
  }
}

const n = (x: number): string => x.toLocaleString('en-US');

function parseTarget(to: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//.test(to)) return { engine: 'postgres', url: to };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw new UsageError(`--to takes a postgres:// URL or a SQLite file path, not ${to}`);
  const file = resolve(to);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`--to ${file} is a directory; name the SQLite file to write`);
  return { engine: 'sqlite', file };
}

function sameLocation(a: DatabaseLocation, b: DatabaseLocation): boolean {
  if (a.engine === 'sqlite' && b.engine === 'sqlite') return resolve(a.file) === resolve(b.file);
  return a.engine === 'postgres' && b.engine === 'postgres' && a.url === b.url;
}

function positiveInt(value: string): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError('must be a positive integer');
  return v;
}

/** Rows per second on stderr while a table copies, on a terminal only. */
function progressLine(): { report(p: CopyProgress): void; status(text: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    report(p) {
      const now = Date.now();
      if (!tty || now - last < 200) return;
      last = now;
      const rate = (p.copied * 1000) / Math.max(1, p.elapsedMs);
      process.stderr.write(`\r\x1b[K${p.table}: ${n(p.copied)} rows · ${n(Math.round(rate))}/s`);
    },
    status(text) {
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

interface Report {
  source: string;
  target: string;
  ok: boolean;
  rowsCopied: number;
  copySeconds: number;
  rowsPerSecond: number;
  tables: (TableCopyResult & TableCheck)[];
  notCopied: CopyPlan['sourceOnly'];
}

function printReport(r: Report): void {
  const width = Math.max(5, ...r.tables.map((t) => t.table.length));
  const col = (s: string, w = 10): string => s.padStart(w);
  const lines = [`${'table'.padEnd(width)} ${col('copied')} ${col('source')} ${col('target')}  checksum`];
  for (const t of r.tables) {
    const check = t.ok ? `ok ${t.sourceChecksum.slice(0, 16)}` : `DIFFERS source ${t.sourceChecksum.slice(0, 16)} target ${t.targetChecksum.slice(0, 16)}`;
    const resumed = t.resumedAfter !== null ? ` (resumed after key ${t.resumedAfter})` : '';
    lines.push(`${t.table.padEnd(width)} ${col(n(t.copied))} ${col(n(t.sourceRows))} ${col(n(t.targetRows))}  ${check}${resumed}`);
  }
  for (const s of r.notCopied) lines.push(`not copied: ${s.table} (${n(s.rows)} rows): the target has no such table (engine-specific bookkeeping)`);
  lines.push(
    `${r.ok ? 'copied' : 'FAILED: copied'} ${n(r.rowsCopied)} rows in ${r.copySeconds.toFixed(1)} s (${n(r.rowsPerSecond)} rows/s) from ${r.source} to ${r.target}` +
      (r.ok ? '; every table matches' : '; counts or checksums differ (above)'),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

async function run(source: Database, target: Database, opts: { force: boolean; json: boolean; batchSize: number }): Promise<Report> {
  try {
    await migrate(target);
  } catch (err) {
    throw new UsageError(`cannot prepare the target ${target.description}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const plan = await planCopy(source, target);
  const existing = await targetRowCount(target, plan);
  if (existing > 0 && !opts.force) {
    throw new UsageError(
      `the target ${target.description} has ${n(existing)} rows; if a previous migrate-data was interrupted, rerun with --force to resume ` +
        '(--force also merges into a target holding other data, skipping rows whose keys it already has)',
    );
  }
  // Test-only hook (PAPERBOY_COPY_BATCH_DELAY_MS): a pause after each batch, so a test can kill the copy midway.
  const batchDelayMs = Number(process.env.PAPERBOY_COPY_BATCH_DELAY_MS ?? 0) || 0;
  const progress = progressLine();
  const copies: TableCopyResult[] = [];
  const started = Date.now();
  const tables: Report['tables'] = [];
  let copySeconds = 0;
  try {
    for (const table of plan.tables) {
      copies.push(await copyTable(source, target, table, { batchSize: opts.batchSize, batchDelayMs, onProgress: (p) => progress.report(p) }));
    }
    copySeconds = (Date.now() - started) / 1000;
    progress.status(target.engine === 'sqlite' ? 'rebuilding the keyword index…' : 'resetting id sequences…');
    await finishTarget(target, plan);
    for (const [i, table] of plan.tables.entries()) {
      progress.status(`checking ${table.table}: counts and checksums on both sides…`);
      tables.push({ ...(copies[i] as TableCopyResult), ...(await checkTable(source, target, table, opts.batchSize)) });
    }
  } finally {
    progress.done();
  }
  const rowsCopied = copies.reduce((s, c) => s + c.copied, 0);
  return {
    source: source.description,
    target: target.description,
    ok: tables.every((t) => t.ok),
    rowsCopied,
    copySeconds,
    rowsPerSecond: Math.round(rowsCopied / Math.max(copySeconds, 0.001)),
    tables,
    notCopied: plan.sourceOnly,
  };
}

export function migrateDataCommand(): Command {
  return new Command('migrate-data')
    .description(
      "Copy this instance's database (DATABASE_URL, or the SQLite file in PAPERBOY_DATA_DIR) to a PostgreSQL server or a SQLite file, " +
        'then compare row counts and checksums. Stop the instance first: rows written during the copy may be missed.',
    )
    .requiredOption('--to <url-or-file>', 'the target: a postgres:// URL or a SQLite file path')
    .option('--force', 'copy into a target that already has rows: resumes an interrupted copy, skips rows whose keys the target has', false)
    .option('--json', 'print the report as JSON', false)
    .option('--batch-size <rows>', 'rows per transaction', positiveInt, DEFAULT_BATCH_SIZE)
    .action(async (opts: { to: string; force: boolean; json: boolean; batchSize: number }) => {
      const config = loadConfig();
      const location = parseTarget(opts.to);
      if (sameLocation(config.database, location)) throw new UsageError('--to names the database this instance already uses');
      const ctx = await createContext(config);
      const target = openDatabase(location, { dataDir: location.engine === 'sqlite' ? dirname(location.file) : undefined });
      let report: Report;
      try {
        report = await run(ctx.database, target, opts);
      } finally {
        await target.close();
        await ctx.database.close();
      }
      if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else printReport(report);
      if (!report.ok) throw new CopyMismatch(`migrate-data: ${report.tables.filter((t) => !t.ok).map((t) => t.table).join(', ')} differ between source and target`);
    });
}
