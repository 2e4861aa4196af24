import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseItem, Parser } from '../../src/ingest/record.js';

/** Feeds `text` in chunks of `size` characters, as a file stream would. */
export async function* chunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/** Runs a parser over `text` (in chunks of `size`) and collects every item. */
export async function parseText(parser: Parser, text: string, size = 65536): Promise<ParseItem[]> {
  const out: ParseItem[] = [];
  for await (const item of parser(chunks(text, Math.max(1, size)))) out.push(item);
  return out;
}

/** The `.xml` files of a folder, sorted; none when it does not exist. */
export function xmlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => join(dir, f))
    .sort();
}
