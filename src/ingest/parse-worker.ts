import { parentPort, workerData } from 'node:worker_threads';
import { openTextFile, PARSERS } from './detect.js';
import { prepareItem, type PreparedItem } from './prepare.js';
import type { FormatName } from './record.js';

/** What the import sends this thread: one file to read, from which item on. */
export interface ParseJob {
  file: string;
  format: FormatName;
  /** Items already committed by an earlier, killed import: read past them. */
  skip: number;
}

/** Messages from this thread, in order. */
export type ParseMessage =
  | { type: 'items'; items: PreparedItem[]; bytesRead: number }
  | { type: 'done'; itemCount: number; bytesRead: number }
  | { type: 'failed'; message: string; itemCount: number; bytesRead: number };

/** Items per message: big enough to amortise messaging, small enough to stream. */
const CHUNK = 500;
/**
 * Chunks in flight before this thread waits for the writer (bounds memory). Two
 * import batches, so parsing goes on while the writer commits a batch.
 */
const MAX_IN_FLIGHT = 40;

const port = parentPort;
if (port === null) throw new Error('parse-worker must run as a worker thread');
const job = workerData as ParseJob;

let credits = MAX_IN_FLIGHT;
let wake: (() => void) | null = null;
port.on('message', (msg: 'ack') => {
  if (msg !== 'ack') return;
  credits++;
  wake?.();
  wake = null;
});

async function send(message: ParseMessage): Promise<void> {
  while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
  port!.postMessage(message);
}

let itemCount = 0;
let bytesRead = 0;
let chunk: PreparedItem[] = [];
try {
  const input = await openTextFile(job.file, (n) => (bytesRead = n));
  for await (const item of PARSERS[job.format](input)) {
    itemCount++;
    if (itemCount <= job.skip) continue;
    chunk.push(prepareItem(item));
    if (chunk.length >= CHUNK) {
      await send({ type: 'items', items: chunk, bytesRead });
      chunk = [];
    }
  }
  if (chunk.length > 0) await send({ type: 'items', items: chunk, bytesRead });
  port.postMessage({ type: 'done', itemCount, bytesRead } satisfies ParseMessage);
} catch (err) {
  // What was parsed before a read error is still imported.
  if (chunk.length > 0) await send({ type: 'items', items: chunk, bytesRead });
  port.postMessage({ type: 'failed', message: (err as Error).message, itemCount, bytesRead } satisfies ParseMessage);
}
port.close();
