/**
 * Opening input files and recognising their format.
 *
 * The format is sniffed from the content, never the file name: dumps get
 * renamed, gzipped, or arrive without an extension (arXiv's listing files have
 * none), and a wrong guess would report every record as malformed.
 */
import { isAscii } from 'node:buffer';
import { createReadStream, type Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FormatName, Parser } from './record.js';
import { ABS_ID_LINE, parseAbs } from './parsers/abs.js';
import { parseAtom } from './parsers/atom.js';
import { parseBeirCorpus } from './parsers/beir.js';
import { parseDbCategories, parseDbMetadata, parseDbNextMail, parseDbUpdates } from './parsers/db-export.js';
import { parseKaggle } from './parsers/kaggle.js';
import { parseOaiPmh } from './parsers/oai.js';

/** How much decompressed content {@link detectFormat} looks at. */
export const SNIFF_BYTES = 64 * 1024;

/** The parser of every format. */
export const PARSERS: Readonly<Record<FormatName, Parser>> = {
  atom: parseAtom,
  'oai-pmh': parseOaiPmh,
  abs: parseAbs,
  'kaggle-jsonl': parseKaggle,
  'db-export-metadata': parseDbMetadata,
  'db-export-next-mail': parseDbNextMail,
  'db-export-categories': parseDbCategories,
  'db-export-updates': parseDbUpdates,
  'beir-corpus': parseBeirCorpus,
};

/** What {@link detectFormat} decided. */
export type Detection = { format: FormatName; parser: Parser } | { format: null; reason: string };

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Largest read: big reads make big files fast. */
const MAX_READ_BYTES = 1024 * 1024;

async function* fileBytes(
  path: string,
  readBytes: number,
  onBytes?: (bytesRead: number) => void,
): AsyncGenerator<Buffer> {
  const stream = createReadStream(path, { highWaterMark: readBytes });
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    onBytes?.(n);
    yield chunk;
  }
}

async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  // pipeline() destroys gz with any read or inflate error, which the loop
  // below then throws; breaking out of the loop tears the file stream down.
  pipeline(Readable.from(source), gz, () => {});
  for await (const chunk of gz as AsyncIterable<Buffer>) yield chunk;
}

/** Decompressed bytes of a file: gunzipped when it starts with the gzip magic, whatever its name. */
async function openBytes(
  path: string,
  onBytes?: (bytesRead: number) => void,
  maxRead = MAX_READ_BYTES,
): Promise<AsyncIterable<Buffer>> {
  const gz = await startsWithGzipMagic(path);
  // Each read allocates its whole buffer: a 1 MB buffer for every small .abs
  // file of a directory made importing 1,200 of them GC-bound.
  const { size } = await stat(path);
  const raw = fileBytes(path, Math.min(maxRead, Math.max(16 * 1024, size + 1)), onBytes);
  return gz ? gunzip(raw) : raw;
}

async function* decodeUtf8(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
  // Invalid bytes become U+FFFD rather than failing the file: a stray byte is one bad record at most.
  // ignoreBOM keeps a U+FEFF that happens to start a later chunk; the line splitter drops a leading one.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let carry: Buffer | null = null;
  for await (const read of bytes) {
    let chunk: Buffer = carry === null ? read : Buffer.concat([carry, read]);
    carry = null;
    // A character split between reads waits for the rest of its bytes.
    const end = completeUtf8Length(chunk);
    if (end < chunk.length) {
      carry = Buffer.from(chunk.subarray(end));
      chunk = chunk.subarray(0, end);
    }
    if (chunk.length === 0) continue;
    // Most metadata is pure ASCII, which latin1 decodes several times faster
    // (and into a compact one-byte string); TextDecoder beats StringDecoder otherwise.
    yield isAscii(chunk) ? chunk.toString('latin1') : decoder.decode(chunk);
  }
  if (carry !== null) yield decoder.decode(carry);
}

/** Length of the prefix of `b` that ends on a UTF-8 character boundary. */
function completeUtf8Length(b: Uint8Array): number {
  const end = b.length;
  // Back up over continuation bytes (at most 3) to the lead byte of the last character.
  let i = end - 1;
  while (i >= 0 && i > end - 4 && ((b[i] ?? 0) & 0xc0) === 0x80) i--;
  if (i < 0) return end;
  const lead = b[i] ?? 0;
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + len > end ? i : end;
}

