import { Command, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { searchPapers, SEARCH_MODES, type SearchHit } from '../../search/search.js';
import { warmVectorIndex } from '../../semantic/vector-index.js';
import { UsageError } from '../usage.js';

export { SEARCH_MODES };

const optionsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(10),
  json: z.boolean().optional(),
  mode: z.enum(SEARCH_MODES, { error: 'must be keyword, semantic or hybrid' }).default('hybrid'),
});

/** Parses zod-validated options or throws a UsageError listing every problem. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** Snippet HTML as one terminal line: marks in bold on a TTY, in brackets otherwise. */
function snippetLine(hit: SearchHit, tty: boolean): string {
  const [open, close] = tty ? ['\x1b[1m', '\x1b[22m'] : ['[', ']'];
  return hit.snippet.value
    .replaceAll('<mark>', open)
    .replaceAll('</mark>', close)
    .replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e)
    .replace(/\s+/g, ' ')
    .trim();
}

export function searchCommand(): Command {
  return new Command('search')
    .description(
      'Search the papers: hybrid (keyword and meaning fused, the default), keyword (field-weighted BM25) or semantic. ' +
        'Syntax: "phrase", -exclusion, author:, title:, cat:.',
    )
    .argument('<query...>', 'the query (several arguments are joined with spaces)')
    .addOption(new Option('--limit <n>', 'number of results').default('10'))
    .addOption(new Option('--mode <mode>', `search mode: ${SEARCH_MODES.join(', ')}`).default('hybrid'))
    .option('--json', 'print the results as JSON')
    // `-term` is query syntax, not an option: unknown options go to the query.
    .allowUnknownOption()
    .action(async (words: string[], raw: unknown) => {
      const opts = parseOptions(optionsSchema, raw);
      const query = words.join(' ');
      const ctx = await createContext(loadConfig());
      try {
        // A one-off process has no vector index yet; here the person would rather wait for it than get keyword results.
        if (opts.mode !== 'keyword') await warmVectorIndex(ctx.database);
        const result = await searchPapers(ctx, query, { limit: opts.limit, mode: opts.mode });
        if (opts.json === true) {
          const hits = result.hits.map((h) => ({ ...h, snippet: h.snippet.value }));
          process.stdout.write(
            JSON.stringify(
              { mode: result.mode, semanticUnavailable: result.semanticUnavailable, total: result.total, totalIsLowerBound: result.totalIsLowerBound, problem: result.problem, hits },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        if (result.problem !== undefined) {
          process.stdout.write(`No results: ${result.problem} in "${query}".\n`);
          return;
        }
        if (result.hits.length === 0) {
          process.stdout.write(`No results for "${query}".\n`);
          return;
        }
        const tty = process.stdout.isTTY === true;
        const lines = [
          ...(result.semanticUnavailable !== undefined ? [`(keyword only: ${result.semanticUnavailable})`] : []),
          `${result.totalIsLowerBound ? 'more than ' : ''}${result.total ?? result.hits.length} results (${result.mode})`,
        ];
        result.hits.forEach((h, i) => {
          lines.push(`${String(i + 1).padStart(3)}. ${h.arxivId}  ${h.title}`);
          if (h.authorsText !== '') lines.push(`     ${h.authorsText}`);
          const s = snippetLine(h, tty);
          if (s !== '') lines.push(`     ${s}`);
        });
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await ctx.database.close();
      }
    });
}
