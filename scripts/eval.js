// Scores a TREC run against BEIR qrels: nDCG@10 and Recall@100, averaged over
// the queries that have relevant documents. Without --run it first builds a run
// for the SciFact train split with `paperboy search-run` (needs `npm run build`).
// Usage: npm run eval -- [--run RUN.trec] [--qrels FILE] [--json] [--all] [search-run options, e.g. --mode hybrid,
// --weights 2,1,1, --semantic-weight 0.2]. --all scores keyword, semantic and hybrid one after another (a table).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Parses BEIR qrels TSV (`query-id corpus-id score`, header optional) into qid → docid → relevance. */
export function parseQrels(text) {
  const qrels = new Map();
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 3 || cols[0] === 'query-id') continue;
    const rel = Number(cols[2]);
    if (!Number.isFinite(rel)) continue;
    if (!qrels.has(cols[0])) qrels.set(cols[0], new Map());
    qrels.get(cols[0]).set(cols[1], rel);
  }
  return qrels;
}

/** Parses a TREC run (`qid Q0 docid rank score tag`) into qid → docids ordered by score, then rank. */
export function parseRun(text) {
  const byQuery = new Map();
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    if (!byQuery.has(cols[0])) byQuery.set(cols[0], []);
    byQuery.get(cols[0]).push({ doc: cols[2], rank: Number(cols[3]), score: Number(cols[4]) });
  }
  const run = new Map();
  for (const [qid, rows] of byQuery) {
    rows.sort((a, b) => b.score - a.score || a.rank - b.rank);
    run.set(qid, rows.map((r) => r.doc));
  }
  return run;
}

/** nDCG@k (gain = relevance, log2 discount, ideal from the qrels) and Recall@r, averaged over judged queries. */
export function score(run, qrels, k = 10, r = 100) {
  let ndcgSum = 0;
  let recallSum = 0;
  let n = 0;
  for (const [qid, rels] of qrels) {
    const relevant = [...rels.values()].filter((v) => v > 0);
    if (relevant.length === 0) continue;
    n++;
    const docs = run.get(qid) ?? [];
    let dcg = 0;
    docs.slice(0, k).forEach((d, i) => (dcg += (rels.get(d) ?? 0) / Math.log2(i + 2)));
    let idcg = 0;
    relevant
      .sort((a, b) => b - a)
      .slice(0, k)
      .forEach((g, i) => (idcg += g / Math.log2(i + 2)));
    ndcgSum += idcg > 0 ? dcg / idcg : 0;
    recallSum += docs.slice(0, r).filter((d) => (rels.get(d) ?? 0) > 0).length / relevant.length;
  }
  return { queries: n, ndcg10: n > 0 ? ndcgSum / n : 0, recall100: n > 0 ? recallSum / n : 0 };
}

function main(argv) {
  const shared = resolve(process.env.PAPERBOY_SHARED_DATA ?? '../shared/data');
  let runFile;
  let qrelsFile = join(shared, 'beir-scifact/qrels/train.tsv');
  let json = false;
  let all = false;
  const passThrough = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--run') runFile = argv[++i];
    else if (argv[i] === '--qrels') qrelsFile = argv[++i];
    else if (argv[i] === '--json') json = true;
    else if (argv[i] === '--all') all = true;
    else passThrough.push(argv[i]);
  }
  if (all) {
    if (runFile !== undefined || passThrough.includes('--mode')) {
      console.error('eval: --all runs every mode itself: no --run or --mode with it');
      return 2;
    }
    const rows = [];
    for (const mode of ['keyword', 'semantic', 'hybrid']) {
      const res = spawnSync(process.execPath, [process.argv[1], '--json', '--qrels', qrelsFile, '--mode', mode, ...passThrough], {
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      });
      if (res.status !== 0) return res.status ?? 1;
      rows.push({ mode, ...JSON.parse(res.stdout) });
    }
    if (json) console.log(JSON.stringify(rows));
    else {
      console.log('| mode | nDCG@10 | Recall@100 |\n|---|---|---|');
      for (const r of rows) console.log(`| ${r.mode} | ${r.ndcg10.toFixed(4)} | ${r.recall100.toFixed(4)} |`);
      console.log(`(${rows[0].queries} queries with qrels)`);
    }
    return 0;
  }
  let tmp;
  try {
    if (runFile === undefined) {
      tmp = mkdtempSync(join(tmpdir(), 'paperboy-eval-'));
      runFile = join(tmp, 'run.trec');
      const args = [
        'bin/paperboy.js', 'search-run',
        '--corpus', join(shared, 'beir-scifact/corpus.jsonl.gz'),
        '--queries', join(shared, 'beir-scifact/queries-train.jsonl'),
        '--out', runFile, '--k', '100', ...passThrough,
      ];
      const started = Date.now();
      const res = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      if (res.status !== 0) {
        console.error(`eval: search-run failed (exit ${res.status})`);
        return res.status ?? 1;
      }
      if (!json) console.log(`search-run took ${((Date.now() - started) / 1000).toFixed(1)}s`);
    } else if (passThrough.length > 0) {
      console.error(`eval: unknown arguments with --run: ${passThrough.join(' ')}`);
      return 2;
    }
    let runText;
    let qrelsText;
    try {
      runText = readFileSync(runFile, 'utf8');
      qrelsText = readFileSync(qrelsFile, 'utf8');
    } catch (err) {
      console.error(`eval: ${err.message}`);
      return 2;
    }
    const result = score(parseRun(runText), parseQrels(qrelsText));
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(`queries with qrels: ${result.queries}`);
      console.log(`nDCG@10:    ${result.ndcg10.toFixed(4)}`);
      console.log(`Recall@100: ${result.recall100.toFixed(4)}`);
    }
    return 0;
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
