/** The contract between `run.ts` and the benchmark scenarios in `scenarios/`. */

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
  /** Status lines for the person watching (stderr); stdout carries the report. */
  log: (message: string) => void;
}

/** A benchmark scenario, selected by name on the command line. */
export interface Scenario {
  name: string;
  description: string;
  run(opts: ScenarioOptions): Promise<ScenarioResult>;
}
