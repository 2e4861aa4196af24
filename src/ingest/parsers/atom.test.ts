import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseItem, RawPaper } from '../record.js';
import { parseAtom, readAtomPage } from './atom.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText, xmlFiles } from '../../../test/support/parsing.js';

const { dir: SHARED, skip: skipShared } = sharedData();

const DIR_2016 = join(SHARED, 'arxiv/api-atom/arxiv.py-2016');
const DIR_2026 = join(SHARED, 'arxiv/api-atom/arxiv.py-2026/xml');


const parseString = (xml: string): Promise<ParseItem[]> => parseText(parseAtom, xml, xml.length);

async function parseFile(path: string): Promise<ParseItem[]> {
  return parseString(readFileSync(path, 'utf8'));
}

function papers(items: ParseItem[]): RawPaper[] {
  return items.flatMap((it) => (it.kind === 'paper' ? [it.paper] : []));
}

async function paperById(path: string, id: string): Promise<RawPaper> {
  const found = papers(await parseFile(path)).find((p) => p.id === id);
  assert.ok(found, `${id} not found in ${path}`);
  return found;
}

test('every shared Atom file parses: one paper per <entry>, no unexpected errors', { skip: skipShared }, async () => {
  const files = [...xmlFiles(DIR_2016), ...xmlFiles(DIR_2026)];
  assert.equal(files.length, 25);
  let total = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const entries = text.match(/<entry>/g)?.length ?? 0;
    const errorEntries = text.match(/<id>https?:\/\/arxiv\.org\/api\/errors/g)?.length ?? 0;
    const items = await parseFile(file);
    assert.equal(papers(items).length, entries - errorEntries, file);
    assert.equal(items.filter((i) => i.kind === 'error').length, errorEntries, file);
    if (entries === 0) assert.deepEqual(items.map((i) => i.kind), ['skip'], file);
    for (const p of papers(items)) {
      assert.ok(p.title && p.abstract && p.authors && p.categories && p.versions, `${file} ${p.id} incomplete`);
      assert.equal(p.categories[0], p.primaryCategory, `${p.id}: primary category first`);
    }
    total += papers(items).length;
  }
  // 221 papers in the 2026 layout (plus the error entry) and 24 in 2016.
  assert.equal(total, 221 + 24);
});

test('2016 layout: 1111.2011v2 has every field, versions from published and updated', { skip: skipShared }, async () => {
  const items = await parseFile(join(DIR_2016, 'id_list=1111.2011v2.xml'));
  assert.equal(items.length, 1);
  assert.deepEqual(items[0]?.at, { record: 1, line: 10 });
  const p = await paperById(join(DIR_2016, 'id_list=1111.2011v2.xml'), 'http://arxiv.org/abs/1111.2011v2');
  assert.equal(p.title, 'Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large\n  Connectivity Limit');
  assert.ok(p.abstract?.startsWith('Theoretical description of anisotropic systems, such as layered\nsuperconductors'));
  assert.ok(p.abstract?.endsWith('describing a single node.'));
  assert.deepEqual(p.authors, {
    kind: 'names',
    names: [{ name: 'James M. Murray' }, { name: 'Adrian Del Maestro' }, { name: 'Zlatko Tesanovic' }],
  });
  assert.deepEqual(p.categories, ['cond-mat.str-el', 'cond-mat.stat-mech']);
  assert.equal(p.primaryCategory, 'cond-mat.str-el');
  assert.equal(p.comments, '8 pages, 3 figures. Published version');
  assert.equal(p.journalRef, 'Phys. Rev. B 85, 115117 (2012)');
  assert.equal(p.doi, '10.1103/PhysRevB.85.115117');
  assert.equal(p.version, 2);
  assert.deepEqual(p.versions, [
    { version: 1, submittedAt: '2011-11-08T18:48:36.000Z' },
    { version: 2, submittedAt: '2012-04-02T12:38:54.000Z' },
  ]);
  assert.equal(p.publishedAt, '2011-11-08T18:48:36.000Z');
  assert.equal(p.updatedAt, '2012-04-02T12:38:54.000Z');
});

