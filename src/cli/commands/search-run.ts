import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { importPaths } from '../../ingest/import.js';
import { createLogger } from '../../log.js';
import { searchKeyword } from '../../search/keyword.js';
import { parseQuery } from '../../search/query.js';
import { UsageError } from '../usage.js';
import { parseOptions, SEARCH_MODES, SEMANTIC_UNAVAILABLE } from './search.js';

const weightsSchema = z
  .string()
  .regex(/^\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?$/, 'expected three numbers: title,authors,abstract')
  .transform((s) => {
    const [title = 1, authors = 1, abstract = 1] = s.split(',').map(Number);
    return { title, authors, abstract };
  });

const optionsSchema = z.object({
  corpus: z.string({ error: 'is required' }).min(1),
  queries: z.string({ error: 'is required' }).min(1),
  out: z.string({ error: 'is required' }).min(1),
  mode: z.enum(SEARCH_MODES).default('keyword'),
  k: z.coerce.number().int().min(1).max(10_000).default(100),
  tag: z.string().regex(/^\S+$/, 'no spaces').default('paperboy'),
  weights: weightsSchema.optional(),
});

/** One BEIR query: `{_id, text}`. */
export interface BeirQuery {
  id: string;
  text: string;
}

/** Reads a BEIR queries file (JSON lines, optionally gzipped); lines without an id and text are skipped. */
export async function readBeirQueries(file: string): Promise<BeirQuery[]> {
  const stream = createReadStream(file);
  const input = file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
  const queries: BeirQuery[] = [];
  let lineNo = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`${file}:${lineNo}: not JSON`);
    }
    if (typeof value !== 'object' || value === null) continue;
    const { _id: id, text } = value as Record<string, unknown>;
    if ((typeof id === 'string' || typeof id === 'number') && typeof text === 'string') {
      queries.push({ id: String(id), text });
    }
  }
  return queries;
}

export function searchRunCommand(): Command {
  return new Command('search-run')
    .description(
      'Build a throwaway index from a BEIR corpus, run every query of a BEIR queries file and write a TREC run ' +
        '(qid Q0 docid rank score tag).',
    )
    .option('--corpus <file>', 'BEIR corpus.jsonl (optionally gzipped)')
    .option('--queries <file>', 'BEIR queries.jsonl ({_id, text} per line)')
    .option('--out <file>', 'where to write the TREC run')
    .addOption(new Option('--mode <mode>', `search mode: ${SEARCH_MODES.join(', ')}`).default('keyword'))
    .addOption(new Option('--k <n>', 'results per query').default('100'))
    .addOption(new Option('--tag <name>', 'run tag (last TREC column)').default('paperboy'))
    .addOption(new Option('--weights <t,a,b>', 'BM25 column weights title,authors,abstract (for tuning)'))
    .action(async (raw: unknown) => {
      const opts = parseOptions(optionsSchema, raw);
      if (opts.mode !== 'keyword') throw new UsageError(`--mode ${opts.mode}: ${SEMANTIC_UNAVAILABLE}`);
      for (const [name, file] of [['--corpus', opts.corpus], ['--queries', opts.queries]] as const) {
        if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${name}: no such file: ${file}`);
      }
      const queries = await readBeirQueries(opts.queries);
      const dataDir = mkdtempSync(join(tmpdir(), 'paperboy-search-run-'));
      try {
        const config = loadConfig({ ...process.env, PAPERBOY_DATA_DIR: dataDir });
        const ctx = await createContext(config, createLogger('warn'));
        try {
          const summary = await importPaths(ctx.database, [opts.corpus]);
          if (summary.imported === 0) throw new UsageError(`--corpus: no documents imported from ${opts.corpus}`);
          const lines: string[] = [];
          for (const q of queries) {
            // Natural-language questions: every word an OR'ed term, as BM25 baselines do.
            const result = await searchKeyword(ctx.database, parseQuery(q.text), {
              limit: opts.k,
              mode: 'any',
              snippets: false,
              count: false,
              ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
            });
            result.hits.forEach((h, i) => {
              const docId = h.arxivId.startsWith('beir:') ? h.arxivId.slice(5) : h.arxivId;
              lines.push(`${q.id} Q0 ${docId} ${i + 1} ${h.score.toFixed(6)} ${opts.tag}`);
            });
          }
          await writeFile(opts.out, lines.length > 0 ? lines.join('\n') + '\n' : '');
          process.stderr.write(`search-run: ${summary.imported} documents, ${queries.length} queries, ${lines.length} lines → ${opts.out}\n`);
        } finally {
          await ctx.database.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
}
