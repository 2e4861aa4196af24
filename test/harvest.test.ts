import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ArxivHttpClient, ArxivHttpError } from '../src/arxiv/http.js';
import { OaiHarvester, OaiProtocolError, type HarvestProgress } from '../src/arxiv/oai-harvester.js';
import type { Database } from '../src/db/connection.js';
import { createLogger } from '../src/log.js';
import { startArxivServer, type ArxivFixtureServer, type ArxivServerOptions } from './support/arxiv-server.js';
import { openTestDatabase, run, testEngine } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

interface Rig {
  server: ArxivFixtureServer;
  database: Database;
  harvester: OaiHarvester;
  close(): Promise<void>;
}

async function rig(options: Omit<ArxivServerOptions, 'sharedData'> = {}, now?: () => Date): Promise<Rig> {
  const server = await startArxivServer({ sharedData: shared.dir, ...options });
  const database = await openTestDatabase();
  const http = new ArxivHttpClient({ minIntervalMs: 0, userAgent: 'Paperboy/0.1 (+http://test)', backoffMs: 5, maxAttempts: 2 });
  const harvester = new OaiHarvester({ database, http, oaiUrl: server.oaiUrl, log: createLogger('silent'), now });
  return {
    server,
    database,
    harvester,
    async close() {
      await database.close();
      await server.close();
    },
  };
}

async function paperIds(database: Database): Promise<string[]> {
  const rows = await database.db.selectFrom('papers').select('arxiv_id').orderBy('arxiv_id').execute();
  return rows.map((r) => r.arxiv_id);
}

async function harvestRuns(database: Database) {
  return database.db.selectFrom('harvest_state').selectAll().orderBy('id').execute();
}

