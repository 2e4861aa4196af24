import { Command, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { searchKeyword, type KeywordHit } from '../../search/keyword.js';
import { UsageError } from '../usage.js';

/** Search modes of the spec; only keyword exists until the embeddings milestone. */
export const SEARCH_MODES = ['keyword', 'semantic', 'hybrid'] as const;

/** Why semantic and hybrid modes are refused for now. */
export const SEMANTIC_UNAVAILABLE = 'not available yet: the semantic index arrives with the embeddings milestone';

const optionsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(10),
  json: z.boolean().optional(),
  mode: z.enum(SEARCH_MODES).default('keyword'),
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
function snippetLine(hit: KeywordHit, tty: boolean): string {
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
    .description('Search the papers (keyword mode: field-weighted BM25). Syntax: "phrase", -exclusion, author:, title:, cat:.')
    .argument('<query...>', 'the query (several arguments are joined with spaces)')
    .addOption(new Option('--limit <n>', 'number of results').default('10'))
    .addOption(new Option('--mode <mode>', `search mode: ${SEARCH_MODES.join(', ')}`).default('keyword'))
    .option('--json', 'print the results as JSON')
    // `-term` is query syntax, not an option: unknown options go to the query.
    .allowUnknownOption()
    .action(async (words: string[], raw: unknown) => {
      const opts = parseOptions(optionsSchema, raw);
      if (opts.mode !== 'keyword') throw new UsageError(`--mode ${opts.mode}: ${SEMANTIC_UNAVAILABLE}`);
      const query = words.join(' ');
      const ctx = await createContext(loadConfig());
      try {
        const result = await searchKeyword(ctx.database, query, { limit: opts.limit });
        if (opts.json === true) {
          const hits = result.hits.map((h) => ({ ...h, snippet: h.snippet.value }));
          process.stdout.write(JSON.stringify({ total: result.total, totalIsLowerBound: result.totalIsLowerBound, problem: result.problem, hits }, null, 2) + '\n');
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
        const lines = [`${result.totalIsLowerBound ? 'more than ' : ''}${result.total ?? result.hits.length} results`];
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
