import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/connection.js';
import { withPaperBatch, type FailedItem } from '../db/paper-writer.js';
import type { DB, HarvestStateTable } from '../db/schema.js';
import type { ApplyOutcome } from '../ingest/paper-row.js';
import { readOaiPage } from '../ingest/parsers/oai.js';
import { prepareItem, type PreparedItem } from '../ingest/prepare.js';
import type { ParseItem } from '../ingest/record.js';
import type { Logger } from '../log.js';
import { canonicalCategory, findArchive, findCategory, taxonomy } from '../papers/taxonomy.js';
import type { ArxivHttpClient } from './http.js';
import { ArxivError } from './http.js';

/**
 * OAI-PMH `ListRecords` harvester for arXiv.
 *
 * Every page is written in one transaction together with the checkpoint that
 * names the next page (its resumption token), so a harvest killed at any
 * instant resumes at the first page that was not committed: nothing is lost,
 * nothing is fetched twice.
 *
 * Sets: arXiv's OAI sets are coarse (a group such as `cs`, `math`, `stat`, or
 * a physics archive such as `physics:hep-th`); both the legacy endpoint and
 * oaipmh.arxiv.org serve them. Configured categories are mapped to the sets
 * containing them and everything those sets return is imported, including
 * papers outside the configured categories: it is all real arXiv metadata,
 * and the categories decide what is featured, not what is stored.
 */

/** The metadata formats the harvester asks arXiv for. */
export const METADATA_PREFIXES = ['arXiv', 'arXivRaw'] as const;
export type MetadataPrefix = (typeof METADATA_PREFIXES)[number];

/** Days fetched by the first incremental harvest of a set, when nothing says where to start. */
export const DEFAULT_LOOKBACK_DAYS = 7;

// A token that keeps expiring would otherwise restart the window forever.
const MAX_RESTARTS = 3;

/** What to harvest. Dates are `YYYY-MM-DD` (OAI day granularity, UTC). */
export interface HarvestRequest {
  metadataPrefix?: MetadataPrefix;
  /** Omitted: the day after the last finished harvest of this set ("incremental by datestamp"). */
  from?: string | null;
  /** Omitted: up to the newest datestamp. */
  until?: string | null;
  /** OAI set spec (`cs`, `physics:hep-th`); omitted: the whole repository. */
  set?: string | null;
  /** Lookback for a set never harvested before, when `from` is omitted. */
  lookbackDays?: number;
}

/** Reported after every committed page. */
export interface HarvestProgress {
  key: string;
  set: string | null;
  /** Pages committed in this run so far, including those of an earlier, interrupted process. */
  page: number;
  pageRecords: number;
  /** Records committed in this run so far. */
  records: number;
  /** Records fetched by this process (for rates). */
  recordsThisProcess: number;
  completeListSize: number | null;
  elapsedMs: number;
}

/** Counts of what the harvest did to the database. */
export interface HarvestCounts {
  records: number;
  imported: number;
  updated: number;
  unchanged: number;
  skipped: number;
  errors: number;
}

/** The outcome of one harvest run. Counts cover the whole run, including pages committed before a crash. */
export interface HarvestSummary extends HarvestCounts {
  key: string;
  metadataPrefix: MetadataPrefix;
  set: string | null;
  from: string;
  until: string | null;
  /** Pages committed in the run. */
  pages: number;
  /** Pages this process fetched and committed. */
  pagesThisProcess: number;
  recordsThisProcess: number;
  /** The run continued a checkpoint left by an earlier process. */
  resumed: boolean;
  /** Times the window was restarted because arXiv no longer knew the resumption token. */
  restarts: number;
  /** The last day the harvest fully covers; the next incremental harvest starts the day after. */
  coveredUntil: string | null;
  /** Nothing to do: the set is already harvested up to today. */
  upToDate: boolean;
  durationMs: number;
}

/** Invalid harvest arguments (bad date, until before from). */
export class HarvestArgumentError extends Error {
  override name = 'HarvestArgumentError';
}