test('2016 layout: old-style id cond-mat/0607501v2 keeps its URL form', { skip: skipShared }, async () => {
  const p = await paperById(
    join(DIR_2016, 'search_query=au_del_maestro+AND+ti__quantum+criticality_.xml'),
    'http://arxiv.org/abs/cond-mat/0607501v2',
  );
  assert.equal(p.title, 'A striped supersolid phase and the search for deconfined quantum\n  criticality in hard-core bosons on the triangular lattice');
  assert.deepEqual(p.authors, { kind: 'names', names: [{ name: 'R. G. Melko' }, { name: 'A. Del Maestro' }, { name: 'A. A. Burkov' }] });
  assert.deepEqual(p.categories, ['cond-mat.str-el']);
  assert.equal(p.comments, '10 pages, 11 figures: new data for superfluid density anisotropy');
  assert.equal(p.journalRef, 'Phys. Rev. B 74, 214517 (2006)');
  assert.equal(p.doi, '10.1103/PhysRevB.74.214517');
  assert.deepEqual(p.versions, [
    { version: 1, submittedAt: '2006-07-19T20:12:54.000Z' },
    { version: 2, submittedAt: '2006-11-06T19:33:40.000Z' },
  ]);
});

test('2026 layout: astro-ph/0601001v1 with affiliations, comment, journal ref and no DOI', { skip: skipShared }, async () => {
  const p = await paperById(join(DIR_2026, 'id_astro-ph_0601001_s0_m100_3150dca9dc76.xml'), 'http://arxiv.org/abs/astro-ph/0601001v1');
  assert.equal(
    p.title,
    'Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys Toward the Galactic Bulge and Carina',
  );
  assert.deepEqual(p.authors, {
    kind: 'names',
    names: [
      { name: 'Andrew Gould', affiliations: ['Ohio State'] },
      { name: 'Susan Dorsher', affiliations: ['Ohio State'] },
      { name: 'B. Scott Gaudi', affiliations: ['CfA'] },
      { name: 'Andrzej Udalski', affiliations: ['Warsaw University Observatory'] },
    ],
  });
  // Entities are decoded, TeX is kept.
  assert.ok(p.abstract?.includes('Gould & Morgan (2003)'));
  assert.ok(p.abstract?.includes('V_max<17.5'));
  assert.ok(p.abstract?.includes('(1/310)(1^{+1.39}_{-0.59})'));
  assert.deepEqual(p.categories, ['astro-ph']);
  assert.equal(p.primaryCategory, 'astro-ph');
  assert.match(p.comments ?? '', /^62 pages including 16 figures and 9 tables\. Submitted to Acta Astronomica\./);
  assert.equal(p.journalRef, 'ActaAstron.56:1-50,2006');
  assert.equal(p.doi, null);
  assert.equal(p.version, 1);
  assert.deepEqual(p.versions, [{ version: 1, submittedAt: '2006-01-02T14:57:58.000Z' }]);
});

test('2026 layout: search results with DOI, journal ref, several categories and a v3', { skip: skipShared }, async () => {
  const file = join(DIR_2026, 'q_testing_s0_m10_bc5a6c384fe9.xml');
  const p = await paperById(file, 'http://arxiv.org/abs/2202.12139v1');
  assert.equal(p.title, 'Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques');
  assert.deepEqual(p.authors, {
    kind: 'names',
    names: [{ name: 'Mohit Kumar Ahuja' }, { name: 'Arnaud Gotlieb' }, { name: 'Helge Spieker' }],
  });
  assert.deepEqual(p.categories, ['cs.SE', 'cs.LG']);
  assert.equal(p.comments, 'Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022');
  assert.equal(
    p.journalRef,
    'Artificial Intelligence in Software Testing @ 2022 IEEE International Conference on Software Testing, Verification and Validation Workshops (ICSTW)',
  );
  assert.equal(p.doi, '10.1109/ICSTW55395.2022.00035');
  assert.deepEqual(p.versions, [{ version: 1, submittedAt: '2022-02-24T15:05:19.000Z' }]);

  const q = await paperById(join(DIR_2026, 'q_testing_s0_m100_cfe7536492ca.xml'), 'http://arxiv.org/abs/1706.00679v3');
  assert.equal(q.title, 'Testing Gaussian Process with Applications to Super-Resolution');
  assert.deepEqual(q.authors, {
    kind: 'names',
    names: [{ name: 'Jean-Marc Azaïs' }, { name: 'Yohann De Castro' }, { name: 'Stéphane Mourareau' }],
  });
  assert.deepEqual(q.categories, ['math.ST', 'cs.IT', 'math.PR']);
  assert.equal(q.primaryCategory, 'math.ST');
  assert.ok(q.abstract?.includes('$\\ell_1$-minimization'));
  assert.equal(q.journalRef, null);
  assert.equal(q.version, 3);
  assert.deepEqual(q.versions, [
    { version: 1, submittedAt: '2017-06-02T13:17:03.000Z' },
    { version: 3, submittedAt: '2018-07-02T13:07:55.000Z' },
  ]);
});

