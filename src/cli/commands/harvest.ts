import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { ArxivError, sharedArxivHttp } from '../../arxiv/http.js';
import {
  HarvestArgumentError,
  isIsoDate,
  METADATA_PREFIXES,
  OaiHarvester,
  oaiSetsForCategories,
  totalCounts,
  validateWindow,
  type HarvestProgress,
} from '../../arxiv/oai-harvester.js';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { parseCategoryList } from '../../papers/taxonomy.js';
import { invalidOptions, UsageError } from '../usage.js';
import { applyCategoryRule } from '../../feeds/featuring.js';

const date = z
  .string()
  .refine(isIsoDate, { error: (issue) => `must be a real date written YYYY-MM-DD, got "${String(issue.input)}"` })
  .optional();

const optionsSchema = z
  .object({
    from: date,
    until: date,
    categories: z
      .string()
      .optional()
      .transform((list, ctx) => {
        if (list === undefined) return undefined;
        const parsed = parseCategoryList(list);
        for (const u of parsed.unknown) ctx.addIssue({ code: 'custom', message: `unknown arXiv category or archive "${u}"` });
        if (parsed.categories.length === 0 && parsed.unknown.length === 0) ctx.addIssue({ code: 'custom', message: 'no categories given' });
        return parsed.categories;
      }),
    format: z.enum(METADATA_PREFIXES).default('arXiv'),
  })
  .refine((o) => o.from === undefined || o.until === undefined || o.from <= o.until, {
    message: 'is before --from',
    path: ['until'],
  });

function rate(records: number, ms: number): string {
  return ms > 0 ? (records / (ms / 1000)).toFixed(1) : '–';
}

/** `paperboy harvest`: incremental OAI-PMH harvest of the configured categories. */
export function harvestCommand(): Command {
  return new Command('harvest')
    .description(
      'Harvest paper metadata from arXiv (OAI-PMH) into the database. Resumes an interrupted harvest from its ' +
        'last committed page; without --from it continues where the last finished harvest of each set stopped.',
    )
    .addOption(
      new Option('--from <date>', 'first datestamp to harvest, YYYY-MM-DD (default: the day after the last harvest, or 7 days ago)'),
    )
    .addOption(new Option('--until <date>', 'last datestamp to harvest, YYYY-MM-DD (default: up to the newest record)'))
    .addOption(
      new Option(
        '--categories <list>',
        'comma- or space-separated categories or archives, e.g. "cs.LG,hep-th" (default: ARXIV_CATEGORIES); ' +
          "harvested through arXiv's OAI sets (cs, math, stat, physics:hep-th, …), and every paper of those sets is stored",
      ),
    )
    .addOption(new Option('--format <prefix>', 'OAI metadata format').choices([...METADATA_PREFIXES]).default('arXiv'))
    .addHelpText(
      'after',
      '\nEnvironment: ARXIV_OAI_URL (endpoint), ARXIV_MIN_INTERVAL_MS (pause between requests, arXiv asks for 3000),\n' +
        'PAPERBOY_DATA_DIR. Prints progress to stderr on a terminal and a summary line to stdout.\n' +
        'Exit codes: 0 done, 1 arXiv unreachable or failing, 2 invalid arguments.',
    )
    .action(async (raw: unknown) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        throw invalidOptions(parsed.error.issues);
      }
      const opts = parsed.data;
      try {
        validateWindow(opts.from, opts.until);
      } catch (err) {
        if (err instanceof HarvestArgumentError) throw new UsageError(err.message);
        throw err;
      }
      const config = loadConfig();
      const sets = oaiSetsForCategories(opts.categories ?? config.arxivCategories);
      if (sets.length === 0) throw new UsageError('no categories to harvest: pass --categories or set ARXIV_CATEGORIES');
      const ctx = await createContext(config);
      const harvester = new OaiHarvester({
        database: ctx.database,
        http: sharedArxivHttp(config, ctx.log),
        oaiUrl: config.arxiv.oaiUrl,
        log: ctx.log,
      });
      const tty = process.stderr.isTTY === true;
      let lastKey: string | null = null;
      const onPage = (p: HarvestProgress): void => {
        if (!tty) return;
        // One line per set, rewritten in place page after page.
        if (lastKey !== null && lastKey !== p.key) process.stderr.write('\n');
        lastKey = p.key;
        const of = p.completeListSize !== null ? ` of ${p.completeListSize}` : '';
        process.stderr.write(
          `\r\x1b[K${p.set ?? 'all'}: page ${p.page}, ${p.records}${of} records, ${rate(p.recordsThisProcess, p.elapsedMs)} records/s`,
        );
      };
      const started = Date.now();
      try {
        const summaries = await harvester.harvestSets(
          sets,
          { from: opts.from ?? null, until: opts.until ?? null, metadataPrefix: opts.format },
          { onPage },
        );
        if (lastKey !== null) process.stderr.write('\n');
        await applyCategoryRule(ctx.database, ctx.config.arxivCategories);
        const t = totalCounts(summaries);
        const ms = Date.now() - started;
        const windows = summaries
          .map((s) => `${s.set ?? 'all'} ${s.from}..${s.until ?? (s.coveredUntil !== null ? `${s.coveredUntil}+` : 'now')}${s.upToDate ? ' (up to date)' : s.resumed ? ' (resumed)' : ''}`)
          .join(', ');
        process.stdout.write(
          `harvested ${t.records} records in ${t.pages} pages (${t.imported} imported, ${t.updated} updated, ` +
            `${t.unchanged} unchanged, ${t.skipped} skipped, ${t.errors} errors) from ${windows}; ` +
            `${(ms / 1000).toFixed(1)} s, ${rate(t.recordsThisProcess, ms)} records/s\n`,
        );
      } catch (err) {
        if (lastKey !== null) process.stderr.write('\n');
        if (err instanceof ArxivError) {
          // An expected condition (offline, arXiv down): one clear line, no stack.
          process.stderr.write(`paperboy: ${err.message}\n`);
          process.stderr.write('paperboy: the harvest keeps its checkpoint; run the same command again to resume\n');
          throw new CommanderError(1, 'paperboy.harvest.failed', err.message);
        }
        throw err;
      } finally {
        await ctx.database.close();
      }
    });
}
