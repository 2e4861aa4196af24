// Offline evaluation of For you's ranking on the shared arXiv data (src/personal/evaluate.ts):
// imports ../shared/data/arxiv into a temporary SQLite database, keeps papers with an
// abstract, and compares centroid, max-sim, their blend, a linear model over TF-IDF and
// MMR on synthetic users. Needs `npm run build`.
// Usage: node scripts/eval-for-you.js [--users N] [--seed S] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const shared = resolve(process.env.PAPERBOY_SHARED_DATA ?? '../shared/data');
const dir = mkdtempSync(join(tmpdir(), 'paperboy-eval-for-you-'));
const { openDatabase } = await import('../dist/src/db/connection.js');
const { migrate } = await import('../dist/src/db/migrate.js');
const { importPaths } = await import('../dist/src/ingest/import.js');
const { evaluateForYou } = await import('../dist/src/personal/evaluate.js');
const database = openDatabase({ engine: 'sqlite', file: join(dir, 'eval.db') }, { dataDir: dir });
try {
  await migrate(database);
  await importPaths(database, [join(shared, 'arxiv')]);
  const rows = await database.db.selectFrom('papers').select(['id', 'title_text', 'abstract', 'abstract_text', 'primary_category']).execute();
  const papers = rows
    .map((r) => ({ id: r.id, title: r.title_text, abstract: r.abstract_text ?? r.abstract, category: r.primary_category ?? '' }))
    .filter((p) => p.abstract.length >= 200 && p.category !== '');
  const started = performance.now();
  const result = await evaluateForYou(papers, { users: option('--users', 200), liked: 8, heldOut: 5, seed: option('--seed', 11) });
  if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`For you offline evaluation: ${result.corpus} papers, ${result.categories} primary categories, ${option('--users', 200)} synthetic users (half with two interests), 8 liked + 5 held out per interest; ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log('| method | hit@20 | recall@20 | precision@20 (liked categories) | redundancy@20 (mean cosine) |');
    console.log('|---|---|---|---|---|');
    for (const r of result.rows) console.log(`| ${r.method} | ${r.hit20.toFixed(3)} | ${r.recall20.toFixed(3)} | ${r.precision20.toFixed(3)} | ${r.redundancy20.toFixed(3)} |`);
  }
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
