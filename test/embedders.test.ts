// The external embedders: ONNX on a tiny model the test builds, and an OpenAI-compatible
// server played by a local HTTP server; then each behind EMBEDDER in an instance
// that embeds the first 200 shared arXiv records and searches by meaning.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activeModel, readVectors, vectorCoverage } from '../src/db/vector-store.js';
import { importPaths } from '../src/ingest/import.js';
import { normalize } from '../src/semantic/embedder.js';
import { embedAll } from '../src/semantic/jobs.js';
import { onnxEmbedder } from '../src/semantic/onnx.js';
import { embeddingsEndpoint, openaiEmbedder, retryAfterMs } from '../src/semantic/openai.js';
import { emptyApp } from './support/app.js';
import { sharedData } from './support/shared-data.js';
import { HIDDEN, ID, tinyModelBytes, tinyTokenizerJson, tokenEmbedding, writeTinyModel, type TinyModelOptions } from './fixtures/tiny-onnx-model.js';

const root = mkdtempSync(join(tmpdir(), 'paperboy-embedders-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const modelDir = (options: TinyModelOptions = {}): string => writeTinyModel(join(root, `m${++dirs}`), options);

function id(token: string): number {
  const value = ID[token];
  assert.ok(value !== undefined, token);
  return value;
}

/** What the tiny model should give for these tokens under mean pooling: the normalised mean of their rows. */
function meanOf(tokens: readonly string[]): Float32Array {
  const sum = new Float32Array(HIDDEN);
  for (const t of tokens) tokenEmbedding(id(t)).forEach((x, i) => (sum[i] = (sum[i] ?? 0) + x));
  return normalize(sum.map((x) => x / tokens.length));
}

function assertClose(actual: Float32Array | undefined, expected: Float32Array, message?: string): void {
  assert.ok(actual !== undefined, message);
  assert.equal(actual.length, expected.length, message);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs((actual[i] ?? 0) - (expected[i] ?? 0)) < 1e-5, `${message ?? ''} [${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('ONNX embedder', () => {
  const TEXTS = [
    'The graph networks.',
    'Deep learning',
    'unbelievably playable protein folding models, in quantum field theory!',
    'a',
    'Café résumé (data)',
    '中 graph',
    '',
  ];

  test('mean pooling over the attention mask, normalised, matches the hand computation', async () => {
    const dir = modelDir();
    const e = await onnxEmbedder({ dir, batchSize: 8 });
    assert.equal(e.name, `onnx:${dir}`);
    assert.equal(e.dimensions, HIDDEN);
    assert.match(e.fingerprint, /^onnx:[0-9a-f]{16}$/);
    const [v, w] = await e.embed(['The graph networks.', 'Unbelievably, a café!'], 'document');
    assertClose(v, meanOf(['[CLS]', 'the', 'graph', 'network', '##s', '.', '[SEP]']));
    assertClose(w, meanOf(['[CLS]', 'un', '##believ', '##ably', ',', 'a', 'cafe', '!', '[SEP]']));
    for (const x of [v, w]) assert.ok(Math.abs(Math.hypot(...x!) - 1) < 1e-6);
  });

  test('CLS and max pooling as 1_Pooling/config.json says', async () => {
    const cls = await onnxEmbedder({ dir: modelDir({ pooling: 'cls' }), batchSize: 4 });
    const [c] = await cls.embed(['deep graph model'], 'document');
    assertClose(c, normalize(tokenEmbedding(id('[CLS]'))));
    const max = await onnxEmbedder({ dir: modelDir({ pooling: 'max' }), batchSize: 4 });
    const [m] = await max.embed(['deep graph'], 'document');
    const rows = ['[CLS]', 'deep', 'graph', '[SEP]'].map((t) => tokenEmbedding(id(t)));
    assertClose(m, normalize(Float32Array.from({ length: HIDDEN }, (_, i) => Math.max(...rows.map((r) => r[i] ?? 0)))));
  });

  test('batching and padding do not change the vectors, and order is kept', async () => {
    const dir = modelDir();
    const oneByOne = await onnxEmbedder({ dir, batchSize: 1 });
    const batched = await onnxEmbedder({ dir, batchSize: 3 });
    const single: Float32Array[] = [];
    for (const t of TEXTS) single.push(...(await oneByOne.embed([t], 'document')));
    const together = await batched.embed(TEXTS, 'document');
    assert.equal(together.length, TEXTS.length);
    TEXTS.forEach((t, i) => assertClose(together[i], single[i]!, t));
    const reversed = await batched.embed([...TEXTS].reverse(), 'document');
    TEXTS.forEach((t, i) => assertClose(reversed[TEXTS.length - 1 - i], single[i]!, t));
    // The padded rows of the tiny model are not zero, so a pooling that ignored the mask would differ here.
    const [short] = await (await onnxEmbedder({ dir, batchSize: 2 })).embed(['a', TEXTS[2]!], 'document');
    assertClose(short, meanOf(['[CLS]', 'a', '[SEP]']));
  });

  test('texts are truncated to the maximum length, special tokens kept', async () => {
    const e = await onnxEmbedder({ dir: modelDir({ maxLength: 4 }), batchSize: 4 });
    const [v] = await e.embed(['the graph network data'], 'document');
    assertClose(v, meanOf(['[CLS]', 'the', 'graph', '[SEP]']));
  });

  test('a model without token_type_ids, under onnx/, with no pooling config: mean pooling', async () => {
    const e = await onnxEmbedder({ dir: modelDir({ tokenTypes: false, inSubdir: true, pooling: 'none' }), batchSize: 4 });
    const [v] = await e.embed(['graph data'], 'query');
    assertClose(v, meanOf(['[CLS]', 'graph', 'data', '[SEP]']));
  });

  test('a pooled sentence_embedding output is used as it is', async () => {
    const e = await onnxEmbedder({ dir: modelDir({ sentenceEmbedding: true, pooling: 'cls' }), batchSize: 4 });
    assert.equal(e.dimensions, HIDDEN);
    const [v] = await e.embed(['deep model'], 'document');
    assertClose(v, meanOf(['[CLS]', 'deep', 'model', '[SEP]']));
  });

  test('a symbolic hidden size is found by embedding a probe text', async () => {
    const e = await onnxEmbedder({ dir: modelDir({ symbolicHidden: true }), batchSize: 4 });
    assert.equal(e.dimensions, HIDDEN);
  });

  test('paperboy.json prefixes mark queries and documents, and enter the fingerprint', async () => {
    const plain = await onnxEmbedder({ dir: modelDir(), batchSize: 4 });
    const e = await onnxEmbedder({ dir: modelDir({ paperboy: { queryPrefix: 'query: ', documentPrefix: 'passage: ' } }), batchSize: 4 });
    const [q] = await e.embed(['graph'], 'query');
    const [d] = await e.embed(['graph'], 'document');
    assertClose(q, meanOf(['[CLS]', 'query', ':', 'graph', '[SEP]']));
    assertClose(d, meanOf(['[CLS]', 'passage', ':', 'graph', '[SEP]']));
    assert.notEqual(e.fingerprint, plain.fingerprint);
  });

  test('include_prompt: false leaves [CLS] and the prefix out of the pooling, as sentence-transformers does', async () => {
    const e = await onnxEmbedder({ dir: modelDir({ includePrompt: false, paperboy: { queryPrefix: 'query: ' } }), batchSize: 4 });
    const [q] = await e.embed(['graph data'], 'query');
    assertClose(q, meanOf(['graph', 'data', '[SEP]']));
    const [d] = await e.embed(['graph data'], 'document');
    assertClose(d, meanOf(['[CLS]', 'graph', 'data', '[SEP]']));
  });

  test('the fingerprint follows the model bytes, not the directory', async () => {
    const a = await onnxEmbedder({ dir: modelDir(), batchSize: 4 });
    const b = await onnxEmbedder({ dir: modelDir(), batchSize: 16 });
    const c = await onnxEmbedder({ dir: modelDir({ seed: 99 }), batchSize: 4 });
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, c.fingerprint);
  });

  test('an aborted signal stops embedding', async () => {
    const e = await onnxEmbedder({ dir: modelDir(), batchSize: 1 });
    await assert.rejects(e.embed(['a', 'b'], 'document', AbortSignal.abort()), { name: 'AbortError' });
  });

  test('missing or malformed files are named in the error', async () => {
    const missing = join(root, 'nowhere');
    await assert.rejects(onnxEmbedder({ dir: missing, batchSize: 4 }), new RegExp(`ONNX model directory ${missing} does not exist`));
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    await assert.rejects(onnxEmbedder({ dir: file, batchSize: 4 }), /is not a directory/);

    const noModel = join(root, 'no-model');
    mkdirSync(noModel);
    writeFileSync(join(noModel, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson()));
    await assert.rejects(onnxEmbedder({ dir: noModel, batchSize: 4 }), /no ONNX model in .*no-model: expected .*model\.onnx or .*onnx\/model\.onnx/);

    const noTokenizer = join(root, 'no-tokenizer');
    mkdirSync(noTokenizer);
    writeFileSync(join(noTokenizer, 'model.onnx'), tinyModelBytes());
    await assert.rejects(onnxEmbedder({ dir: noTokenizer, batchSize: 4 }), /no tokenizer in .*no-tokenizer: expected .*tokenizer\.json/);

    const badJson = modelDir();
    writeFileSync(join(badJson, 'tokenizer.json'), '{"model": ');
    await assert.rejects(onnxEmbedder({ dir: badJson, batchSize: 4 }), new RegExp(`${badJson}/tokenizer\\.json is not valid JSON`));

    const badPooling = modelDir();
    writeFileSync(join(badPooling, '1_Pooling', 'config.json'), '{"pooling_mode_mean_tokens": "yes"}');
    await assert.rejects(onnxEmbedder({ dir: badPooling, batchSize: 4 }), /1_Pooling\/config\.json is malformed \(pooling_mode_mean_tokens/);

    const bpe = modelDir();
    writeFileSync(join(bpe, 'tokenizer.json'), JSON.stringify({ ...tinyTokenizerJson(), model: { type: 'BPE', vocab: {}, merges: [] } }));
    await assert.rejects(onnxEmbedder({ dir: bpe, batchSize: 4 }), /tokenizer\.json: the tokenizer model is BPE; only WordPiece/);

    const corrupt = modelDir();
    writeFileSync(join(corrupt, 'model.onnx'), 'not a model');
    await assert.rejects(onnxEmbedder({ dir: corrupt, batchSize: 4 }), new RegExp(`cannot load the ONNX model ${corrupt}/model\\.onnx`));

    const dense = modelDir({
      modules: [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
      ],
    });
    await assert.rejects(onnxEmbedder({ dir: dense, batchSize: 4 }), /modules\.json lists sentence_transformers\.models\.Dense \(2_Dense\), which .* does not contain/);
  });

  test('a Normalize module after pooling is accepted (vectors are unit length anyway)', async () => {
    const e = await onnxEmbedder({
      dir: modelDir({
        modules: [
          { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
          { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
          { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
        ],
      }),
      batchSize: 4,
    });
    assertClose((await e.embed(['graph'], 'document'))[0], meanOf(['[CLS]', 'graph', '[SEP]']));
  });
});

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: { model?: string; input: string[] };
}

type Handler = (request: Seen, response: ServerResponse, n: number) => void | Promise<void>;

/** A local stand-in for an embeddings server; `n` counts requests from 0 (the first is the dimensions probe). */
async function embeddingServer(handler: Handler): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const request: Seen = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Seen['body'] };
      seen.push(request);
      void handler(request, res, seen.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A vector that depends on the text, so a mix-up of order shows. */
const fakeVector = (text: string): number[] => [text.length + 1, [...text].reduce((s, c) => s + c.charCodeAt(0), 0) % 97, 2];

function answer(res: ServerResponse, input: readonly string[], options: { reverse?: boolean; status?: number } = {}): void {
  const data = input.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t) }));
  if (options.reverse) data.reverse();
  res.writeHead(options.status ?? 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const FAST = { retryBaseMs: 5 };

describe('OpenAI-compatible embedder', () => {
  test('probes the dimensions, sends the key and model, and names itself by URL', async () => {
    const s = await embeddingServer((r, res) => answer(res, r.body.input));
    try {
      const e = await openaiEmbedder({ url: s.url, model: 'm', apiKey: 'sk-secret', batchSize: 8, timeoutMs: 2_000 }, FAST);
      assert.equal(e.dimensions, 3);
      assert.equal(e.name, `openai:${s.url}`);
      assert.equal(e.fingerprint, `openai:${s.url}#m:3`);
      assert.equal(s.seen.length, 1);
      assert.equal(s.seen[0]?.path, '/v1/embeddings');
      assert.equal(s.seen[0]?.headers.authorization, 'Bearer sk-secret');
      assert.equal(s.seen[0]?.body.model, 'm');
      const [v] = await e.embed(['graph'], 'query');
      assertClose(v, normalize(Float32Array.from(fakeVector('graph'))));
    } finally {
      await s.close();
    }
  });

  test('a URL ending in /v1 is not doubled; no key, no header; no model, none sent', async () => {
    const s = await embeddingServer((r, res) => answer(res, r.body.input));
    try {
      const e = await openaiEmbedder({ url: `${s.url}/v1/`, batchSize: 8, timeoutMs: 2_000 }, FAST);
      assert.equal(s.seen[0]?.path, '/v1/embeddings');
      assert.equal(s.seen[0]?.headers.authorization, undefined);
      assert.equal('model' in (s.seen[0]?.body ?? {}), false);
      assert.equal(e.fingerprint, `openai:${s.url}/v1/#:3`);
    } finally {
      await s.close();
    }
    assert.equal(embeddingsEndpoint('http://h:1'), 'http://h:1/v1/embeddings');
    assert.equal(embeddingsEndpoint('http://h:1/v1'), 'http://h:1/v1/embeddings');
    assert.equal(embeddingsEndpoint('http://h:1/v1/embeddings'), 'http://h:1/v1/embeddings');
    assert.equal(embeddingsEndpoint('http://h:1/openai/v1/'), 'http://h:1/openai/v1/embeddings');
  });

  test('batches of batchSize, in order even when the server answers out of index order', async () => {
    const s = await embeddingServer((r, res) => answer(res, r.body.input, { reverse: true }));
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST);
      const texts = Array.from({ length: 10 }, (_, i) => `text number ${i} ${'x'.repeat(i)}`);
      const vectors = await e.embed(texts, 'document');
      assert.deepEqual(s.seen.slice(1).map((r) => r.body.input.length), [4, 4, 2]);
      assert.deepEqual(s.seen.slice(1).flatMap((r) => r.body.input), texts);
      texts.forEach((t, i) => assertClose(vectors[i], normalize(Float32Array.from(fakeVector(t))), t));
      for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
      assert.deepEqual(await e.embed([], 'document'), []);
      assert.equal(s.seen.length, 4);
    } finally {
      await s.close();
    }
  });

  test('retries after a 500', async () => {
    const s = await embeddingServer((r, res, n) => (n === 1 ? send(res, 500, { error: { message: 'busy' } }) : answer(res, r.body.input)));
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST);
      const [v] = await e.embed(['graph'], 'document');
      assertClose(v, normalize(Float32Array.from(fakeVector('graph'))));
      assert.equal(s.seen.length, 3);
    } finally {
      await s.close();
    }
  });

  test('after a 429 waits as long as Retry-After says', async () => {
    let rejectedAt = 0;
    let retriedAt = 0;
    const s = await embeddingServer((r, res, n) => {
      if (n === 1) {
        rejectedAt = Date.now();
        return send(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
      }
      if (n === 2) retriedAt = Date.now();
      return answer(res, r.body.input);
    });
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST);
      await e.embed(['graph'], 'document');
      assert.equal(s.seen.length, 3);
      assert.ok(retriedAt - rejectedAt >= 950, `retried after ${retriedAt - rejectedAt} ms`);
    } finally {
      await s.close();
    }
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs('soon'), null);
    assert.equal(retryAfterMs(null), null);
  });

  test('a request that times out is retried', async () => {
    const s = await embeddingServer((r, res, n) => {
      if (n === 1) return; // never answers; the client's timeout has to fire
      answer(res, r.body.input);
    });
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 200 }, FAST);
      const started = Date.now();
      await e.embed(['graph'], 'document');
      assert.equal(s.seen.length, 3);
      assert.ok(Date.now() - started < 1_500);
    } finally {
      await s.close();
    }
  });

  test('a 401 fails at once with the server message and without the key', async () => {
    const s = await embeddingServer((_r, res) => send(res, 401, { error: { message: 'Incorrect API key provided: sk-secret', type: 'invalid_request_error' } }));
    try {
      await assert.rejects(openaiEmbedder({ url: s.url, apiKey: 'sk-secret', batchSize: 4, timeoutMs: 2_000 }, FAST), (err: Error) => {
        assert.match(err.message, /answered 401 Unauthorized: Incorrect API key provided/);
        assert.doesNotMatch(err.message, /sk-secret/);
        return true;
      });
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
  });

  test('other 4xx are not retried', async () => {
    const s = await embeddingServer((_r, res) => send(res, 400, 'input too long'));
    try {
      await assert.rejects(openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST), /answered 400 Bad Request: input too long/);
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
  });

  test('gives up after the retries with the last error', async () => {
    const s = await embeddingServer((_r, res) => send(res, 503, { error: 'loading model' }));
    try {
      await assert.rejects(
        openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, { ...FAST, retries: 2 }),
        /failed 3 times; last: 503 Service Unavailable: loading model/,
      );
      assert.equal(s.seen.length, 3);
    } finally {
      await s.close();
    }
  });

  test('a server that is not there is retried, then reported', async () => {
    const s = await embeddingServer(() => undefined);
    const url = s.url;
    await s.close();
    await assert.rejects(openaiEmbedder({ url, batchSize: 4, timeoutMs: 2_000 }, { ...FAST, retries: 1 }), /failed 2 times; last: fetch failed/);
  });

  test("the caller's abort stops at once, without retries", async () => {
    const s = await embeddingServer((r, res, n) => (n === 0 ? answer(res, r.body.input) : undefined));
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 5_000 }, FAST);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      await assert.rejects(e.embed(['graph'], 'document', controller.signal), { name: 'AbortError' });
      assert.ok(Date.now() - started < 1_000);
      assert.equal(s.seen.length, 2);
    } finally {
      await s.close();
    }
  });

  test('malformed responses are rejected, not retried', async () => {
    const bodies: [string, unknown, RegExp][] = [
      ['not JSON', '<html>oops', /not JSON/],
      ['no data', { object: 'list' }, /data/],
      ['too few', { data: [{ index: 0, embedding: [1, 2, 3] }] }, /1 embeddings for 2 inputs/],
      ['repeated index', { data: [{ index: 0, embedding: [1, 2, 3] }, { index: 0, embedding: [1, 2, 3] }] }, /index 0 appears twice/],
      ['index out of range', { data: [{ index: 0, embedding: [1, 2, 3] }, { index: 5, embedding: [1, 2, 3] }] }, /index 5 out of range/],
      ['uneven lengths', { data: [{ index: 0, embedding: [1, 2, 3] }, { index: 1, embedding: [1, 2] }] }, /2 numbers, expected 3/],
      ['strings', { data: [{ index: 0, embedding: ['1', 2, 3] }, { index: 1, embedding: [1, 2, 3] }] }, /data\.0\.embedding\.0/],
      ['overflow', { data: [{ index: 0, embedding: [1e39, 2, 3] }, { index: 1, embedding: [1, 2, 3] }] }, /not finite/],
      ['wrong width', { data: [{ index: 0, embedding: [1, 2, 3, 4] }, { index: 1, embedding: [1, 2, 3, 4] }] }, /4 numbers, expected 3/],
    ];
    for (const [name, body, pattern] of bodies) {
      const s = await embeddingServer((r, res, n) => (n === 0 ? answer(res, r.body.input) : send(res, 200, body)));
      try {
        const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST);
        await assert.rejects(e.embed(['a', 'b'], 'document'), (err: Error) => {
          assert.match(err.message, /sent a malformed response/, name);
          assert.match(err.message, pattern, name);
          return true;
        });
        assert.equal(s.seen.length, 2, name);
      } finally {
        await s.close();
      }
    }
  });

  test('embeddings without index are taken in array order', async () => {
    const s = await embeddingServer((r, res) => send(res, 200, { data: r.body.input.map((t) => ({ embedding: fakeVector(t) })) }));
    try {
      const e = await openaiEmbedder({ url: s.url, batchSize: 4, timeoutMs: 2_000 }, FAST);
      const [a, b] = await e.embed(['one', 'three'], 'document');
      assertClose(a, normalize(Float32Array.from(fakeVector('one'))));
      assertClose(b, normalize(Float32Array.from(fakeVector('three'))));
    } finally {
      await s.close();
    }
  });
});

