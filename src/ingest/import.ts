import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Database } from '../db/connection.js';
import { syncPaperAuthors } from '../db/paper-author-index.js';
import { withPaperBatch } from '../db/paper-writer.js';
import { detectFormat, listInputFiles } from './detect.js';
import type { PreparedItem } from './prepare.js';
import { preparedChunks } from './prepared-stream.js';
import type { FormatName, SourcePosition } from './record.js';

/** Items per transaction: large enough to amortise the commit, small enough to keep the lock short. */
const BATCH_SIZE = 10_000;

/** A file of garbage can hold millions of bad lines: list the first ones, count the rest. */
export const MAX_PROBLEMS_KEPT = 1000;

/** Formats that only annotate papers go last, after the files that create them. */
const ANNOTATION_FORMATS = new Set<FormatName>(['db-export-next-mail', 'db-export-categories', 'db-export-updates']);

export interface ImportProblem {
  file: string;
  at: SourcePosition;
  reason: string;
}

export interface FileSummary {
  file: string;
  format: FormatName | null;
  imported: number;
  updated: number;
  unchanged: number;
  skipped: number;
  /** Items skipped because an earlier, killed import had already committed them. */
  resumedAfter: number;
}

export interface ImportSummary {
  files: FileSummary[];
  imported: number;
  updated: number;
  unchanged: number;
  /** Well-formed items that are not papers, or papers that could not be used. */
  skipped: number;
  /** Skip reasons with their counts (numbers in reasons folded to `#`). */
  skippedReasons: { reason: string; count: number }[];
  /** Malformed input and unreadable files, each with file and position. */
  problems: ImportProblem[];
  /** All problems, including those beyond the first MAX_PROBLEMS_KEPT listed. */
  problemCount: number;
  durationMs: number;
}

export interface ImportProgress {
  records: number;
  bytesDone: number;
  bytesTotal: number;
  file: string;
  fileIndex: number;
  fileCount: number;
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  batchSize?: number;
}

interface FileKey {
  key: string;
  path: string;
}

async function fileKey(path: string): Promise<FileKey> {
  const s = await stat(path);
  return { key: `${path}:${s.size}:${Math.floor(s.mtimeMs)}`, path };
}

/**
 * Imports files and directories: detects each file's format, streams its
 * records through the parser and writes them in batches. Each batch commits
 * together with the file's position, so a killed import resumes after the last
 * committed batch with no gap and no duplicate. Bad records and unreadable
 * files are reported and skipped; they never stop the import.
 */
export async function importPaths(
  database: Database,
  paths: string[],
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const files = await listInputFiles(paths.map((p) => resolve(p)));
  const problems: ImportProblem[] = [];
  const reasons = new Map<string, number>();
  const summaries: FileSummary[] = [];
  let problemCount = 0;
  const report = (p: ImportProblem): void => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS_KEPT) problems.push(p);
  };

  const detected = [];
  let bytesTotal = 0;
  for (const file of files) {
    const format = await detectFormat(file);
    const size = (await stat(file)).size;
    bytesTotal += size;
    detected.push({ file, size, format });
  }
  detected.sort((a, b) => {
    const ax = a.format.format !== null && ANNOTATION_FORMATS.has(a.format.format) ? 1 : 0;
    const bx = b.format.format !== null && ANNOTATION_FORMATS.has(b.format.format) ? 1 : 0;
    return ax - bx;
  });


  let records = 0;
  let bytesBefore = 0;
  for (const [index, { file, size, format }] of detected.entries()) {
    const summary: FileSummary = {
      file,
      format: format.format,
      imported: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      resumedAfter: 0,
    };
    summaries.push(summary);
    if (format.format === null) {
      report({ file, at: {}, reason: `unreadable file: ${format.reason}` });
      bytesBefore += size;
      continue;
    }
    const key = await fileKey(file);
    const saved = await database.db
      .selectFrom('import_progress')
      .select(['items_done', 'finished'])
      .where('file_key', '=', key.key)
      .executeTakeFirst();
    const resumeFrom = saved !== undefined && saved.finished === 0 ? saved.items_done : 0;
    summary.resumedAfter = resumeFrom;

    let batch: PreparedItem[] = [];
    let done = resumeFrom;
    let fileBytes = 0;
    const flush = async (finished: boolean): Promise<void> => {
      const items = batch;
      batch = [];
      done += items.length;
      const position = done;
      await withPaperBatch(database, async (writer, trx) => {
        const outcomes = await writer.apply(items);
        items.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) return;
          if (outcome.status === 'skipped') {
            summary.skipped++;
            if (item.kind === 'skip' || item.kind === 'announcement') {
              const folded = outcome.reason.replace(/\d+/g, '#');
              reasons.set(folded, (reasons.get(folded) ?? 0) + 1);
            } else {
              report({ file, at: item.at, reason: outcome.reason });
            }
          } else {
            summary[outcome.status]++;
          }
        });
        const progress = { path: key.path, items_done: position, finished: finished ? 1 : 0, updated_at: new Date().toISOString() };
        // The position commits with the papers: a killed import resumes right after the last committed batch.
        await trx
          .insertInto('import_progress')
          .values({ file_key: key.key, ...progress })
          .onConflict((oc) => oc.column('file_key').doUpdateSet(progress))
          .execute();
      }, { bulk: true });
      records += items.length;
      options.onProgress?.({
        records,
        bytesDone: bytesBefore + fileBytes,
        bytesTotal,
        file,
        fileIndex: index,
        fileCount: detected.length,
      });
    };

    const chunks = preparedChunks({ file, format: format.format, skip: resumeFrom }, size);
    let next = await chunks.next();
    while (next.done !== true) {
      batch.push(...next.value.items);
      fileBytes = next.value.bytesRead;
      if (batch.length >= batchSize) await flush(false);
      next = await chunks.next();
    }
    // A read error (truncated gzip, I/O failure) ends this file only; what was
    // parsed before it is still written.
    if (next.value.error !== null) {
      report({ file, at: { record: done + batch.length + 1 }, reason: `read error: ${next.value.error}` });
    }
    await flush(true);
    bytesBefore += size;
  }
  // Batches let the author index trail by up to BULK_LAG papers; the import ends in step.
  await syncPaperAuthors(database);

  const sum = (k: 'imported' | 'updated' | 'unchanged' | 'skipped') =>
    summaries.reduce((n, s) => n + s[k], 0);
  return {
    files: summaries,
    imported: sum('imported'),
    updated: sum('updated'),
    unchanged: sum('unchanged'),
    skipped: sum('skipped'),
    skippedReasons: [...reasons.entries()]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count),
    problems,
    problemCount,
    durationMs: Date.now() - started,
  };
}
