/**
 * The server-mode deployment of README "Running on PostgreSQL": two
 * `paperboy serve --roles web` processes and one `--roles worker,scheduler`
 * on one database and data directory, as real child processes started
 * together (so their migrations race for the lock). On SQLite the same three
 * processes share the file. arXiv is the recorded fixture server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startArxivServer, type ArxivFixtureServer } from './support/arxiv-server.js';
import { BIN, freePort, tempDataDir } from './support/cli.js';
import { instanceEnv } from './support/database.js';
import { sharedData } from './support/shared-data.js';

const shared = sharedData();


interface Process {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

function start(roles: string, env: Record<string, string>, port?: number): Process {
  const args = [BIN, 'serve', '--roles', roles, ...(port === undefined ? [] : ['--port', String(port)])];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

interface SearchResult {
  paper: { id: string; title: string };
}

describe('three processes, one instance: two web, one worker and scheduler', { skip: shared.skip }, () => {
  let arxiv: ArxivFixtureServer;
  const web: { url: string; process: Process }[] = [];
  let worker: Process;
  let env: Record<string, string>;

  const search = async (url: string, q: string): Promise<string[]> => {
    const res = await fetch(`${url}/api/papers/search?q=${encodeURIComponent(q)}`);
    assert.equal(res.status, 200, `${url} search ${q}`);
    return ((await res.json()) as SearchResult[]).map((r) => r.paper.id);
  };

  before(async () => {
    arxiv = await startArxivServer({ sharedData: shared.dir, oaiPageSize: 4 });
    env = {
      ...(await instanceEnv(tempDataDir())),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // One secret for every process, as a load balancer may send a form's POST to another process than its GET.
      SECRET_KEY: randomBytes(32).toString('hex'),
      ARXIV_CATEGORIES: 'hep-th',
      ARXIV_OAI_URL: arxiv.oaiUrl,
      ARXIV_API_URL: arxiv.apiUrl,
      ARXIV_MIN_INTERVAL_MS: '0',
      RATE_LIMIT_API_SEARCH: '1000',
      RATE_LIMIT_SEARCH_FEED: '4',
    };
    // Web first, without the worker: the instance is empty until the worker harvests.
    for (const port of [await freePort(), await freePort()]) {
      web.push({ url: `http://127.0.0.1:${port}`, process: start('web', { ...env, HARVEST_ENABLED: 'false' }, port) });
    }
    for (const w of web) {
      // Generous: two node processes starting and migrating on a loaded 2-core CI machine.
      await until(`${w.url} ready`, async () => ((await fetch(`${w.url}/readyz`)).ok ? true : undefined), 60_000);
    }
  });

  after(async () => {
    for (const p of [...web.map((w) => w.process), ...(worker ? [worker] : [])]) p.child.kill('SIGKILL');
    await arxiv?.close();
  });

  test('both web processes serve the empty instance and cache its front page', async () => {
    for (const { url } of web) {
      const front = await (await fetch(`${url}/`)).text();
      assert.match(front, /no papers yet/);
      assert.deepEqual(await search(url, 'string'), []);
    }
  });

  test('a paper harvested by the worker is on both front pages and searchable through both web processes', async () => {
    worker = start('worker,scheduler', { ...env, HARVEST_ENABLED: 'true', HARVEST_HOUR_UTC: '0' });
    // The scheduler enqueues today's harvest at start; the worker harvests the recorded OAI pages.
    const target = arxiv.oaiRecords[0];
    assert.ok(target !== undefined);
    const harvested = await until(
      'the harvest',
      async () => {
        const res = await fetch(`${web[0]!.url}/api/papers/${target.arxivId}`);
        return res.ok ? ((await res.json()) as { title: string }) : undefined;
      },
      60_000,
    );
    // Its longest word: the title's punctuation may be query syntax.
    const word = harvested.title.split(/[^A-Za-z]+/).sort((x, y) => y.length - x.length)[0] ?? '';
    const imported = Date.now();
    for (const { url } of web) {
      // Each web process notices the commit (notification or change counter) and drops its cached pages.
      await until(`${url}/ without the empty-instance page`, async () => {
        const front = await (await fetch(`${url}/`)).text();
        return front.includes('no papers yet') ? undefined : front;
      }, 5_000);
      const ids = await until(`${url} finding "${word}"`, async () => {
        const found = await search(url, word);
        return found.includes(target.arxivId) ? found : undefined;
      }, 5_000);
      assert.ok(ids.includes(target.arxivId));
    }
    const lagMs = Date.now() - imported;
    assert.ok(lagMs < 5_000, `searchable through both web processes ${lagMs} ms after the first saw it`);
    await until('the harvest of every recorded page', async () => {
      const last = arxiv.oaiRecords.at(-1);
      return last && (await fetch(`${web[1]!.url}/api/papers/${last.arxivId}`)).ok ? true : undefined;
    }, 60_000);
  });

  test('a paper fetched through one web process is on the other at once', async () => {
    const [a, b] = [web[0]!.url, web[1]!.url];
    const notFound = await fetch(`${b}/papers/1707.08567`);
    assert.equal(notFound.status, 404);
    const page = await notFound.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    const cookie = notFound.headers.get('set-cookie')?.split(';')[0];
    assert.ok(token !== undefined && cookie !== undefined, 'the fetch form and its CSRF cookie');
    // The form came from b; a accepts it (one SECRET_KEY).
    const posted = await fetch(`${a}/papers/1707.08567/fetch`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: a },
      body: new URLSearchParams({ _csrf: token }).toString(),
    });
    assert.equal(posted.status, 303, await posted.text());
    // No waiting: b reads the committed row and syncs its search index before answering.
    assert.equal((await fetch(`${b}/papers/1707.08567`)).status, 200);
    assert.deepEqual(await search(b, 'boppard'), ['1707.08567']);
  });

  test('a rate limit holds across web processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const res = await fetch(`${web[i % 2]!.url}/feeds/search.rss?q=string`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // RATE_LIMIT_SEARCH_FEED=4 per minute per client, counted once for the instance: 2 + 2 allowed, then both refuse.
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  });

  test('all three stop cleanly on SIGTERM', async () => {
    const all = [...web.map((w) => w.process), worker];
    for (const p of all) p.child.kill('SIGTERM');
    const codes = await Promise.all(all.map((p) => p.exited));
    assert.deepEqual(codes, [0, 0, 0], all.map((p) => p.stderr()).join('\n'));
  });
});