const shared = sharedData();
const KAGGLE = join(shared.dir, 'arxiv', 'kaggle-jsonl');

/** Embeds the imported records with the app's EMBEDDER and checks what the instance then has and answers. */
async function embedInstance(env: Record<string, string>, expectedName: string): Promise<void> {
  const t = await emptyApp(env);
  try {
    const { database } = t.ctx;
    await importPaths(database, [KAGGLE]);
    const result = await embedAll(t.ctx);
    const model = await activeModel(database);
    assert.ok(model !== null, result.planned);
    assert.equal(model.embedder, expectedName);
    const coverage = await vectorCoverage(database, model.id);
    assert.ok(coverage.papers >= 100);
    assert.equal(coverage.vectors, coverage.papers);
    const [stored] = await readVectors(database, model.id, [1]);
    assert.ok(Math.abs(Math.hypot(...(stored?.vector ?? [])) - 1) < 1e-3);
    assert.equal((await t.app.inject({ url: '/api/papers/0704.0001/similar?limit=3' })).statusCode, 200);
    const search = await t.app.inject({ url: '/api/papers/search?q=photon%20pairs&mode=semantic&limit=5' });
    assert.equal(search.statusCode, 200, search.body);
    assert.equal(search.headers['x-search-mode'], 'semantic');
    assert.equal(search.json<unknown[]>().length, 5);
  } finally {
    await t.close();
  }
}

