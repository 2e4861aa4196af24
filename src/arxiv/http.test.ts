import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ArxivHttpClient, ArxivHttpError, ArxivUnreachableError, parseRetryAfter, type ArxivHttpOptions } from './http.js';

interface Hit {
  at: number;
  url: string;
  userAgent: string | undefined;
}

type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

/** A server that answers the n-th request with replies[n] (the last reply repeats). */
async function scripted(replies: Reply[]): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits.push({ at: performance.now(), url: req.url ?? '', userAgent: req.headers['user-agent'] });
    const reply = replies[Math.min(hits.length - 1, replies.length - 1)] ?? { status: 200 };
    if (reply === 'hang') return;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body ?? `answer ${hits.length}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function client(overrides: Partial<ArxivHttpOptions> = {}): ArxivHttpClient {
  return new ArxivHttpClient({
    minIntervalMs: 0,
    userAgent: 'Paperboy/0.1 (+http://localhost:3000)',
    backoffMs: 20,
    maxBackoffMs: 200,
    connectRetryDelayMs: 20,
    ...overrides,
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('requests from one client start at least minIntervalMs apart, even when issued together', async () => {
  const srv = await scripted([{ status: 200 }]);
  const starts: number[] = [];
  const timedFetch: typeof fetch = (input, init) => {
    starts.push(performance.now());
    return fetch(input, init);
  };
  try {
    // The first fetch of a process loads undici and connects: keep that out of the timings.
    await client().get(`${srv.url}/warm-up`);
    srv.hits.length = 0;
    const http = client({ minIntervalMs: 120, fetch: timedFetch });
    const answers = await Promise.all([1, 2, 3, 4].map((n) => http.get(`${srv.url}/q?n=${n}`)));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(
      srv.hits.map((h) => h.url),
      ['/q?n=1', '/q?n=2', '/q?n=3', '/q?n=4'],
      'one at a time, in order',
    );
    for (let i = 1; i < starts.length; i++) {
      const gap = (starts[i] ?? 0) - (starts[i - 1] ?? 0);
      assert.ok(gap >= 120, `requests ${i} and ${i + 1} started ${gap.toFixed(1)} ms apart`);
      // As seen by the server, socket and event-loop jitter blur the spacing;
      // without the gate the requests would arrive within a millisecond or two.
      const seen = (srv.hits[i]?.at ?? 0) - (srv.hits[i - 1]?.at ?? 0);
      assert.ok(seen >= 60, `requests ${i} and ${i + 1} arrived ${seen.toFixed(1)} ms apart`);
    }
    assert.equal(srv.hits[0]?.userAgent, 'Paperboy/0.1 (+http://localhost:3000)');
  } finally {
    await srv.close();
  }
});

test('503 with Retry-After in seconds: the retry waits the stated delay', async () => {
  const srv = await scripted([{ status: 503, headers: { 'retry-after': '1' }, body: 'busy' }, { status: 200, body: 'ok' }]);
  try {
    const res = await client().get(`${srv.url}/oai`);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    assert.equal(srv.hits.length, 2);
    const gap = (srv.hits[1]?.at ?? 0) - (srv.hits[0]?.at ?? 0);
    assert.ok(gap >= 990, `retried after ${gap.toFixed(0)} ms, arXiv asked for 1000`);
    assert.ok(gap < 1500, `retried after ${gap.toFixed(0)} ms, not much later than asked`);
  } finally {
    await srv.close();
  }
});

test('503 with Retry-After as an HTTP date, and a cap on very long waits', async () => {
  const when = new Date(Date.now() + 3_600_000).toUTCString();
  const srv = await scripted([{ status: 503, headers: { 'retry-after': when } }, { status: 200 }]);
  try {
    const started = performance.now();
    const res = await client({ maxRetryAfterMs: 150 }).get(`${srv.url}/oai`);
    assert.equal(res.status, 200);
    const took = performance.now() - started;
    assert.ok(took >= 145 && took < 1000, `waited ${took.toFixed(0)} ms: the cap, not an hour`);
  } finally {
    await srv.close();
  }
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('120'), 120_000);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter('soon'), null);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now), 0);
});

test('5xx answers are retried with growing backoff, then succeed', async () => {
  const srv = await scripted([{ status: 500 }, { status: 502 }, { status: 200, body: 'fine' }]);
  try {
    const res = await client({ backoffMs: 60 }).get(`${srv.url}/api`);
    assert.equal(res.body, 'fine');
    assert.equal(srv.hits.length, 3);
    const first = (srv.hits[1]?.at ?? 0) - (srv.hits[0]?.at ?? 0);
    const second = (srv.hits[2]?.at ?? 0) - (srv.hits[1]?.at ?? 0);
    assert.ok(first >= 58, `first backoff ${first.toFixed(0)} ms`);
    assert.ok(second >= 118, `second backoff ${second.toFixed(0)} ms doubles`);
  } finally {
    await srv.close();
  }
});

test('gives up after maxAttempts with a typed error naming the status', async () => {
  const srv = await scripted([{ status: 500 }]);
  try {
    await assert.rejects(client({ maxAttempts: 3 }).get(`${srv.url}/api`), (err: unknown) => {
      assert.ok(err instanceof ArxivHttpError);
      assert.equal(err.status, 500);
      assert.match(err.message, /HTTP 500 3 times/);
      return true;
    });
    assert.equal(srv.hits.length, 3);
  } finally {
    await srv.close();
  }
});

test('4xx answers are returned to the caller without retries', async () => {
  const srv = await scripted([{ status: 400, body: 'bad query' }]);
  try {
    const res = await client().get(`${srv.url}/api`);
    assert.equal(res.status, 400);
    assert.equal(res.body, 'bad query');
    assert.equal(srv.hits.length, 1);
  } finally {
    await srv.close();
  }
});

test('a request that hangs times out and is retried', async () => {
  const srv = await scripted(['hang', { status: 200, body: 'late but fine' }]);
  try {
    const res = await client({ timeoutMs: 100 }).get(`${srv.url}/slow`);
    assert.equal(res.body, 'late but fine');
    assert.equal(srv.hits.length, 2);
  } finally {
    await srv.close();
  }
});

test('connection refused: ArxivUnreachableError naming the host, after two quick tries', async () => {
  const port = await freePort();
  const started = performance.now();
  await assert.rejects(client({ minIntervalMs: 3000, connectRetryDelayMs: 50 }).get(`http://127.0.0.1:${port}/oai`), (err: unknown) => {
    assert.ok(err instanceof ArxivUnreachableError);
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.host, `127.0.0.1:${port}`);
    assert.equal(err.message, `cannot reach 127.0.0.1:${port}: this machine seems to be offline (connection refused)`);
    return true;
  });
  // Attempts that never reached arXiv do not make the retry wait out the 3 s rate.
  const took = performance.now() - started;
  assert.ok(took < 1000, `gave up after ${took.toFixed(0)} ms`);
});

test('DNS failures are reported as offline; fetch is asked exactly twice', async () => {
  let calls = 0;
  const fakeFetch: typeof fetch = async () => {
    calls += 1;
    throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND export.arxiv.org'), { code: 'ENOTFOUND' }) });
  };
  await assert.rejects(client({ fetch: fakeFetch }).get('https://export.arxiv.org/api/query?id_list=2104.12255'), (err: unknown) => {
    assert.ok(err instanceof ArxivUnreachableError);
    assert.equal(err.message, 'cannot reach export.arxiv.org: this machine seems to be offline (DNS lookup failed)');
    return true;
  });
  assert.equal(calls, 2);
});

test('a failed request does not block the next one', async () => {
  const srv = await scripted([{ status: 500 }, { status: 200, body: 'second' }]);
  try {
    const http = client({ maxAttempts: 1 });
    const first = http.get(`${srv.url}/a`);
    const second = http.get(`${srv.url}/b`);
    await assert.rejects(first, ArxivHttpError);
    assert.equal((await second).body, 'second');
  } finally {
    await srv.close();
  }
});
