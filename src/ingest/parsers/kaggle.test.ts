import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ParseItem, RawPaper } from '../record.js';
import { parseKaggle } from './kaggle.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText } from '../../../test/support/parsing.js';

const { dir: SHARED, skip } = sharedData();
const HEAD200 = `${SHARED}/arxiv/kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl`;


const parse = (text: string, size?: number): Promise<ParseItem[]> => parseText(parseKaggle, text, size);

function papers(items: ParseItem[]): Map<string, RawPaper> {
  const m = new Map<string, RawPaper>();
  for (const it of items) if (it.kind === 'paper') m.set(it.paper.id, it.paper);
  return m;
}

test('Kaggle head200: 200 papers, no errors, line numbers 1..200', { skip }, async () => {
  const items = await parse(readFileSync(HEAD200, 'utf8'));
  assert.equal(items.length, 200);
  assert.ok(items.every((it) => it.kind === 'paper'));
  assert.deepEqual(
    items.map((it) => it.at.line),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
});

test('Kaggle head200: sampled records as the file has them', { skip }, async () => {
  const p = papers(await parse(readFileSync(HEAD200, 'utf8')));
  assert.deepEqual(p.get('0704.0001'), {
    id: '0704.0001',
    title: 'Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies',
    abstract: p.get('0704.0001')?.abstract,
    authors: { kind: 'text', value: "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan" },
    categories: ['hep-ph'],
    comments: '37 pages, 15 figures; published version',
    journalRef: 'Phys.Rev.D76:013009,2007',
    doi: '10.1103/PhysRevD.76.013009',
    reportNo: 'ANL-HEP-PR-07-12',
    license: null,
    submitter: 'Pavel Nadolsky',
    versions: [
      { version: 1, submittedAt: '2007-04-02T19:18:42.000Z' },
      { version: 2, submittedAt: '2007-07-24T20:10:27.000Z' },
    ],
    updatedAt: '2008-11-26',
  });
  const a1 = p.get('0704.0001')?.abstract ?? '';
  assert.ok(a1.startsWith('A fully differential calculation in perturbative quantum chromodynamics is\npresented'));
  assert.ok(a1.endsWith('selection of events.'), 'trimmed at both ends');

  const p2 = p.get('0704.0002');
  assert.equal(p2?.title, 'Sparsity-certifying Graph Decompositions');
  assert.deepEqual(p2?.authors, { kind: 'text', value: 'Ileana Streinu and Louis Theran' });
  assert.deepEqual(p2?.categories, ['math.CO', 'cs.CG']);
  assert.equal(p2?.license, 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/');
  assert.equal(p2?.journalRef, null);
  assert.equal(p2?.doi, null);
  assert.equal(p2?.updatedAt, '2008-12-13');
  assert.deepEqual(p2?.versions, [
    { version: 1, submittedAt: '2007-03-31T02:26:18.000Z' },
    { version: 2, submittedAt: '2008-12-13T17:26:00.000Z' },
  ]);

  // Two DOIs in one field and a two-line journal ref: kept exactly as found.
  const p33 = p.get('0704.0033');
  assert.equal(p33?.doi, '10.1364/JOSAA.23.002578 10.1364/JOSAA.32.002407');
  assert.equal(p33?.journalRef, 'J.Opt.Soc.Am.A 23, 2578-2591 (2006); Erratum: J.Opt.Soc.Am.A 32,\n  2407-2408 (2015)');
  assert.deepEqual(p33?.categories, ['physics.optics', 'physics.comp-ph']);
  assert.equal(p33?.submitter, 'Maxim A. Yurkin');

  const p100 = p.get('0704.0100');
  assert.equal(p100?.title, 'Topology Change of Black Holes');
  assert.equal(p100?.doi, '10.1143/PTP.118.715');
  assert.equal(p100?.journalRef, 'Prog.Theor.Phys.118:715-727,2007');
  assert.deepEqual(
    p100?.versions?.map((v) => v.submittedAt),
    ['2007-04-02T10:11:53.000Z', '2007-04-02T22:21:01.000Z', '2007-10-31T15:14:41.000Z'],
  );

  // Affiliations live in the free-text authors; authors_parsed would drop them.
  const a25 = p.get('0704.0025')?.authors;
  assert.ok(a25?.kind === 'text' && a25.value.includes('(3) The University of Tokyo)'));
});

test('Kaggle: 1-byte chunks give the same items as the whole file', { skip }, async () => {
  const text = readFileSync(HEAD200, 'utf8').split('\n').slice(0, 40).join('\r\n');
  assert.deepEqual(await parse(text, 1), await parse(text, text.length));
});

test('Kaggle: bad lines become errors naming the field, and parsing goes on', async () => {
  const good = JSON.stringify({
    id: '0704.0001',
    title: 'T',
    authors: 'A',
    versions: [{ version: 'v1', created: 'Mon, 2 Apr 2007 19:18:42 GMT' }],
    update_date: '2008-11-26',
  });
  const lines = [
    good,
    '{"id":"x1","versions":"v1"}',
    '{"id":"x2","categories":["a"]}',
    '{"id":"x3","versions":[{"version":"one","created":"Mon, 2 Apr 2007 19:18:42 GMT"}]}',
    '{"id":"x4","versions":[{"version":"v1","created":"yesterday"}]}',
    '{"title":"no id"}',
    '[1,2]',
    '{"id":"x5","update_date":"26/11/2008"}',
    '{broken',
    '',
    good,
  ];
  const items = await parse(lines.join('\n'));
  assert.deepEqual(
    items.map((it) => [it.kind, it.at.line]),
    [
      ['paper', 1],
      ['error', 2],
      ['error', 3],
      ['error', 4],
      ['error', 5],
      ['error', 6],
      ['error', 7],
      ['error', 8],
      ['error', 9],
      ['paper', 11],
    ],
  );
  const reasons = items.filter((it) => it.kind === 'error').map((it) => (it.kind === 'error' ? it.reason : ''));
  assert.match(reasons[0] ?? '', /^versions:/);
  assert.match(reasons[1] ?? '', /^categories:/);
  assert.match(reasons[2] ?? '', /^versions\.0\.version:/);
  assert.match(reasons[3] ?? '', /^versions\.0\.created: unparseable date "yesterday"/);
  assert.match(reasons[4] ?? '', /^id:/);
  assert.match(reasons[5] ?? '', /^record:/);
  assert.match(reasons[6] ?? '', /^update_date:/);
  assert.match(reasons[7] ?? '', /^invalid JSON/);
});

test('Kaggle: absent fields are null, not guesses', async () => {
  const [item] = await parse('{"id":"0704.0001"}\n');
  assert.deepEqual(item, {
    kind: 'paper',
    at: { line: 1 },
    paper: {
      id: '0704.0001',
      title: null,
      abstract: null,
      authors: null,
      categories: null,
      comments: null,
      journalRef: null,
      doi: null,
      reportNo: null,
      license: null,
      submitter: null,
      versions: null,
      updatedAt: null,
    },
  });
});