/**
 * Streams a file as UTF-8 text chunks, gunzipping transparently.
 * `onBytes` receives the count of (compressed) bytes read so far, for progress.
 * Throws at once when the file cannot be opened.
 */
export async function openTextFile(
  path: string,
  onBytes?: (bytesRead: number) => void,
): Promise<AsyncIterable<string>> {
  return decodeUtf8(await openBytes(path, onBytes));
}

/** The first `limit` decompressed bytes, and whether the content goes on past them. */
async function readHead(path: string, limit: number): Promise<{ head: Buffer; more: boolean } | { error: string }> {
  const parts: Buffer[] = [];
  let size = 0;
  let more = false;
  try {
    for await (const chunk of await openBytes(path, undefined, limit)) {
      parts.push(chunk);
      size += chunk.length;
      if (size > limit) {
        more = true;
        break;
      }
    }
  } catch (err) {
    // A truncated gzip still has a readable start; with nothing read it is unusable.
    if (size === 0) return { error: `unreadable data (${(err as Error).message})` };
  }
  const all = Buffer.concat(parts);
  return { head: all.subarray(0, limit), more };
}

/** Recognises the format of a file from its first {@link SNIFF_BYTES} (after decompression). */
export async function detectFormat(path: string): Promise<Detection> {
  const read = await readHead(path, SNIFF_BYTES);
  if ('error' in read) return { format: null, reason: read.error };
  const format = sniffFormat(read.head, read.more);
  return typeof format === 'string' ? { format, parser: PARSERS[format] } : { format: null, reason: format.reason };
}

/** True when the bytes look like binary rather than text (NULs, control characters, invalid UTF-8). */
function isBinary(head: Uint8Array, text: string): boolean {
  let control = 0;
  for (const b of head) {
    if (b === 0) return true;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) control++;
  }
  let invalid = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) invalid++;
  // Real metadata has the odd stray control character or mis-encoded byte; binary has many.
  return control > head.length / 100 || invalid > Math.max(8, text.length / 100);
}

/**
 * Decides the format from the start of the content. `more` says the content
 * goes on, so a cut-off last line is not judged.
 */
export function sniffFormat(head: Uint8Array, more: boolean): FormatName | { reason: string } {
  if (head.length === 0) return { reason: 'empty file' };
  // A multi-byte character cut by the 64 KB window is not an encoding error.
  const text = new TextDecoder('utf-8').decode(more ? head.subarray(0, completeUtf8Length(head)) : head).replace(/^\uFEFF/, '');
  if (isBinary(head, text)) return { reason: 'binary data' };
  const start = text.trimStart();
  if (start === '') return { reason: 'empty file' };
  if (start.startsWith('<')) return sniffXml(start);
  if (start.startsWith('{') || start.startsWith('[')) return sniffJsonLines(text, more);
  if (looksLikeAbs(text)) return 'abs';
  return { reason: 'not a recognised arXiv metadata format' };
}

const ATOM_NS = 'http://www.w3.org/2005/Atom';

function sniffXml(text: string): FormatName | { reason: string } {
  let i = 0;
  // Skip the prolog: XML declaration, processing instructions, comments, doctype.
  for (;;) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end === -1) break;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i);
      if (end === -1) break;
      i = end + 3;
    } else if (/^<!doctype\s+html/i.test(text.slice(i, i + 20))) {
      return { reason: 'an HTML page, not arXiv metadata' };
    } else if (text.startsWith('<!', i)) {
      const subset = text.indexOf('[', i);
      const close = text.indexOf('>', i);
      const end = subset !== -1 && subset < close ? text.indexOf(']>', subset) + 1 : close;
      if (end <= 0) break;
      i = end + 1;
    } else break;
  }
  const m = /^<([A-Za-z_][\w.:-]*)([^>]*)/.exec(text.slice(i, i + 4096));
  if (m === null) return { reason: 'not a recognised arXiv metadata format' };
  const name = m[1] ?? '';
  const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
  if (local.toLowerCase() === 'html') return { reason: 'an HTML page, not arXiv metadata' };
  if (local === 'feed' && (m[2] ?? '').includes(ATOM_NS)) return 'atom';
  if (local === 'OAI-PMH') return 'oai-pmh';
  return { reason: `XML with root <${name}>: not a recognised arXiv metadata format` };
}

