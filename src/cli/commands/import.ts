import { relative } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { embedJobSpec } from '../../semantic/jobs.js';
import { applyCategoryRule } from '../../feeds/featuring.js';
import { enqueue, jobSpec } from '../../jobs/queue.js';
import { digestJob } from '../../papers/digest.js';
import { importPaths, type ImportProgress, type ImportSummary } from '../../ingest/import.js';
import { UsageError } from '../usage.js';
import { existsSync } from 'node:fs';

const PROBLEMS_SHOWN = 50;

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * Progress on stderr: a redrawn line on a terminal, one plain line per second
 * when PAPERBOY_PROGRESS=plain (for logs and the benchmark), nothing otherwise.
 */
function progressReporter(): ((p: ImportProgress) => void) & { done(): void } {
  const mode = process.env.PAPERBOY_PROGRESS === 'plain' ? 'plain' : process.stderr.isTTY ? 'tty' : 'off';
  const started = Date.now();
  let last = 0;
  const report = (p: ImportProgress): void => {
    if (mode === 'off') return;
    const now = Date.now();
    if (now - last < (mode === 'plain' ? 1000 : 200)) return;
    last = now;
    const elapsed = (now - started) / 1000;
    const rate = elapsed > 0 ? p.records / elapsed : 0;
    if (mode === 'plain') {
      process.stderr.write(`progress ${p.records} records ${Math.round(rate)}/s\n`);
      return;
    }
    const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 0;
    const eta = fraction > 0.001 ? formatDuration(((1 - fraction) / fraction) * elapsed * 1000) : '?';
    process.stderr.write(
      `\r\x1b[K${n(p.records)} records · ${n(Math.round(rate))}/s · ${(fraction * 100).toFixed(1)}% · ETA ${eta} · file ${p.fileIndex + 1}/${p.fileCount}`,
    );
  };
  return Object.assign(report, {
    done() {
      if (mode === 'tty') process.stderr.write('\r\x1b[K');
    },
  });
}

function printSummary(s: ImportSummary): void {
  const rate = s.durationMs > 0 ? Math.round(((s.imported + s.updated + s.unchanged + s.skipped) * 1000) / s.durationMs) : 0;
  const lines = [
    `Import finished in ${formatDuration(s.durationMs)}: ${n(s.files.length)} files, ${n(rate)} records/s`,
    `  imported   ${n(s.imported)}`,
    `  updated    ${n(s.updated)}`,
    `  unchanged  ${n(s.unchanged)}`,
    `  skipped    ${n(s.skipped)}`,
  ];
  for (const r of s.skippedReasons) lines.push(`    ${n(r.count)} × ${r.reason}`);
  const resumed = s.files.filter((f) => f.resumedAfter > 0);
  for (const f of resumed) lines.push(`  resumed ${relative('.', f.file)} after ${n(f.resumedAfter)} committed records`);
  if (s.problemCount > 0) {
    lines.push(`Problems (${n(s.problemCount)}; each was skipped, the rest was imported):`);
    for (const p of s.problems.slice(0, PROBLEMS_SHOWN)) {
      const where = p.at.line !== undefined ? `:${p.at.line}` : p.at.record !== undefined ? ` record ${p.at.record}` : '';
      lines.push(`  ${relative('.', p.file)}${where}: ${p.reason}`);
    }
    if (s.problemCount > PROBLEMS_SHOWN) lines.push(`  … and ${n(s.problemCount - PROBLEMS_SHOWN)} more`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function importCommand(): Command {
  return new Command('import')
    .description(
      'Import paper metadata from files or directories. The format is detected per file: arXiv API Atom, ' +
        'OAI-PMH (arXiv, arXivRaw), .abs files, listings and daily mailings, Kaggle arxiv-metadata-oai-snapshot ' +
        'JSON lines, arXiv db-export rows, BEIR corpus.jsonl; gzip is decompressed transparently.',
    )
    .argument('<paths...>', 'files or directories (searched recursively)')
    .option('--json', 'print the summary as JSON')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const missing = paths.filter((p) => !existsSync(p));
      if (missing.length > 0) throw new UsageError(`no such file or directory: ${missing.join(', ')}`);
      const ctx = await createContext(loadConfig());
      const progress = progressReporter();
      try {
        const summary = await importPaths(ctx.database, paths, { onProgress: progress });
        progress.done();
        await applyCategoryRule(ctx.database, ctx.config.arxivCategories);
        // A running server's worker writes the new papers' digests; otherwise the next `serve` does.
        if (summary.imported > 0) {
          await enqueue(ctx.database.db, jobSpec(digestJob, { sweep: false }, { uniqueKey: `papers.digest:import:${Date.now()}` }));
          await enqueue(ctx.database.db, embedJobSpec('import'));
        }
        if (opts.json === true) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
        else printSummary(summary);
      } finally {
        await ctx.database.close();
      }
    });
}
