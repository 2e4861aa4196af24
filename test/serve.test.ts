import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, freePort, runCli, tempDataDir } from './support/cli.js';


async function waitFor(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('serve: an empty instance explains how to get papers; health endpoints; clean SIGTERM', async () => {
  const port = await freePort();
  const dataDir = tempDataDir();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], {
    env: { ...process.env, PAPERBOY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', HARVEST_ENABLED: 'false' },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    // Generous: a loaded 2-core CI machine can take a while to start node and open the database.
    const home = await waitFor(`http://127.0.0.1:${port}/`, 45_000);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-type') ?? '', /text\/html/);
    const body = await home.text();
    assert.match(body, /no papers yet/);
    assert.match(body, /paperboy import/);
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json(), {
      status: 'ok',
      checks: { database: { ok: true }, migrations: { ok: true }, searchIndex: { ok: true } },
    });
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

test('an imported paper in the configured categories is featured on the front page, escaped', async () => {
  const dataDir = tempDataDir();
  const file = join(tempDataDir('paperboy-inputs-'), 'one.jsonl');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    file,
    JSON.stringify({
      id: '2101.00001',
      authors: 'A. Person',
      title: 'Attacks with <script>alert(1)</script> in titles',
      categories: 'cs.CR',
      abstract: 'An abstract.',
      versions: [{ version: 'v1', created: 'Mon, 4 Jan 2021 10:00:00 GMT' }],
    }) + '\n',
  );
  assert.equal((await runCli(['import', file], { PAPERBOY_DATA_DIR: dataDir, ARXIV_CATEGORIES: 'cs.CR' })).code, 0);
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--roles', 'web'], {
    env: { ...process.env, PAPERBOY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ARXIV_CATEGORIES: 'cs.CR' },
    stdio: 'ignore',
  });
  try {
    const body = await (await waitFor(`http://127.0.0.1:${port}/`, 15_000)).text();
    assert.match(body, /Featured: new announcement/);
    assert.match(body, /Attacks with &lt;script&gt;alert\(1\)&lt;\/script&gt; in titles/);
    assert.ok(!body.includes('<script>alert(1)'));
  } finally {
    child.kill('SIGTERM');
  }
});

test('usage mistakes exit 2 with a clear message', async () => {
  const env = { PAPERBOY_DATA_DIR: tempDataDir() };
  const roles = await runCli(['serve', '--roles', 'web,cron'], env);
  assert.equal(roles.code, 2);
  assert.match(roles.stderr, /--roles/);
  const config = await runCli(['migrate'], { ...env, PORT: 'x', ARXIV_CATEGORIES: 'nope' });
  assert.equal(config.code, 2);
  assert.match(config.stderr, /PORT/);
  assert.match(config.stderr, /ARXIV_CATEGORIES/);
  const unknown = await runCli(['frobnicate'], env);
  assert.notEqual(unknown.code, 0);
});

test('every command has --help', async () => {
  for (const cmd of ['serve', 'import', 'harvest', 'migrate']) {
    const r = await runCli([cmd, '--help'], { PAPERBOY_DATA_DIR: tempDataDir() });
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`Usage: paperboy ${cmd}`));
  }
});
