import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli, tempDataDir } from './support/cli.js';

const CORPUS = [
  { _id: 'd1', title: 'Graph neural networks for molecules', text: 'We predict molecular properties with message passing.' },
  { _id: 'd2', title: 'Protein folding', text: 'Deep learning predicts protein structure from sequence.' },
  { _id: '42', title: '', text: 'Vitamin D supplementation reduces fracture risk in elderly women. More text follows here.' },
  { _id: 'd4', title: 'Unrelated', text: 'Nothing about the queries at all.' },
];
const QUERIES = [
  { _id: 'q1', text: 'What is the role of graph neural networks?' },
  { _id: 'q2', text: 'Does vitamin D reduce fractures?' },
  { _id: 'q3', text: 'the of and' },
];

function writeInputs(dir: string): { corpus: string; queries: string } {
  const corpus = join(dir, 'corpus.jsonl');
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(corpus, CORPUS.map((d) => JSON.stringify(d)).join('\n') + '\n');
  writeFileSync(queries, QUERIES.map((q) => JSON.stringify(q)).join('\n') + '\n');
  return { corpus, queries };
}

const searchRunTemps = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('paperboy-search-run-'));

test('search-run writes a valid TREC run with BEIR ids and removes its index', async () => {
  const dir = tempDataDir();
  const { corpus, queries } = writeInputs(dir);
  const out = join(dir, 'run.trec');
  const before = new Set(searchRunTemps());
  const r = await runCli(['search-run', '--corpus', corpus, '--queries', queries, '--out', out, '--k', '3', '--tag', 't1']);
  assert.equal(r.code, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  const rows = lines.map((l) => l.split(' '));
  for (const row of rows) {
    assert.equal(row.length, 6);
    assert.equal(row[1], 'Q0');
    assert.equal(row[5], 't1');
    assert.ok(Number.isFinite(Number(row[4])));
  }
  const q1 = rows.filter((row) => row[0] === 'q1');
  assert.equal(q1[0]?.[2], 'd1');
  assert.deepEqual(q1.map((row) => row[3]), q1.map((_, i) => String(i + 1)));
  const scores = q1.map((row) => Number(row[4]));
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'scores descend with rank');
  assert.equal(rows.find((row) => row[0] === 'q2')?.[2], '42', 'docid is the BEIR _id without beir:');
  assert.equal(rows.filter((row) => row[0] === 'q3').length, 0, 'a stop-word-only query has no results');
  assert.ok(rows.length <= 3 * QUERIES.length);
  assert.deepEqual(searchRunTemps().filter((n) => !before.has(n)), [], 'the throwaway index is removed');
});

test('search-run validates its arguments (exit 2)', async () => {
  const dir = tempDataDir();
  const { corpus, queries } = writeInputs(dir);
  const out = join(dir, 'run.trec');
  const cases = [
    ['--corpus', join(dir, 'missing.jsonl'), '--queries', queries, '--out', out],
    ['--corpus', corpus, '--queries', join(dir, 'missing.jsonl'), '--out', out],
    ['--corpus', corpus, '--queries', queries],
    ['--corpus', corpus, '--queries', queries, '--out', out, '--mode', 'meaning'],
    ['--corpus', corpus, '--queries', queries, '--out', out, '--k', 'x'],
    ['--corpus', corpus, '--queries', queries, '--out', out, '--mode', 'hybrid', '--semantic-weight', '-1'],
    ['--corpus', corpus, '--queries', queries, '--out', out, '--mode', 'hybrid', '--feedback-temperature', 'many'],
    ['--corpus', corpus, '--queries', queries, '--out', out, '--mode', 'semantic', '--dimensions', '2'],
  ];
  const results = await Promise.all(cases.map((args) => runCli(['search-run', ...args])));
  results.forEach((r, i) => assert.equal(r.code, 2, `case ${i}: ${r.stderr}`));
  assert.match(results[3]?.stderr ?? '', /--mode/);
  assert.match(results[5]?.stderr ?? '', /--semanticWeight: .*>=0/i);
  assert.match(results[6]?.stderr ?? '', /--feedbackTemperature/);
  assert.match(results[7]?.stderr ?? '', /--dimensions/);
  assert.equal(existsSync(out), false);
});

test('search-run ranks by meaning (semantic) and fuses both rankings (hybrid)', async () => {
  const dir = tempDataDir();
  const { corpus, queries } = writeInputs(dir);
  for (const mode of ['semantic', 'hybrid']) {
    const out = join(dir, `${mode}.trec`);
    const r = await runCli(['search-run', '--corpus', corpus, '--queries', queries, '--out', out, '--k', '4', '--mode', mode, '--dimensions', '8']);
    assert.equal(r.code, 0, r.stderr);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => l.split(' '));
    for (const row of rows) {
      assert.equal(row.length, 6);
      assert.ok(Number.isFinite(Number(row[4])), row.join(' '));
    }
    for (const qid of ['q1', 'q2']) {
      const ranked = rows.filter((row) => row[0] === qid);
      assert.ok(ranked.length > 0 && ranked.length <= 4, `${mode} ${qid}`);
      assert.deepEqual(ranked.map((row) => row[3]), ranked.map((_, i) => String(i + 1)));
      assert.equal(new Set(ranked.map((row) => row[2])).size, ranked.length, 'each document once');
    }
    assert.equal(rows.find((row) => row[0] === 'q1')?.[2], 'd1', `${mode}: graph neural networks first`);
    assert.equal(rows.find((row) => row[0] === 'q2')?.[2], '42', `${mode}: vitamin D first`);
    assert.equal(rows.filter((row) => row[0] === 'q3').length, 0, `${mode}: a stop-word-only query finds nothing`);
  }
});

test('the eval scorer gives the hand-computed nDCG@10 and Recall@100', () => {
  const dir = tempDataDir();
  const run = join(dir, 'run.trec');
  const qrels = join(dir, 'qrels.tsv');
  writeFileSync(run, ['q1 Q0 d3 1 9.0 t', 'q1 Q0 d2 2 8.0 t', 'q1 Q0 d1 3 7.0 t', 'q2 Q0 d4 1 3.5 t', 'qx Q0 d9 1 1 t'].join('\n'));
  writeFileSync(qrels, ['query-id\tcorpus-id\tscore', 'q1\td1\t1', 'q1\td2\t2', 'q2\td4\t1', 'q3\td5\t1', 'q4\td6\t0'].join('\n'));
  const r = spawnSync(process.execPath, [resolve('scripts/eval.js'), '--run', run, '--qrels', qrels, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { queries: number; ndcg10: number; recall100: number };
  // q1: DCG = 2/log2(3) + 1/log2(4), ideal = 2/log2(2) + 1/log2(3); q2: 1; q3: nothing retrieved, 0; q4: no relevant doc, not counted.
  const q1 = (2 / Math.log2(3) + 1 / 2) / (2 + 1 / Math.log2(3));
  assert.equal(result.queries, 3);
  assert.ok(Math.abs(result.ndcg10 - (q1 + 1 + 0) / 3) < 1e-12, String(result.ndcg10));
  assert.ok(Math.abs(result.recall100 - 2 / 3) < 1e-12, String(result.recall100));
});