/** JSON-lines layouts told apart by their keys. */
function formatOfKeys(keys: ReadonlySet<string>): FormatName | { reason: string } {
  const has = (k: string): boolean => keys.has(k);
  if (has('next_mail_id')) return 'db-export-next-mail';
  if (has('metadata_id') || (has('paper_id') && (has('abs_categories') || has('created')))) return 'db-export-metadata';
  if (has('document_id') && has('is_primary')) return 'db-export-categories';
  if (has('document_id') && has('action')) return 'db-export-updates';
  if (has('id') && (has('versions') || has('authors_parsed'))) return 'kaggle-jsonl';
  if (has('_id') && has('title')) return 'beir-corpus';
  if (has('_id') && has('text')) return { reason: 'a BEIR queries file, not a corpus' };
  const shown = [...keys].slice(0, 8).join(', ');
  return { reason: `JSON lines with keys ${shown}: not a recognised arXiv metadata format` };
}

function sniffJsonLines(text: string, more: boolean): FormatName | { reason: string } {
  const all = text.split('\n');
  // The last line of a cut-off head is incomplete.
  const complete = more ? all.slice(0, -1) : all;
  let tried = 0;
  for (const raw of complete) {
    const line = raw.trim();
    if (line === '') continue;
    if (line === '{' || line === '[') return { reason: 'a JSON document, not JSON lines' };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A bad first line does not make a bad file: look at a few more.
      if (++tried >= 5) break;
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { reason: 'JSON lines that are not objects: not a recognised arXiv metadata format' };
    }
    return formatOfKeys(new Set(Object.keys(value)));
  }
  // No complete line in the window (a huge first record): go by the keys it names.
  const keys = new Set([...text.slice(0, SNIFF_BYTES).matchAll(/"([A-Za-z_][\w-]*)"\s*:/g)].map((m) => m[1] ?? ''));
  const byKeys = keys.size > 0 ? formatOfKeys(keys) : null;
  if (typeof byKeys === 'string') return byKeys;
  return { reason: 'not a recognised arXiv metadata format (no valid JSON line)' };
}

/** `.abs` and listing text: a `\\` line directly followed by an `arXiv:`/`Paper:` id line. */
function looksLikeAbs(text: string): boolean {
  const all = text.split('\n');
  for (let i = 0; i + 1 < all.length; i++) {
    if ((all[i] ?? '').trimEnd() === '\\\\' && ABS_ID_LINE.test((all[i + 1] ?? '').trimEnd())) return true;
  }
  return false;
}

/**
 * Files that accompany data sets but are never metadata: licences, READMEs,
 * provenance tables, XML schemas, and prose (`.md`, `.txt`). Skipping them when
 * a directory is expanded keeps a directory import free of spurious "unreadable
 * file" problems. A file named explicitly is always kept: its user asked for it.
 */
const SKIPPED_NAME = /^(?:LICEN[CS]E|COPYING|README|PROVENANCE)(?:[.-].*)?$/i;
const SKIPPED_EXT = /\.(?:xsd|md|txt)$/i;

function skippedInDirectory(name: string): boolean {
  return name.startsWith('.') || SKIPPED_NAME.test(name) || SKIPPED_EXT.test(name);
}

/** Expands files and directories (recursively, sorted) into the list of files to import. */
export async function listInputFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  const visitedDirs = new Set<string>();
  const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const walk = async (dir: string, found: string[]): Promise<void> => {
    // Symlinked directories can form cycles: visit each real directory once.
    const real = await realpath(dir);
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new Error(`cannot read directory ${dir}: ${(err as Error).message}`);
    }
    for (const name of entries.filter((e) => !skippedInDirectory(e.name)).map((e) => e.name)) {
      const p = join(dir, name);
      let s;
      try {
        s = await stat(p);
      } catch {
        continue; // A dangling symlink inside a directory is not an input.
      }
      if (s.isDirectory()) await walk(p, found);
      else if (s.isFile()) found.push(p);
    }
  };
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `no such file or directory: ${p}` : `cannot read ${p}: ${(err as Error).message}`);
    }
    if (s.isDirectory()) {
      const found: string[] = [];
      await walk(p, found);
      // Full paths in code-point order: the same order on every machine and locale.
      found.sort(byCodePoint).forEach(add);
    } else if (s.isFile()) add(p);
    else throw new Error(`not a regular file or directory: ${p}`);
  }
  return out;
}
