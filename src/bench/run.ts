/**
 * `npm run bench`: runs the selected scenarios against the built CLI and prints
 * a Markdown report; the same report and the raw numbers are written to
 * bench-out/results-<scenario>-<timestamp>.{md,json}.
 *
 * Usage: node dist/src/bench/run.js [scenario...] [--papers N] [--seed S] [--engine sqlite|postgres] [--keep-data]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Engine } from '../db/connection.js';
import { redactUrl } from '../db/postgres.js';
import { MAX_COUNT } from './generate.js';
import { machineInfo } from './measure.js';
import { renderReport } from './report.js';
import type { Scenario, ScenarioOptions, ScenarioResult } from './scenario.js';
import { digestScenario } from './scenarios/digest.js';
import { importScenario } from './scenarios/import.js';
import { pagesScenario } from './scenarios/pages.js';
import { searchScenario } from './scenarios/search.js';
import { searchMixScenario } from './scenarios/search-mix.js';
import { semanticScenario } from './scenarios/semantic.js';
import { annScenario } from './scenarios/ann.js';

/** Every scenario, in the order `npm run bench` runs them. */
export const SCENARIOS: readonly Scenario[] = [importScenario, searchScenario, semanticScenario, annScenario, pagesScenario, digestScenario, searchMixScenario];

const DEFAULT_PAPERS = 1_000_000;
const DEFAULT_SEED = 1;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** dist/src/bench/run.js -> the project root. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function usage(): string {
  return `Usage: npm run bench -- [scenario...] [--papers N] [--seed S] [--engine sqlite|postgres] [--keep-data]

Scenarios (default: all):
${SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.description}`).join('\n')}

  --papers N    corpus size (default ${DEFAULT_PAPERS.toLocaleString('en-US')}, or $BENCH_PAPERS)
  --seed S      corpus seed (default ${DEFAULT_SEED})
  --engine E    sqlite (default) or postgres: the server at $PAPERBOY_BENCH_DATABASE_URL
                (default ${DEFAULT_DATABASE_URL}), in a schema bench_<scenario>
  --keep-data   keep the temporary databases under bench-out/tmp/
  --help        show this help

digest: its own corpus ($BENCH_DIGEST_PAPERS, default 20,000; --papers does not apply),
  $BENCH_DIGEST_SUBSCRIBERS (default 100,000), $BENCH_DIGEST_SEND_LIMIT (stop after N messages),
  BENCH_DIGEST_CPU_PROF=1 (profile the sender into bench-out/profiles/)

The report goes to stdout and to bench-out/results-<scenario>-<timestamp>.{md,json}.
Build first (npm run bench does).
`;
}

class ArgError extends Error {}

function parseCount(raw: string, what: string, min: number, max: number): number {
  const cleaned = raw.replace(/[_,]/g, '');
  const n = Number(cleaned);
  if (!/^\d+$/.test(cleaned) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ArgError(`${what} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return n;
}

interface Cli {
  scenarios: Scenario[];
  papers: number;
  seed: number;
  engine: Engine;
  keepData: boolean;
}

function parseCli(argv: string[]): Cli | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      papers: { type: 'string' },
      seed: { type: 'string' },
      engine: { type: 'string' },
      'keep-data': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
  if (unknown.length > 0) throw new ArgError(`unknown scenario: ${unknown.join(', ')}`);
  const scenarios = positionals.length === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => positionals.includes(s.name));
  const papersRaw = values.papers ?? process.env.BENCH_PAPERS;
  const papers = papersRaw === undefined || papersRaw === '' ? DEFAULT_PAPERS : parseCount(papersRaw, '--papers', 1, MAX_COUNT);
  const seed = values.seed === undefined ? DEFAULT_SEED : parseCount(values.seed, '--seed', 0, 0xffffffff);
  const engine = values.engine ?? 'sqlite';
  if (engine !== 'sqlite' && engine !== 'postgres') throw new ArgError(`--engine must be sqlite or postgres, got "${engine}"`);
  return { scenarios, papers, seed, engine, keepData: values['keep-data'] === true };
}

/** File-name-safe UTC timestamp: 2026-11-25T18-30-05Z. */
function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${usage()}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const outDir = join(ROOT, 'bench-out');
  await mkdir(outDir, { recursive: true });
  const machine = machineInfo();
  const opts: ScenarioOptions = {
    papers: parsed.papers,
    seed: parsed.seed,
    root: ROOT,
    outDir,
    keepData: parsed.keepData,
    engine: parsed.engine,
    databaseUrl: process.env.PAPERBOY_BENCH_DATABASE_URL || DEFAULT_DATABASE_URL,
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
  };
  const results: ScenarioResult[] = [];
  let failed = false;
  if (opts.engine === 'postgres') opts.log(`engine postgres: ${redactUrl(opts.databaseUrl)}`);
  for (const scenario of parsed.scenarios) {
    opts.log(`scenario ${scenario.name}: ${scenario.description}`);
    let result: ScenarioResult;
    try {
      result = await scenario.run(opts);
    } catch (err) {
      process.stderr.write(`bench: scenario ${scenario.name} crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      failed = true;
      continue;
    }
    if (!result.ok) failed = true;
    results.push(result);
    const markdown = renderReport(machine, [result]);
    const engine = opts.engine === 'sqlite' ? '' : `-${opts.engine}`;
    const base = join(outDir, `results-${scenario.name}${engine}-${timestamp(new Date())}`);
    await writeFile(`${base}.md`, `${markdown}\n`);
    await writeFile(`${base}.json`, `${JSON.stringify({ machine, result }, null, 2)}\n`);
    opts.log(`wrote ${base}.md and .json`);
  }
  if (results.length > 0) process.stdout.write(`${renderReport(machine, results)}\n`);
  // Missed targets are reported, not fatal: the numbers are the product. A
  // scenario that could not run to the end is an error.
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
