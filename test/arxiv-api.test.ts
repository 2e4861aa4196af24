import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArxivApiClient, ArxivApiError, apiId } from '../src/arxiv/api-client.js';
import { ArxivHttpClient } from '../src/arxiv/http.js';
import { ArxivListingClient, storeListing } from '../src/arxiv/listing-client.js';
import { startArxivServer, type ArxivServerOptions } from './support/arxiv-server.js';
import { openTestDatabase } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();

function http(): ArxivHttpClient {
  return new ArxivHttpClient({ minIntervalMs: 0, userAgent: 'Paperboy/0.1 (+http://test)', backoffMs: 5, maxAttempts: 2 });
}

async function withServer<T>(options: Omit<ArxivServerOptions, 'sharedData'>, fn: (s: Awaited<ReturnType<typeof startArxivServer>>) => Promise<T>): Promise<T> {
  const server = await startArxivServer({ sharedData: shared.dir, ...options });
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

test('lookup fetches papers by id from the recorded API answers', { skip: shared.skip }, async () => {
  await withServer({}, async (server) => {
    const api = new ArxivApiClient(http(), server.apiUrl);
    const one = await api.lookup(['2104.12255']);
    assert.deepEqual(one.missing, []);
    assert.equal(one.papers.length, 1);
    assert.match(one.papers[0]?.id ?? '', /2104\.12255v1$/);
    assert.equal(one.papers[0]?.title, '0');
    assert.equal(one.papers[0]?.primaryCategory, 'cs.CR');
    assert.deepEqual(server.requests[0]?.params, { id_list: '2104.12255', start: '0', max_results: '100' });

    const two = await api.lookup(['arXiv:0808.05394', 'https://arxiv.org/abs/1707.08567']);
    assert.deepEqual(server.requests[1]?.params['id_list'], '0808.05394,1707.08567');
    // arXiv has no 0808.05394 (in 2008 numbers had four digits): reported as given.
    assert.deepEqual(two.missing, ['arXiv:0808.05394']);
    assert.equal(two.papers.length, 1);
    assert.match(two.papers[0]?.id ?? '', /1707\.08567v1$/);

    const old = await api.lookup(['astro-ph/0601001']);
    assert.equal(old.papers.length, 1);
    assert.match(old.papers[0]?.id ?? '', /astro-ph\/0601001/);

    const none = await api.lookup(['0000.0000']);
    assert.deepEqual(none.papers, []);
    assert.deepEqual(none.missing, ['0000.0000']);
  });
});

test("the API's error feed becomes a typed error carrying arXiv's message", { skip: shared.skip }, async () => {
  await withServer({}, async (server) => {
    const api = new ArxivApiClient(http(), server.apiUrl);
    await assert.rejects(api.lookup(['abc']), (err: unknown) => {
      assert.ok(err instanceof ArxivApiError);
      assert.equal(err.status, 400);
      assert.equal(err.message, 'arXiv API: incorrect id format for abc');
      return true;
    });
    assert.equal(server.requests.length, 1, 'a refused query is not retried');
  });
});

test('lookups go out in batches of at most 100 ids', { skip: shared.skip }, async () => {
  const empty = '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><opensearch:totalResults>0</opensearch:totalResults></feed>';
  await withServer({ handle: () => ({ status: 200, body: empty }) }, async (server) => {
    const ids = Array.from({ length: 250 }, (_, i) => `2401.${String(i + 1).padStart(5, '0')}`);
    const result = await new ArxivApiClient(http(), server.apiUrl).lookup(ids);
    assert.deepEqual(
      server.requests.map((r) => (r.params['id_list'] ?? '').split(',').length),
      [100, 100, 50],
    );
    assert.equal(result.missing.length, 250);
  });
});

test('category paging follows start/max_results through the results', { skip: shared.skip }, async () => {
  await withServer({ apiAliases: { 'cat:cs.SE': 'testing' } }, async (server) => {
    const api = new ArxivApiClient(http(), server.apiUrl);
    const pages = [];
    for await (const page of api.category('cs.SE', { pageSize: 10, limit: 60, sortBy: 'relevance' })) pages.push(page);
    assert.deepEqual(
      server.requests.map((r) => [r.params['search_query'], r.params['start'], r.params['max_results']]),
      [0, 10, 20, 30, 40, 50].map((s) => ['cat:cs.SE', String(s), '10']),
    );
    assert.deepEqual(
      pages.map((p) => p.startIndex),
      [0, 10, 20, 30, 40, 50],
    );
    assert.equal(pages.flatMap((p) => p.papers).length, 60);
    assert.equal(pages[0]?.totalResults, 214881);
  });
});

test('search sends the query, window and sort order', { skip: shared.skip }, async () => {
  await withServer({}, async (server) => {
    const page = await new ArxivApiClient(http(), server.apiUrl).search('testing', { start: 5, maxResults: 15 });
    assert.deepEqual(server.requests[0]?.params, {
      search_query: 'testing',
      start: '5',
      max_results: '15',
      sortBy: 'relevance',
      sortOrder: 'descending',
    });
    assert.equal(page.papers.length, 15);
    assert.equal(page.startIndex, 5);
  });
});

test('apiId accepts the forms people paste', () => {
  assert.equal(apiId('arXiv:2106.09685v2'), '2106.09685v2');
  assert.equal(apiId('https://arxiv.org/abs/2106.09685'), '2106.09685');
  assert.equal(apiId('https://arxiv.org/pdf/2106.09685v1.pdf'), '2106.09685v1');
  assert.equal(apiId('hep-th/9901001'), 'hep-th/9901001');
  assert.equal(apiId(' http://arxiv.org/abs/math.GT/0309136 '), 'math.GT/0309136');
});

test('the listing client fetches the announcement feed and its items import', { skip: shared.skip }, async () => {
  await withServer({ listingFile: 'test/fixtures/arxiv/listing-cs.LG+cs.SE.atom.xml' }, async (server) => {
    const listing = await new ArxivListingClient(http(), server.listingUrl).fetch(['cs.LG', 'cs.SE']);
    assert.equal(server.requests[0]?.path, '/atom/cs.LG+cs.SE');
    assert.equal(listing.announcedOn, '2023-01-16');
    const database = await openTestDatabase();
    try {
      const counts = await storeListing(database, listing);
      assert.equal(counts.imported, 4);
      assert.equal(counts.errors, 0);
      const row = await database.db
        .selectFrom('papers')
        .select(['announced_on', 'announced_estimated'])
        .where('arxiv_id', '=', '2301.05651')
        .executeTakeFirst();
      assert.deepEqual(row, { announced_on: '2023-01-16', announced_estimated: 0 });
    } finally {
      await database.close();
    }
  });
});
