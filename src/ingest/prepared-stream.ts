import { Worker } from 'node:worker_threads';
import { openTextFile, PARSERS } from './detect.js';
import type { ParseJob, ParseMessage } from './parse-worker.js';
import { prepareItem, type PreparedItem } from './prepare.js';

/** Files at least this big are parsed on a worker thread; below it, starting one costs more than it saves. */
export const WORKER_THRESHOLD_BYTES = 4 * 1024 * 1024;

export interface PreparedChunk {
  items: PreparedItem[];
  /** Bytes of the file read so far (compressed bytes for gzip), for progress. */
  bytesRead: number;
}

/** How reading a file ended: how many items it held, and the read error if it stopped early. */
export interface StreamEnd {
  itemCount: number;
  error: string | null;
}

/**
 * Reads, parses and prepares a file in chunks, on a worker thread for big
 * files so the writer thread only writes. `skip` items are read past unprepared.
 */
export function preparedChunks(job: ParseJob, size: number): AsyncGenerator<PreparedChunk, StreamEnd> {
  return size >= WORKER_THRESHOLD_BYTES ? onWorker(job) : inline(job);
}

async function* inline(job: ParseJob): AsyncGenerator<PreparedChunk, StreamEnd> {
  let itemCount = 0;
  let bytesRead = 0;
  let items: PreparedItem[] = [];
  try {
    const input = await openTextFile(job.file, (n) => (bytesRead = n));
    for await (const item of PARSERS[job.format](input)) {
      itemCount++;
      if (itemCount <= job.skip) continue;
      items.push(prepareItem(item));
      if (items.length >= 500) {
        yield { items, bytesRead };
        items = [];
      }
    }
  } catch (err) {
    if (items.length > 0) yield { items, bytesRead };
    return { itemCount, error: (err as Error).message };
  }
  if (items.length > 0) yield { items, bytesRead };
  return { itemCount, error: null };
}

async function* onWorker(job: ParseJob): AsyncGenerator<PreparedChunk, StreamEnd> {
  const worker = new Worker(new URL('./parse-worker.js', import.meta.url), { workerData: job });
  const queue: (ParseMessage | { type: 'crashed'; message: string })[] = [];
  let wake: (() => void) | null = null;
  const push = (m: (typeof queue)[number]): void => {
    queue.push(m);
    wake?.();
    wake = null;
  };
  worker.on('message', (m: ParseMessage) => push(m));
  worker.on('error', (err) => push({ type: 'crashed', message: err.message }));
  worker.on('exit', (code) => push({ type: 'crashed', message: `parser thread exited with code ${code}` }));
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const m = queue.shift()!;
      switch (m.type) {
        case 'items':
          yield { items: m.items, bytesRead: m.bytesRead };
          worker.postMessage('ack');
          break;
        case 'done':
          return { itemCount: m.itemCount, error: null };
        case 'failed':
          return { itemCount: m.itemCount, error: m.message };
        case 'crashed':
          return { itemCount: -1, error: m.message };
      }
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}