/** Makes every insert of the paper `arxivId` fail, as a constraint or a bug would. */
async function refuseInsertOf(database: Database, arxivId: string): Promise<void> {
  if (testEngine === 'sqlite') {
    await run(
      database,
      sql`CREATE TRIGGER refuse_one BEFORE INSERT ON papers WHEN NEW.arxiv_id = ${sql.lit(arxivId)} BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
    return;
  }
  await run(
    database,
    sql`CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.arxiv_id = ${sql.lit(arxivId)} THEN RAISE EXCEPTION 'refused'; END IF;
        RETURN NEW;
      END $$`,
  );
  await run(database, sql`CREATE TRIGGER refuse_one BEFORE INSERT ON papers FOR EACH ROW EXECUTE FUNCTION refuse_one()`);
}

function allServed(server: ArxivFixtureServer): string[] {
  return server.oaiRecords.map((r) => r.arxivId).sort();
}

test('follows resumption tokens to the end and imports every record exactly once, one checkpoint per page', { skip: shared.skip }, async () => {
  const r = await rig();
  try {
    const { server, database } = r;
    assert.ok(server.oaiPages.length >= 8, `the fixture has ${server.oaiPages.length} pages`);
    const seen: HarvestProgress[] = [];
    const summary = await r.harvester.harvest(
      { from: '2017-12-01', until: '2017-12-31', set: 'physics:hep-th' },
      {
        onPage: async (p) => {
          seen.push(p);
          // The page's papers and its checkpoint are visible together, right after each page.
          const [state] = await harvestRuns(database);
          assert.equal(state?.pages_done, p.page);
          assert.equal(state?.records_done, p.records);
          const committed = server.oaiPages.slice(0, p.page).flat();
          assert.equal((await paperIds(database)).length, committed.length, `after page ${p.page}`);
          const last = p.page === server.oaiPages.length;
          assert.equal(state?.resumption_token, last ? null : `fx-g1-p${p.page}`);
        },
      },
    );

    assert.deepEqual(await paperIds(database), allServed(server));
    assert.equal(summary.pages, server.oaiPages.length);
    assert.equal(summary.records, server.oaiRecords.length);
    assert.equal(summary.imported, server.oaiRecords.length);
    assert.equal(summary.errors, 0);
    assert.equal(summary.resumed, false);
    assert.equal(summary.coveredUntil, '2017-12-31');
    assert.deepEqual(
      seen.map((p) => p.page),
      server.oaiPages.map((_, i) => i + 1),
    );

    const calls = server.oaiRequests();
    assert.equal(calls.length, server.oaiPages.length, 'one request per page');
    assert.deepEqual(calls[0]?.params, {
      verb: 'ListRecords',
      metadataPrefix: 'arXiv',
      from: '2017-12-01',
      until: '2017-12-31',
      set: 'physics:hep-th',
    });
    calls.slice(1).forEach((c, i) => assert.deepEqual(c.params, { verb: 'ListRecords', resumptionToken: `fx-g1-p${i + 1}` }));
    assert.match(calls[0]?.userAgent ?? '', /^Paperboy\/0\.1 \(\+/);

    const state = await harvestRuns(database);
    assert.equal(state.length, 1);
    assert.ok(state[0]?.finished_at, 'the run is marked finished');
    assert.equal(state[0]?.complete_list_size, server.oaiRecords.length);
  } finally {
    await r.close();
  }
});

test('running the same harvest again starts a new run from `from`; the writes are idempotent', { skip: shared.skip }, async () => {
  const r = await rig({ oaiPageSize: 5 });
  try {
    const request = { from: '2017-12-01', until: '2017-12-31' };
    await r.harvester.harvest(request);
    const again = await r.harvester.harvest(request);
    assert.equal(again.resumed, false);
    assert.equal(again.imported, 0);
    assert.equal(again.unchanged, r.server.oaiRecords.length);
    assert.deepEqual(await paperIds(r.database), allServed(r.server));
    const runs = await harvestRuns(r.database);
    assert.equal(runs.filter((run) => run.finished_at !== null).length, 2);
    const firstRequests = r.server.oaiRequests().filter((c) => c.params['from'] !== undefined);
    assert.equal(firstRequests.length, 2);
    assert.ok(firstRequests.every((c) => c.params['from'] === '2017-12-01'));
  } finally {
    await r.close();
  }
});

test('without --from the harvest is incremental by datestamp', { skip: shared.skip }, async () => {
  const today = new Date();
  const day = (offset: number): string => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  const r = await rig({ oaiPageSize: 10 });
  try {
    const first = await r.harvester.harvest({ set: 'cs' });
    // Never harvested: a week back. Open-ended: covered up to the day before the response.
    assert.equal(first.from, day(-7));
    assert.equal(first.coveredUntil, day(-1));
    const second = await r.harvester.harvest({ set: 'cs' });
    assert.equal(second.from, day(0), 'the day after the last covered day');
    // An explicit end makes the next run start the day after it.
    await r.harvester.harvest({ set: 'math', from: '2017-12-01', until: '2017-12-14' });
    const third = await r.harvester.harvest({ set: 'math' });
    assert.equal(third.from, '2017-12-15');
    const froms = r.server
      .oaiRequests()
      .filter((c) => c.params['from'] !== undefined)
      .map((c) => `${c.params['set']}:${c.params['from']}`);
    assert.deepEqual(froms, [`cs:${day(-7)}`, `cs:${day(0)}`, 'math:2017-12-01', 'math:2017-12-15']);
  } finally {
    await r.close();
  }
});

test('an interrupted harvest resumes from its last committed page without refetching', { skip: shared.skip }, async () => {
  let failing = true;
  const r = await rig({
    // Page 4 keeps failing until the "outage" ends.
    handle: (req) => (failing && req.params['resumptionToken'] === 'fx-g1-p3' ? { status: 500, body: 'outage' } : undefined),
  });
  try {
    const request = { from: '2017-12-01', until: '2017-12-31' };
    await assert.rejects(r.harvester.harvest(request), ArxivHttpError);
    const [state] = await harvestRuns(r.database);
    assert.deepEqual(
      { pages_done: state?.pages_done, resumption_token: state?.resumption_token, finished_at: state?.finished_at },
      { pages_done: 3, resumption_token: 'fx-g1-p3', finished_at: null },
    );
    assert.equal((await paperIds(r.database)).length, r.server.oaiPages.slice(0, 3).flat().length);

    failing = false;
    const before = r.server.oaiRequests().length;
    const summary = await r.harvester.harvest(request);
    const resumedCalls = r.server.oaiRequests().slice(before);
    assert.deepEqual(resumedCalls[0]?.params, { verb: 'ListRecords', resumptionToken: 'fx-g1-p3' }, 'starts at the first uncommitted page');
    assert.equal(resumedCalls.length, r.server.oaiPages.length - 3);
    assert.equal(summary.resumed, true);
    assert.equal(summary.pages, r.server.oaiPages.length);
    assert.equal(summary.pagesThisProcess, r.server.oaiPages.length - 3);
    assert.equal(summary.imported, r.server.oaiRecords.length, 'counts span both processes');
    assert.deepEqual(await paperIds(r.database), allServed(r.server));
  } finally {
    await r.close();
  }
});

test('an expired resumption token restarts the window from its first day', { skip: shared.skip }, async () => {
  const r = await rig();
  try {
    const summary = await r.harvester.harvest(
      { from: '2017-12-01', until: '2017-12-31' },
      { onPage: (p) => (p.page === 2 && p.records === 4 ? r.server.expireTokens() : undefined) },
    );
    assert.equal(summary.restarts, 1);
    const calls = r.server.oaiRequests();
    assert.deepEqual(calls[2]?.params, { verb: 'ListRecords', resumptionToken: 'fx-g1-p2' });
    assert.equal(calls[3]?.params['from'], '2017-12-01', 'asked for the window again');
    assert.deepEqual(await paperIds(r.database), allServed(r.server));
    assert.equal(summary.imported, r.server.oaiRecords.length);
    assert.equal(summary.unchanged, 4, 'the two pages before the restart were seen again, unchanged');
  } finally {
    await r.close();
  }
});

test('noRecordsMatch is a successful, empty harvest', { skip: shared.skip }, async () => {
  const r = await rig();
  try {
    r.server.setNoRecords(true);
    const summary = await r.harvester.harvest({ from: '2030-01-01', until: '2030-01-02', set: 'q-fin' });
    assert.equal(summary.records, 0);
    assert.equal(summary.pages, 0);
    assert.equal(summary.skipped, 0);
    assert.equal(summary.coveredUntil, '2030-01-02');
    const [state] = await harvestRuns(r.database);
    assert.ok(state?.finished_at, 'finished');
  } finally {
    await r.close();
  }
});

test('other OAI-PMH errors fail the harvest with arXiv code and message', { skip: shared.skip }, async () => {
  const r = await rig({
    handle: () => ({
      status: 200,
      body:
        '<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">' +
        '<responseDate>2024-01-01T00:00:00Z</responseDate><request verb="ListRecords">x</request>' +
        '<error code="badArgument">Illegal set value</error></OAI-PMH>',
    }),
  });
  try {
    await assert.rejects(r.harvester.harvest({ from: '2024-01-01', set: 'nonsense' }), (err: unknown) => {
      assert.ok(err instanceof OaiProtocolError);
      assert.equal(err.code, 'badArgument');
      assert.match(err.message, /Illegal set value/);
      return true;
    });
  } finally {
    await r.close();
  }
});

test('a truncated page is not committed: the checkpoint stays on it', { skip: shared.skip }, async () => {
  let truncate = true;
  const r = await rig({
    handle: (req) =>
      truncate && req.params['resumptionToken'] === 'fx-g1-p1'
        ? { status: 200, body: '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>' }
        : undefined,
  });
  try {
    const request = { from: '2017-12-01', until: '2017-12-31' };
    await assert.rejects(r.harvester.harvest(request), /unusable OAI-PMH page/);
    assert.equal((await harvestRuns(r.database))[0]?.resumption_token, 'fx-g1-p1');
    truncate = false;
    await r.harvester.harvest(request);
    assert.deepEqual(await paperIds(r.database), allServed(r.server));
  } finally {
    await r.close();
  }
});

test('a record whose write fails is skipped alone; the rest of its page commits', { skip: shared.skip }, async () => {
  const r = await rig();
  try {
    const victim = r.server.oaiRecords[1]?.arxivId ?? '';
    // Stands in for any write error (a constraint, a bug) on one record.
    await refuseInsertOf(r.database, victim);
    const summary = await r.harvester.harvest({ from: '2017-12-01', until: '2017-12-31' });
    assert.equal(summary.errors, 1);
    assert.equal(summary.imported, r.server.oaiRecords.length - 1);
    assert.deepEqual(
      await paperIds(r.database),
      allServed(r.server).filter((id) => id !== victim),
    );
    assert.equal(r.server.oaiRequests().length, r.server.oaiPages.length, 'the page was redone locally, not fetched again');
  } finally {
    await r.close();
  }
});
