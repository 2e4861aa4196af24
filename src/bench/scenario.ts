/** The contract between `run.ts` and the benchmark scenarios in `scenarios/`. */
import { join } from 'node:path';
import type { DatabaseLocation, Engine } from '../db/connection.js';
import { createScratchSchema, dropScratchSchema } from '../db/postgres.js';

/** One SPEC target compared with what was measured. */
export interface TargetCheck {
  /** What is measured, e.g. `sustained import rate`. */
  metric: string;
  /** The SPEC target in words, e.g. `≥ 5,000 papers/s`. */
  target: string;
  /** The measurement, formatted. */
  actual: string;
  /** `null` when the measurement could not be taken. */
  pass: boolean | null;
  /** How the number was obtained when that is not obvious (projection, fallback). */
  note?: string;
}

/** A free-form table a scenario adds to its report (per-run details). */
export interface ReportTable {
  title: string;
  headers: string[];
  rows: string[][];
}

/** What a scenario returns: target checks for the summary, details for the record. */
export interface ScenarioResult {
  scenario: string;
  title: string;
  /** Parameters that make the run reproducible (papers, seed, corpus file). */
  params: Record<string, string | number | boolean>;
  checks: TargetCheck[];
  tables: ReportTable[];
  notes: string[];
  /** JSON-serialisable raw measurements, written to the results .json file. */
  raw: unknown;
  /** False when the scenario could not run to the end (the child crashed, etc.). */
  ok: boolean;
}

/** Inputs shared by every scenario. */
export interface ScenarioOptions {
  /** Corpus size. */
  papers: number;
  /** Corpus and query seed. */
  seed: number;
  /** Project root: where `bin/paperboy.js` and `bench-out/` live. */
  root: string;
  /** `bench-out/` under the root. */
  outDir: string;
  /** Keep temporary data dirs (databases) instead of deleting them. */
  keepData: boolean;
  /** The engine the scenario's instance runs on. */
  engine: Engine;
  /** PostgreSQL server for `engine: 'postgres'`; each scenario works in a schema of its own there. */
  databaseUrl: string;
  /** Status lines for the person watching (stderr); stdout carries the report. */
  log: (message: string) => void;
}

/** A benchmark scenario, selected by name on the command line. */
export interface Scenario {
  name: string;
  description: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}

/** The database of one scenario's instance, and how a `paperboy` child process is pointed at it. */
export interface BenchDatabase {
  location: DatabaseLocation;
  /** Environment variables for `paperboy` processes of this instance. */
  env: Record<string, string>;
  /** Removes the PostgreSQL schema (the SQLite file goes with its data dir). */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for `scenario`: on SQLite `paperboy.db` in `dataDir`;
 * on PostgreSQL the schema `bench_<scenario>` of the server, emptied first, so
 * a rerun never measures on top of an earlier run's rows.
 */
export async function benchDatabase(opts: ScenarioOptions, scenario: string, dataDir: string): Promise<BenchDatabase> {
  if (opts.engine === 'sqlite') {
    return { location: { engine: 'sqlite', file: join(dataDir, 'paperboy.db') }, env: { PAPERBOY_DATA_DIR: dataDir }, drop: async () => {} };
  }
  const schema = `bench_${scenario}`;
  const url = await createScratchSchema(opts.databaseUrl, schema);
  return {
    location: { engine: 'postgres', url },
    env: { PAPERBOY_DATA_DIR: dataDir, DATABASE_URL: url },
    drop: () => dropScratchSchema(opts.databaseUrl, schema),
  };
}