describe('external embedders in an instance', { skip: shared.skip }, () => {
  test('EMBEDDER=onnx:<dir> embeds every paper and answers semantic search', async () => {
    const dir = modelDir();
    await embedInstance({ EMBEDDER: `onnx:${dir}`, EMBEDDER_BATCH_SIZE: '16' }, `onnx:${dir}`);
  });

  test('EMBEDDER=openai:<url> batches the papers and embeds the query on the server', async () => {
    // Hashed bag of words: texts that share words get close vectors.
    const vector = (text: string): number[] => {
      const v = new Array<number>(16).fill(0.01);
      for (const w of text.toLowerCase().split(/\W+/).filter(Boolean)) v[[...w].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 16, 7)]! += 1;
      return v;
    };
    const s = await embeddingServer((r, res) => send(res, 200, { data: r.body.input.map((t, index) => ({ index, embedding: vector(t) })) }));
    try {
      await embedInstance({ EMBEDDER: `openai:${s.url}`, EMBEDDER_MODEL: 'm', EMBEDDER_API_KEY: 'k', EMBEDDER_BATCH_SIZE: '32' }, `openai:${s.url}`);
      assert.ok(s.seen.every((r) => r.headers.authorization === 'Bearer k' && r.body.model === 'm'));
      assert.ok(s.seen.every((r) => r.body.input.length <= 32));
      assert.ok(s.seen.some((r) => r.body.input.length === 1 && r.body.input[0] === 'photon pairs'), 'the query went to the server');
    } finally {
      await s.close();
    }
  });
});