/** arXiv answered with an OAI-PMH protocol error the harvester cannot work around. */
export class OaiProtocolError extends ArxivError {
  override name = 'OaiProtocolError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** arXiv's answer could not be used (wrong status, broken XML); the checkpoint stays put for a retry. */
export class ArxivHttpResponseError extends ArxivError {
  override name = 'ArxivHttpResponseError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Another process advanced the same harvest run concurrently; this one backs off. */
export class HarvestConflictError extends Error {
  override name = 'HarvestConflictError';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar day written `YYYY-MM-DD`. */
export function isIsoDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.getUTCMonth() + 1 === Number(m[2]) && d.getUTCDate() === Number(m[3]);
}

/** `date` moved by `days` (UTC calendar arithmetic). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Checks `from`/`until`; throws HarvestArgumentError with a message fit for a user. */
export function validateWindow(from: string | null | undefined, until: string | null | undefined): void {
  for (const [name, v] of [
    ['from', from],
    ['until', until],
  ] as const) {
    if (v != null && !isIsoDate(v)) throw new HarvestArgumentError(`--${name} must be a date written YYYY-MM-DD, got "${v}"`);
  }
  if (from != null && until != null && until < from) {
    throw new HarvestArgumentError(`--until (${until}) is before --from (${from})`);
  }
}

/**
 * The OAI sets that cover `categories`, deduplicated in order: the group set
 * (`cs`, `math`, `stat`, `q-bio`, `q-fin`, `eess`, `econ`) or, within physics,
 * the archive set (`physics:hep-th`, `physics:cond-mat`, `physics:nlin`).
 */
export function oaiSetsForCategories(categories: readonly string[]): string[] {
  const sets = new Set<string>();
  for (const raw of categories) {
    let id = canonicalCategory(raw);
    // Retired archives (`alg-geom`) live on in the category that took them over.
    id = taxonomy.subsumed[id] ?? id;
    const archiveId = findCategory(id)?.archive ?? findArchive(id)?.id;
    const archive = archiveId === undefined ? undefined : findArchive(archiveId);
    if (archive === undefined) continue;
    const group = archive.group.replace(/^grp_/, '');
    sets.add(group === 'physics' ? `physics:${archive.id}` : group);
  }
  return [...sets];
}

type StateRow = Selectable<HarvestStateTable>;

/** What a committed page moves the checkpoint to. */
interface PageCheckpoint {
  nextToken: string | null;
  completeListSize: number | null;
  responseDate: string | null;
  datestamps: string[];
  finishedOn: string;
  /** False for a noRecordsMatch answer, which finishes the run without a page. */
  countsAsPage: boolean;
}

/** A record of a page that was not stored, for the log. */
interface RecordProblem {
  record: number;
  reason: string;
}

/** A record's write threw; the page is redone with per-record savepoints. */
class RecordWriteError extends Error {
  constructor(readonly original: unknown) {
    super('a record of the page could not be written', { cause: original });
  }
}

/** Everything the harvester needs from the process. */
export interface OaiHarvesterDeps {
  database: Database;
  http: ArxivHttpClient;
  /** OAI-PMH base URL (`https://oaipmh.arxiv.org/oai`). */
  oaiUrl: string;
  log: Logger;
  now?: () => Date;
}

/** Per-call options that are not part of what is harvested. */
export interface HarvestRunOptions {
  signal?: AbortSignal;
  /** Called after each committed page; the next page waits for a returned promise. */
  onPage?: (progress: HarvestProgress) => void | Promise<void>;
}

function emptyCounts(): HarvestCounts {
  return { records: 0, imported: 0, updated: 0, unchanged: 0, skipped: 0, errors: 0 };
}

/** Harvests arXiv's OAI-PMH interface into the papers tables with per-page checkpoints. */
export class OaiHarvester {
  private readonly now: () => Date;

