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
import type { Database } from '../../db/connection.js';
import { searchKeyword } from '../../search/keyword.js';
import { parseQuery } from '../../search/query.js';
import { builtinEmbedder, DEFAULT_DIMENSIONS, DEFAULT_TRAINING_PAIRS, fitBuiltinModel } from '../../semantic/builtin.js';
import { dot } from '../../semantic/embedder.js';
import { feedbackQuery, FUSION, fuseScored, type FusionParams } from '../../semantic/fusion.js';
import { UsageError } from '../usage.js';
import { parseOptions, SEARCH_MODES } from './search.js';

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
  dimensions: z.coerce.number().int().min(8).max(1024).default(DEFAULT_DIMENSIONS),
  trainingPairs: z.coerce.number().int().min(0).max(10_000_000).default(DEFAULT_TRAINING_PAIRS),
  semanticWeight: z.coerce.number().min(0).max(1).default(FUSION.semanticWeight),
  depth: z.coerce.number().int().min(1).max(10_000).default(FUSION.depth),
  feedbackDocs: z.coerce.number().int().min(0).max(100).default(FUSION.feedbackDocs),
  feedbackWeight: z.coerce.number().min(0).max(100).default(FUSION.feedbackWeight),
  feedbackTemperature: z.coerce.number().positive().max(1000).default(FUSION.feedbackTemperature),
});

type Options = z.infer<typeof optionsSchema>;

interface Ranked {
  paperId: number;
  score: number;
}

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

/** Paper id → BEIR document id (the imported arXiv id without `beir:`). */
async function beirIds(database: Database): Promise<Map<number, string>> {
  const rows = await database.db.selectFrom('papers').select(['id', 'arxiv_id']).execute();
  return new Map(rows.map((r) => [r.id, r.arxiv_id.startsWith('beir:') ? r.arxiv_id.slice(5) : r.arxiv_id]));
}

interface SemanticSpace {
  paperIds: number[];
  documents: Float32Array[];
  /** Paper id → index into documents. */
  index: Map<number, number>;
  queries: Float32Array[];
}

/**
 * Fits the built-in embedder on every imported paper (the corpus is the
 * instance) and embeds papers and queries; rankings are by exact cosine, the
 * ground truth an ANN index approximates.
 */
async function semanticSpace(database: Database, queries: readonly BeirQuery[], opts: Options): Promise<SemanticSpace> {
  const rows = await database.db
    .selectFrom('papers')
    .select(['id', 'title_text', (eb) => eb.fn.coalesce('abstract_text', 'abstract').as('abstract')])
    .orderBy('id')
    .execute();
  // The same text the embed job uses (src/semantic/models.ts).
  const texts = rows.map((r) => `${r.title_text.trim()}\n\n${r.abstract.trim()}`);
  const model = fitBuiltinModel(texts, { dimensions: opts.dimensions, trainingPairs: opts.trainingPairs });
  const embedder = builtinEmbedder(model, 'search-run');
  const documents = await embedder.embed(texts, 'document');
  const paperIds = rows.map((r) => r.id);
  return {
    paperIds,
    documents,
    index: new Map(paperIds.map((id, i) => [id, i])),
    queries: await embedder.embed(queries.map((q) => q.text), 'query'),
  };
}

/** The `want` papers closest to a query vector; none for a zero vector, which would find everything. */
function nearest(space: SemanticSpace, vector: Float32Array, want: number): Ranked[] {
  if (vector.every((x) => x === 0)) return [];
  const scored = space.documents.map((dv, i) => ({ paperId: space.paperIds[i]!, score: dot(vector, dv) }));
  return scored.sort((a, b) => b.score - a.score || a.paperId - b.paperId).slice(0, want);
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
    .addOption(new Option('--dimensions <n>', 'built-in embedder dimensions (semantic, hybrid)').default(String(DEFAULT_DIMENSIONS)))
    .addOption(
      new Option('--training-pairs <n>', 'built-in embedder inverse-cloze training pairs, 0: plain LSA (semantic, hybrid)').default(
        String(DEFAULT_TRAINING_PAIRS),
      ),
    )
    .addOption(new Option('--semantic-weight <w>', 'share of the semantic score, 0..1 (hybrid)').default(String(FUSION.semanticWeight)))
    .addOption(new Option('--depth <n>', 'how many of each ranking are fused (hybrid)').default(String(FUSION.depth)))
    .addOption(new Option('--feedback-docs <n>', 'best keyword hits that move the query vector (hybrid)').default(String(FUSION.feedbackDocs)))
    .addOption(new Option('--feedback-weight <w>', 'weight of their centroid, 0: no feedback (hybrid)').default(String(FUSION.feedbackWeight)))
    .addOption(
      new Option('--feedback-temperature <t>', 'softmax temperature over their BM25 scores (hybrid)').default(String(FUSION.feedbackTemperature)),
    )
    .action(async (raw: unknown) => {
      const opts = parseOptions(optionsSchema, raw);
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
          const docIds = await beirIds(ctx.database);
          const space = opts.mode === 'keyword' ? null : await semanticSpace(ctx.database, queries, opts);
          const params: FusionParams = {
            semanticWeight: opts.semanticWeight,
            depth: opts.depth,
            feedbackDocs: opts.feedbackDocs,
            feedbackWeight: opts.feedbackWeight,
            feedbackTemperature: opts.feedbackTemperature,
          };
          const lines: string[] = [];
          for (const [qi, q] of queries.entries()) {
            const ranked: Ranked[] = [];
            if (opts.mode === 'semantic') ranked.push(...nearest(space!, space!.queries[qi]!, opts.k));
            else {
              // Natural-language questions: every word an OR'ed term, as BM25 baselines do.
              const result = await searchKeyword(ctx.database, parseQuery(q.text), {
                limit: opts.mode === 'hybrid' ? Math.max(opts.k, opts.depth) : opts.k,
                mode: 'any',
                snippets: false,
                count: false,
                ...(opts.weights !== undefined ? { weights: opts.weights } : {}),
              });
              const keywordHits = result.hits.map((h) => ({ paperId: h.paperId, score: h.score }));
              if (opts.mode === 'keyword') ranked.push(...keywordHits);
              else {
                // What search.ts does: feedback from the best keyword hits' stored vectors, then fusion.
                const queryVector = space!.queries[qi]!;
                const feedback = keywordHits.slice(0, params.feedbackDocs).flatMap((h) => {
                  const i = space!.index.get(h.paperId);
                  return i === undefined ? [] : [{ vector: space!.documents[i]!, score: h.score }];
                });
                const vector = queryVector.every((x) => x === 0) ? queryVector : feedbackQuery(queryVector, feedback, params);
                const semanticHits = nearest(space!, vector, params.depth);
                const fused = fuseScored(
                  keywordHits.map((h) => ({ id: h.paperId, score: h.score })),
                  semanticHits.map((h) => ({ id: h.paperId, score: h.score })),
                  params,
                );
                ranked.push(...fused.slice(0, opts.k).map((f) => ({ paperId: f.id, score: f.score })));
              }
            }
            ranked.forEach((h, i) => {
              const docId = docIds.get(h.paperId) ?? String(h.paperId);
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
