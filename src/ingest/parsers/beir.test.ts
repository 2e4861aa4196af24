import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ParseItem, RawPaper } from '../record.js';
import { MAX_DERIVED_TITLE, firstSentence, parseBeirCorpus } from './beir.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText } from '../../../test/support/parsing.js';

const { dir: SHARED, skip } = sharedData();
const CORPUS = `${SHARED}/beir-scifact/corpus.jsonl.gz`;


const parse = (text: string, size?: number): Promise<ParseItem[]> => parseText(parseBeirCorpus, text, size);

const paper = (it: ParseItem | undefined): RawPaper => {
  assert.equal(it?.kind, 'paper', JSON.stringify(it));
  return (it as { paper: RawPaper }).paper;
};

test('SciFact corpus: 5,183 papers with beir: ids, titles, abstracts, no authors', { skip }, async () => {
  const items = await parse(gunzipSync(readFileSync(CORPUS)).toString('utf8'));
  assert.equal(items.length, 5183);
  const ps = items.map(paper);
  assert.equal(new Set(ps.map((p) => p.id)).size, 5183);
  assert.ok(ps.every((p) => p.id.startsWith('beir:') && p.title && p.abstract && p.authors === null && p.categories === null));

  assert.deepEqual(
    { ...ps[0], abstract: ps[0]?.abstract?.slice(0, 60) },
    {
      id: 'beir:4983',
      title:
        'Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor magnetic resonance imaging.',
      abstract: 'Alterations of the architecture of cerebral white matter in ',
      authors: null,
      categories: null,
    },
  );
  assert.equal(ps[1]?.id, 'beir:5836');
  assert.equal(ps[1]?.title, 'Induction of myelodysplasia by myeloid-derived suppressor cells.');
  assert.equal(ps[1]?.abstract?.length, 1589);
  assert.ok(ps[1]?.abstract?.endsWith('hematopoiesis and contributes to the development of MDS.'));
  assert.equal(ps[5182]?.id, 'beir:198309074');
  assert.equal(
    ps[5182]?.title,
    'Adhesion molecules and chemokines: relation to anthropometric, body composition, biochemical and dietary variables',
  );
  assert.equal(items[5182]?.at.line, 5183);
});

test('an empty title becomes the first sentence of the text', async () => {
  const long = 'word '.repeat(100).trim() + '. Second.';
  const items = await parse(
    [
      '{"_id":"1","title":"","text":"First sentence here. Second one."}',
      '{"_id":2,"text":"No full stop at all"}',
      `{"_id":"3","title":"  ","text":"${long}"}`,
      '{"_id":"4","title":"","text":"e.g. 3.5 mg/kg was given. Then more."}',
    ].join('\n'),
  );
  assert.equal(paper(items[0]).title, 'First sentence here.');
  assert.equal(paper(items[0]).abstract, 'First sentence here. Second one.');
  assert.equal(paper(items[1]).id, 'beir:2');
  assert.equal(paper(items[1]).title, 'No full stop at all');
  const t3 = paper(items[2]).title ?? '';
  assert.ok(t3.length <= MAX_DERIVED_TITLE && t3.endsWith('…') && t3.startsWith('word word'));
  assert.equal(paper(items[3]).title, 'e.g. 3.5 mg/kg was given.');
  assert.equal(firstSentence('  A short  first sentence.\nC.'), 'A short first sentence.');
  assert.equal(firstSentence('Short. And then a longer one follows here.'), 'Short. And then a longer one follows here.');
});

test('malformed lines are errors; parsing goes on', async () => {
  const items = await parse(
    ['{"title":"x","text":"y"}', '{"_id":"1","title":3,"text":"y"}', '{"_id":"2","title":"","text":""}', 'nope', '{"_id":"5","title":"ok","text":""}'].join(
      '\n',
    ),
  );
  assert.deepEqual(
    items.map((it) => [it.kind, it.at.line]),
    [
      ['error', 1],
      ['error', 2],
      ['error', 3],
      ['error', 4],
      ['paper', 5],
    ],
  );
  assert.match((items[0] as { reason: string }).reason, /^_id:/);
  assert.match((items[1] as { reason: string }).reason, /^title:/);
  assert.match((items[2] as { reason: string }).reason, /no title and no text/);
  assert.deepEqual(paper(items[4]), { id: 'beir:5', title: 'ok', abstract: null, authors: null, categories: null });
});

test('1-byte chunks give the same items', { skip }, async () => {
  const text = gunzipSync(readFileSync(CORPUS)).toString('utf8').split('\n').slice(0, 30).join('\n');
  assert.deepEqual(await parse(text, 1), await parse(text));
});