  constructor(private readonly deps: OaiHarvesterDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Runs (or resumes) one harvest to its end and returns what it did. */
  async harvest(request: HarvestRequest = {}, options: HarvestRunOptions = {}): Promise<HarvestSummary> {
    const started = Date.now();
    const prefix = request.metadataPrefix ?? 'arXiv';
    if (!METADATA_PREFIXES.includes(prefix)) throw new HarvestArgumentError(`unsupported metadata format "${String(prefix)}"`);
    const setSpec = request.set ?? '';
    const until = request.until ?? null;
    validateWindow(request.from, until);
    const today = this.now().toISOString().slice(0, 10);

    let from = request.from ?? null;
    if (from === null) {
      const covered = await this.lastCoveredUntil(prefix, setSpec);
      from = covered !== null ? addDays(covered, 1) : addDays(until ?? today, -(request.lookbackDays ?? DEFAULT_LOOKBACK_DAYS));
      if (from > today || (until !== null && from > until)) {
        return this.upToDateSummary(prefix, setSpec, from, until, covered, started);
      }
    }
    const key = `${prefix}|${setSpec}|${from}|${until ?? ''}`;
    const log = this.deps.log.child({ harvest: key });

    const open = await this.openRun(key);
    const resumed = open !== undefined && (open.pages_done > 0 || open.restarts > 0);
    let state: StateRow;
    if (open === undefined) {
      state = await this.createRun(key, prefix, setSpec, from, until);
      log.info({ from, until, set: setSpec || null, metadataPrefix: prefix }, 'harvest started');
    } else {
      state = open;
      log.info({ pagesDone: state.pages_done, recordsDone: state.records_done }, 'resuming harvest from its checkpoint');
    }

    let pagesThisProcess = 0;
    let recordsThisProcess = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const token = state.resumption_token;
      const url = new URL(this.deps.oaiUrl);
      url.searchParams.set('verb', 'ListRecords');
      if (token !== null) {
        // The token is exclusive: OAI-PMH rejects any other argument beside it.
        url.searchParams.set('resumptionToken', token);
      } else {
        url.searchParams.set('metadataPrefix', prefix);
        url.searchParams.set('from', from);
        if (until !== null) url.searchParams.set('until', until);
        if (setSpec !== '') url.searchParams.set('set', setSpec);
      }

      const response = await this.deps.http.get(url, { signal: options.signal });
      const page = await readOaiPage(response.body);
      const fatal = page.errors.find((e) => e.code !== 'noRecordsMatch');

      if (fatal?.code === 'badResumptionToken' && token !== null) {
        if (state.restarts >= MAX_RESTARTS) {
          throw new OaiProtocolError(fatal.code, `arXiv rejected the resumption token ${MAX_RESTARTS + 1} times: ${fatal.message}`);
        }
        log.warn({ token, message: fatal.message }, 'resumption token expired or unknown; restarting the window from its first day');
        state = await this.restartRun(state);
        continue;
      }
      if (fatal !== undefined) {
        throw new OaiProtocolError(fatal.code, `arXiv OAI-PMH error ${fatal.code}: ${fatal.message || '(no message)'}`);
      }
      const broken = page.items.find((i) => i.kind === 'error' && i.at.record === undefined);
      if (broken !== undefined && broken.kind === 'error') {
        // A truncated or garbled page is retried later from this checkpoint
        // rather than committed, which would skip whatever it lost.
        throw new ArxivHttpResponseError(response.status, `unusable OAI-PMH page from ${url.host} (HTTP ${response.status}): ${broken.reason}`);
      }
      if (response.status !== 200 && page.errors.length === 0) {
        throw new ArxivHttpResponseError(response.status, `${url.host} answered HTTP ${response.status} to ListRecords`);
      }

      const noRecords = page.errors.some((e) => e.code === 'noRecordsMatch');
      const nextToken = noRecords ? null : page.resumptionToken;
      const pageMeta: PageCheckpoint = {
        nextToken,
        completeListSize: page.completeListSize,
        responseDate: page.responseDate,
        datestamps: page.datestamps,
        finishedOn: today,
        countsAsPage: !noRecords,
      };
      let committed: { state: StateRow; counts: HarvestCounts; problems: RecordProblem[] };
      try {
        committed = await this.commitPage(state, page.items, pageMeta, false);
      } catch (err) {
        if (!(err instanceof RecordWriteError)) throw err;
        // Rare: one record's write threw. Redo the page with each record in its
        // own SAVEPOINT so that record alone is dropped. Not the default path:
        // savepoints cost about a fifth of the write throughput.
        committed = await this.commitPage(state, page.items, pageMeta, true);
      }
      state = committed.state;
      const { counts } = committed;
      for (const problem of committed.problems) log.warn({ page: committed.state.pages_done, ...problem }, 'record skipped');
      if (!noRecords) {
        pagesThisProcess += 1;
        recordsThisProcess += counts.records;
        await options.onPage?.({
          key,
          set: setSpec || null,
          page: state.pages_done,
          pageRecords: counts.records,
          records: state.records_done,
          recordsThisProcess,
          completeListSize: state.complete_list_size,
          elapsedMs: Date.now() - started,
        });
      } else {
        log.info('no records in the window');
      }
      if (state.finished_at !== null) break;
    }

    const summary: HarvestSummary = {
      key,
      metadataPrefix: prefix,
      set: setSpec || null,
      from,
      until,
      pages: state.pages_done,
      pagesThisProcess,
      recordsThisProcess,
      records: state.records_done,
      imported: state.imported,
      updated: state.updated,
      unchanged: state.unchanged,
      skipped: state.skipped,
      errors: state.errors,
      resumed,
      restarts: state.restarts,
      coveredUntil: state.covered_until,
      upToDate: false,
      durationMs: Date.now() - started,
    };
    log.info({ ...summary, key: undefined }, 'harvest finished');
    return summary;
  }