test('2026 layout: cross-listed quant-ph/0201082v1', { skip: skipShared }, async () => {
  const p = await paperById(join(DIR_2026, 'id_quant-ph_0201082v1_s0_m100_86989fe779ef.xml'), 'http://arxiv.org/abs/quant-ph/0201082v1');
  assert.deepEqual(p.categories, ['quant-ph', 'cs.PL']);
  assert.deepEqual(p.authors, { kind: 'names', names: [{ name: 'Stephen Blaha' }] });
  assert.equal(p.comments, '32 pages');
  assert.equal(p.journalRef, null);
});

test('the API error feed becomes one error item', { skip: skipShared }, async () => {
  const items = await parseFile(join(DIR_2026, 'id_abc_s0_m100_b79c8dcf6bc3.xml'));
  assert.deepEqual(items, [{ kind: 'error', reason: 'arXiv API error: incorrect id format for abc', at: { record: 1, line: 9 } }]);
});

test('an empty result becomes one skip item', { skip: skipShared }, async () => {
  for (const f of ['id_0000.0000_s0_m100_8b51d9633a68.xml', 'id_0808.05394_s0_m100_7b0c7d0a7cdd.xml']) {
    const page = await readAtomPage(readFileSync(join(DIR_2026, f), 'utf8'));
    assert.deepEqual(page.items, [{ kind: 'skip', reason: 'feed has no entries', at: { line: 11 } }]);
    assert.equal(page.totalResults, 0);
  }
});

test('readAtomPage returns the OpenSearch paging fields of both layouts', { skip: skipShared }, async () => {
  const p2026 = await readAtomPage(readFileSync(join(DIR_2026, 'q_testing_s10_m10_34e56e15aaac.xml'), 'utf8'));
  assert.deepEqual(
    { total: p2026.totalResults, start: p2026.startIndex, per: p2026.itemsPerPage, n: p2026.items.length },
    { total: 214881, start: 10, per: 10, n: 10 },
  );
  const p2016 = await readAtomPage(readFileSync(join(DIR_2016, 'search_query=au_del_maestro.xml'), 'utf8'));
  assert.equal(p2016.startIndex, 0);
  assert.equal(p2016.itemsPerPage, 10);
  assert.ok((p2016.totalResults ?? 0) >= p2016.items.length);
});

const FEED = (entries: string): string =>
  `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">${entries}</feed>`;

test('unusable entries are reported with their index and the rest still parse', async () => {
  const items = await parseString(
    FEED(
      [
        '<entry><title>no id</title></entry>',
        '\n<entry><id>http://arxiv.org/abs/not-an-id</id></entry>',
        '\n<entry><id>http://arxiv.org/abs/2101.00001v1</id><title> T </title></entry>',
      ].join(''),
    ),
  );
  assert.deepEqual(
    items.map((i) => [i.kind, i.at.record, i.at.line]),
    [
      ['error', 1, 1],
      ['error', 2, 2],
      ['paper', 3, 3],
    ],
  );
  const p = papers(items)[0];
  assert.equal(p?.title, 'T');
  // Fields the entry does not carry stay null rather than guessed.
  assert.equal(p?.abstract, null);
  assert.equal(p?.authors, null);
  assert.equal(p?.categories, null);
  assert.equal(p?.versions, null);
});

test('categories are deduplicated with the primary first; DOI falls back to the doi link', async () => {
  const [item] = await parseString(
    FEED(`<entry><id>http://arxiv.org/abs/2101.00001v2</id>
      <category term="cs.LG"/><category term="stat.ML"/><category term="cs.LG"/>
      <arxiv:primary_category term="stat.ML"/>
      <link title="doi" href="https://doi.org/10.1000/xyz" rel="related"/>
      <published>2021-01-01T00:00:00Z</published></entry>`),
  );
  assert.ok(item?.kind === 'paper');
  assert.deepEqual(item.paper.categories, ['stat.ML', 'cs.LG']);
  assert.equal(item.paper.doi, '10.1000/xyz');
  // v2 without <updated>: only the first version is dated.
  assert.deepEqual(item.paper.versions, [{ version: 1, submittedAt: '2021-01-01T00:00:00.000Z' }]);
});

test('a non-Atom document is reported instead of yielding nothing', async () => {
  const items = await parseString('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"/>');
  assert.equal(items.length, 1);
  assert.equal(items[0]?.kind, 'error');
  assert.match(items[0]?.kind === 'error' ? items[0].reason : '', /not an Atom feed/);
});

test('a well-formedness error stops the file after the entries before it', async () => {
  const items = await parseString(
    FEED('<entry><id>2101.00001</id></entry>\n<entry><id>2101.00002</id></entry>\n<entry><id>2101.00003</ide></entry>'),
  );
  assert.deepEqual(
    items.map((i) => i.kind),
    ['paper', 'paper', 'error'],
  );
  assert.equal(items[2]?.at.line, 3);
});