  /**
   * Harvests each set in turn (one checkpointed run per set). An empty list
   * harvests nothing: the whole repository is only ever asked for explicitly,
   * through `harvest()` without a set.
   */
  async harvestSets(
    sets: readonly string[],
    request: Omit<HarvestRequest, 'set'> = {},
    options: HarvestRunOptions = {},
  ): Promise<HarvestSummary[]> {
    const out: HarvestSummary[] = [];
    for (const set of sets) {
      out.push(await this.harvest({ ...request, set }, options));
    }
    return out;
  }

  /**
   * Writes a page's records and advances the checkpoint in one transaction.
   * With `isolate`, each record runs in a SAVEPOINT and a failing one is
   * skipped; without, a failing record aborts the page with RecordWriteError.
   */
  private async commitPage(
    current: StateRow,
    items: readonly ParseItem[],
    meta: PageCheckpoint,
    isolate: boolean,
  ): Promise<{ state: StateRow; counts: HarvestCounts; problems: RecordProblem[] }> {
    return withPaperBatch(this.deps.database, async (writer, trx) => {
      const counts = emptyCounts();
      const problems: RecordProblem[] = [];
      const records: { item: PreparedItem; record: number }[] = [];
      items.forEach((item, index) => {
        const record = item.at.record ?? index + 1;
        if (item.kind === 'skip') {
          // Deleted records count; page-level notes (an empty window) do not.
          if (item.at.record !== undefined) counts.skipped += 1;
          return;
        }
        if (item.kind === 'error') {
          counts.errors += 1;
          problems.push({ record, reason: item.reason });
          return;
        }
        counts.records += 1;
        records.push({ item: prepareItem(item), record });
      });
      const prepared = records.map((r) => r.item);
      let outcomes: (ApplyOutcome | FailedItem)[];
      if (isolate) {
        outcomes = await writer.applyIsolated(prepared);
      } else {
        try {
          outcomes = await writer.apply(prepared);
        } catch (err) {
          throw new RecordWriteError(err);
        }
      }
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'failed') {
          counts.errors += 1;
          problems.push({ record: records[i]?.record ?? i + 1, reason: outcome.reason });
        } else {
          counts[outcome.status] += 1;
        }
      });
      const state = await this.advance(trx, current, { ...meta, counts });
      return { state, counts, problems };
    });
  }

  /** The latest day a finished harvest of this set covered, if any. */
  async lastCoveredUntil(prefix: string, setSpec: string): Promise<string | null> {
    const row = await this.deps.database.db
      .selectFrom('harvest_state')
      .select('covered_until')
      .where('metadata_prefix', '=', prefix)
      .where('set_spec', '=', setSpec)
      .where('finished_at', 'is not', null)
      .where('covered_until', 'is not', null)
      .orderBy('covered_until', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.covered_until ?? null;
  }

  private async openRun(key: string): Promise<StateRow | undefined> {
    return this.deps.database.db
      .selectFrom('harvest_state')
      .selectAll()
      .where('harvest_key', '=', key)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
  }

  private async createRun(key: string, prefix: string, setSpec: string, from: string, until: string | null): Promise<StateRow> {
    const now = this.now().toISOString();
    // Another process may have opened the same run a moment ago (the partial
    // unique index allows one open run per key): then share its checkpoint.
    await this.deps.database.db
      .insertInto('harvest_state')
      .values({
        harvest_key: key,
        metadata_prefix: prefix,
        set_spec: setSpec,
        from_date: from,
        until_date: until,
        started_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('harvest_key').where('finished_at', 'is', null).doNothing())
      .execute();
    const row = await this.openRun(key);
    if (row === undefined) throw new Error(`harvest run ${key} vanished right after it was created`);
    return row;
  }

  private async restartRun(state: StateRow): Promise<StateRow> {
    const result = await this.deps.database.db
      .updateTable('harvest_state')
      .set((eb) => ({ resumption_token: null, restarts: eb('restarts', '+', 1), updated_at: this.now().toISOString() }))
      .where('id', '=', state.id)
      .where('pages_done', '=', state.pages_done)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new HarvestConflictError(`harvest ${state.harvest_key} was advanced by another process`);
    }
    return this.reload(this.deps.database.db, state.id);
  }

  private async reload(db: Kysely<DB>, id: number): Promise<StateRow> {
    const row = await db.selectFrom('harvest_state').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw new Error(`harvest run ${id} disappeared`);
    return row;
  }

  /** Moves the checkpoint past a page; runs inside the page's transaction. */
  private async advance(
    trx: Transaction<DB>,
    state: StateRow,
    page: PageCheckpoint & { counts: HarvestCounts },
  ): Promise<StateRow> {
    const now = this.now().toISOString();
    const firstResponse = state.first_response_date ?? page.responseDate?.slice(0, 10) ?? page.finishedOn;
    const latest = page.datestamps.reduce<string | null>((a, d) => (a === null || d > a ? d : a), state.last_datestamp);
    const finished = page.nextToken === null;
    // Without an explicit end, the window ends with the day before the first
    // response: records of that day may still change, so the next run
    // starts there again rather than the day after.
    const coveredUntil = finished ? (state.until_date ?? addDays(firstResponse, -1)) : null;
    const c = page.counts;
    // Compare-and-set on pages_done: if another process moved this run on
    // meanwhile, the whole page rolls back instead of regressing its checkpoint.
    const result = await trx
      .updateTable('harvest_state')
      .set((eb) => ({
        resumption_token: page.nextToken,
        pages_done: eb('pages_done', '+', page.countsAsPage ? 1 : 0),
        records_done: eb('records_done', '+', c.records),
        imported: eb('imported', '+', c.imported),
        updated: eb('updated', '+', c.updated),
        unchanged: eb('unchanged', '+', c.unchanged),
        skipped: eb('skipped', '+', c.skipped),
        errors: eb('errors', '+', c.errors),
        complete_list_size: page.completeListSize ?? eb.ref('complete_list_size'),
        first_response_date: firstResponse,
        last_datestamp: latest,
        covered_until: coveredUntil,
        updated_at: now,
        finished_at: finished ? now : null,
      }))
      .where('id', '=', state.id)
      .where('pages_done', '=', state.pages_done)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      throw new HarvestConflictError(`harvest ${state.harvest_key} was advanced by another process`);
    }
    return this.reload(trx, state.id);
  }

  private upToDateSummary(
    prefix: MetadataPrefix,
    setSpec: string,
    from: string,
    until: string | null,
    covered: string | null,
    started: number,
  ): HarvestSummary {
    this.deps.log.info({ set: setSpec || null, coveredUntil: covered }, 'harvest already up to date');
    return {
      key: `${prefix}|${setSpec}|${from}|${until ?? ''}`,
      metadataPrefix: prefix,
      set: setSpec || null,
      from,
      until,
      pages: 0,
      pagesThisProcess: 0,
      recordsThisProcess: 0,
      ...emptyCounts(),
      resumed: false,
      restarts: 0,
      coveredUntil: covered,
      upToDate: true,
      durationMs: Date.now() - started,
    };
  }
}

/** Adds the counts of several summaries (one per set) together. */
export function totalCounts(summaries: readonly HarvestSummary[]): HarvestCounts & { pages: number; recordsThisProcess: number } {
  const total = { ...emptyCounts(), pages: 0, recordsThisProcess: 0 };
  for (const s of summaries) {
    total.records += s.records;
    total.imported += s.imported;
    total.updated += s.updated;
    total.unchanged += s.unchanged;
    total.skipped += s.skipped;
    total.errors += s.errors;
    total.pages += s.pages;
    total.recordsThisProcess += s.recordsThisProcess;
  }
  return total;
}
