import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseItem, RawPaper } from '../record.js';
import { parseOaiPmh, readOaiPage } from './oai.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText } from '../../../test/support/parsing.js';

const { dir: SHARED, skip: skipShared } = sharedData();

const HEPCRAWL = join(SHARED, 'arxiv/oai-pmh/hepcrawl');
const FIXTURES = 'test/fixtures/oai';
const hep = (name: string): string => join(HEPCRAWL, name);

const parseString = (xml: string): Promise<ParseItem[]> => parseText(parseOaiPmh, xml, xml.length);

function papers(items: ParseItem[]): RawPaper[] {
  return items.flatMap((it) => (it.kind === 'paper' ? [it.paper] : []));
}

async function paperIn(path: string, id: string): Promise<RawPaper> {
  const found = papers(await parseString(readFileSync(path, 'utf8'))).find((p) => p.id === id);
  assert.ok(found, `${id} not found in ${path}`);
  return found;
}

const OAI = (body: string, verb = 'ListRecords'): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-03-05T10:41:12Z</responseDate>
<request verb="${verb}">http://export.arxiv.org/oai2</request>
${body}
</OAI-PMH>`;

test('every shared OAI-PMH file parses: one paper per <record>, no errors', { skip: skipShared }, async () => {
  const files = readdirSync(HEPCRAWL).filter((f) => f.endsWith('.xml'));
  assert.equal(files.length, 15);
  let total = 0;
  for (const f of files) {
    const text = readFileSync(hep(f), 'utf8');
    const page = await readOaiPage(text);
    const records = text.match(/<record>/g)?.length ?? 0;
    assert.deepEqual(
      page.items.map((i) => i.kind),
      Array(records).fill('paper'),
      f,
    );
    assert.equal(page.datestamps.length, records, f);
    assert.equal(page.resumptionToken, null, f);
    assert.deepEqual(page.errors, [], f);
    for (const p of papers(page.items)) {
      assert.ok(p.title && p.abstract && p.authors?.kind === 'parts' && p.categories && p.publishedAt, `${f} ${p.id} incomplete`);
      assert.equal(p.versions, null);
    }
    total += records;
  }
  assert.equal(total, 30);
});

test('arXiv format: 1401.2122 with created/updated, msc-class, journal ref, DOI and licence', { skip: skipShared }, async () => {
  const file = hep('functional__arxiv__fixtures__http_server__records__arxiv-single.xml');
  const page = await readOaiPage(readFileSync(file, 'utf8'));
  assert.equal(page.responseDate, '2018-01-26T09:05:29Z');
  assert.deepEqual(page.datestamps, ['2018-01-25']);
  assert.deepEqual(page.items[0]?.at, { record: 1, line: 6 });
  const p = await paperIn(file, '1401.2122');
  assert.equal(p.title, 'New integrable (3+1)-dimensional systems and contact geometry');
  assert.deepEqual(p.authors, { kind: 'parts', parts: [{ keyname: 'Sergyeyev', forenames: 'A.' }] });
  assert.deepEqual(p.categories, ['math.AP', 'hep-th', 'math-ph', 'math.DG', 'math.MP', 'nlin.SI']);
  // The arXiv format does not mark the primary category; the order carries it.
  assert.equal(p.primaryCategory ?? null, null);
  assert.equal(
    p.comments,
    '16 pages, LaTeX, no figures, revised and abridged, in this version\n  (v5) the typos were fixed (including some that have unfortunately crept into\n  the published version too), Letters in Mathematical Physics (2017)',
  );
  assert.equal(p.mscClass, '37K05 37K10 53D10');
  assert.equal(p.journalRef, 'Lett. Math. Phys. 108 (2018), no. 2, 359-376');
  assert.equal(p.doi, '10.1007/s11005-017-1013-4');
  assert.equal(p.license, 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/');
  assert.equal(p.publishedAt, '2014-01-09T00:00:00.000Z');
  assert.equal(p.updatedAt, '2017-10-23T00:00:00.000Z');
  assert.ok(p.abstract?.startsWith('We introduce a novel systematic construction'));
});

test('arXiv format: an <arXiv> element without its namespace, a DOI list and a report number', { skip: skipShared }, async () => {
  const p = await paperIn(hep('unit__responses__arxiv__sample_arxiv_record0.xml'), '1601.03238');
  assert.equal(p.title, 'Irreversible degradation of quantum coherence under relativistic motion');
  assert.deepEqual(p.authors, {
    kind: 'parts',
    parts: [
      { keyname: 'Planck Collaboration' },
      { keyname: 'Wang', forenames: 'Jieci' },
      { keyname: 'Tian', forenames: 'Zehua' },
      { keyname: 'Jing', forenames: 'Jiliang' },
      { keyname: 'Fan', forenames: 'Heng' },
    ],
  });
  assert.deepEqual(p.categories, ['quant-ph', 'gr-qc', 'hep-th', 'chao-dyn', 'nlin.CD']);
  assert.equal(p.comments, '6 pages, 4 figures, conference paper');
  assert.equal(p.reportNo, 'YITP-2016-26');
  assert.equal(p.journalRef, 'Phys.Rev. D93 (2015) 016005');
  // Kept exactly as found: splitting the list is normalisation, not parsing.
  assert.equal(p.doi, '10.1103/PhysRevD.93.016005, 10.1103/PhysRevD.98.079901;10.1103/PhysRevD.98.079903');
  assert.equal(p.license, 'https://creativecommons.org/licenses/by/3.0/');
  assert.equal(p.publishedAt, '2016-01-13T00:00:00.000Z');
  assert.equal(p.updatedAt, null);
});

test('arXiv format: repeated keynames, affiliations and a suffix', { skip: skipShared }, async () => {
  const p7 = await paperIn(hep('unit__responses__arxiv__sample_arxiv_record7.xml'), '1606.07066');
  assert.deepEqual(p7.authors, {
    kind: 'parts',
    parts: [
      { keyname: 'Saxton Walton', forenames: 'Curtis J.', affiliations: ['Technion', 'DESY'] },
      { keyname: 'Younsi', forenames: 'Ziri', affiliations: ['U.Frankfurt'] },
      { keyname: 'Wu', forenames: 'Kinwah' },
    ],
  });
  assert.equal(p7.title, 'Dark matter concentrations in galactic nuclei according to polytropic\n  models');
  assert.equal(p7.comments, 'MNRAS accepted, 24 pages, 12 figures');

  const p4 = await paperIn(hep('unit__responses__arxiv__sample_arxiv_record4.xml'), '1603.05976');
  assert.ok(p4.authors?.kind === 'parts');
  assert.equal(p4.authors.parts.length, 66);
  assert.deepEqual(p4.authors.parts[2], { keyname: ':' });
  assert.deepEqual(
    p4.authors.parts.find((a) => a.suffix !== undefined),
    { keyname: 'W.', forenames: 'R.', suffix: 'IV' },
  );

  const p10 = await paperIn(hep('unit__responses__arxiv__sample_arxiv_record10.xml'), '1606.04259');
  assert.equal(p10.comments, 'Phd thesis in Fundamental and Applied Physics presented at University\n  "Federico II" (Naples, Italy) on 29th April 2016');
  assert.ok(p10.abstract?.includes('all $\\delta^2$ terms'));
});

test('arXiv format: a ListRecords page keeps record order and datestamps', { skip: skipShared }, async () => {
  const page = await readOaiPage(readFileSync(hep('functional__arxiv__fixtures__http_server__records__arxiv-physics-hep-th.xml'), 'utf8'));
  assert.deepEqual(
    papers(page.items).map((p) => [p.id, p.publishedAt, p.updatedAt]),
    [
      ['1412.8323', '2014-12-29T00:00:00.000Z', '2017-12-13T00:00:00.000Z'],
      ['1507.07790', '2015-07-28T00:00:00.000Z', '2016-03-04T00:00:00.000Z'],
      ['1607.01710', '2016-07-06T00:00:00.000Z', '2016-10-13T00:00:00.000Z'],
    ],
  );
  assert.deepEqual(page.datestamps, ['2017-12-14', '2017-12-14', '2017-12-14']);
  const p = papers(page.items)[1];
  assert.equal(p?.journalRef, 'J. Phys. A: Math. Theor. 51 (2018) 035201');
  assert.equal(p?.doi, '10.1088/1751-8121/aa9c53');
  assert.deepEqual(p?.categories, ['hep-th', 'math-ph', 'math.MP', 'quant-ph']);
});

test('arXivRaw fixture: ListRecords page with versions, deleted record and resumption token', async () => {
  const page = await readOaiPage(readFileSync(join(FIXTURES, 'arxivraw-listrecords.xml'), 'utf8'));
  assert.deepEqual(
    page.items.map((i) => [i.kind, i.at.record]),
    [
      ['paper', 1],
      ['paper', 2],
      ['paper', 3],
      ['skip', 4],
    ],
  );
  assert.deepEqual(page.items[3], { kind: 'skip', reason: 'deleted record oai:arXiv.org:0704.9999', at: { record: 4, line: 58 } });
  assert.equal(page.resumptionToken, '6960524|1001');
  assert.equal(page.completeListSize, 2113);
  assert.equal(page.cursor, 0);
  assert.equal(page.responseDate, '2024-03-05T10:41:12Z');
  assert.deepEqual(page.datestamps, ['2008-11-13', '2008-12-13', '2008-01-14', '2008-12-13']);

  const [p1, p2, p3] = papers(page.items);
  assert.equal(p1?.id, '0704.0001');
  assert.equal(p1?.submitter, 'Pavel Nadolsky');
  assert.equal(p1?.title, 'Calculation of prompt diphoton production cross sections at Tevatron and\n  LHC energies');
  assert.deepEqual(p1?.authors, { kind: 'text', value: "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan" });
  assert.deepEqual(p1?.categories, ['hep-ph']);
  assert.equal(p1?.primaryCategory, 'hep-ph');
  assert.equal(p1?.comments, '37 pages, 15 figures; published version');
  assert.equal(p1?.reportNo, 'ANL-HEP-PR-07-12');
  assert.equal(p1?.journalRef, 'Phys.Rev.D76:013009,2007');
  assert.equal(p1?.doi, '10.1103/PhysRevD.76.013009');
  assert.equal(p1?.version, 2);
  assert.deepEqual(p1?.versions, [
    { version: 1, submittedAt: '2007-04-02T19:18:42.000Z', size: '443kb' },
    { version: 2, submittedAt: '2007-07-24T20:10:27.000Z', size: '370kb' },
  ]);
  assert.ok(p1?.abstract?.startsWith('A fully differential calculation in perturbative quantum chromodynamics is\npresented'));

  assert.deepEqual(p2?.categories, ['math.CO', 'cs.CG']);
  assert.equal(p2?.primaryCategory, 'math.CO');
  assert.equal(p2?.mscClass, '05C85; 05C70; 68R10; 05B35');
  assert.equal(p2?.license, 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/');
  assert.ok(p2?.abstract?.includes('$(k,\\ell)$-pebble game'));

  assert.equal(p3?.version, 3);
  assert.deepEqual(
    p3?.versions?.map((v) => v.submittedAt),
    ['2007-04-01T20:46:54.000Z', '2007-12-08T23:47:24.000Z', '2008-01-13T00:36:28.000Z'],
  );
  assert.equal(p3?.journalRef, null);
});

test('arXivRaw fixture: GetRecord', async () => {
  const items = await parseString(readFileSync(join(FIXTURES, 'arxivraw-getrecord.xml'), 'utf8'));
  assert.equal(items.length, 1);
  const p = papers(items)[0];
  assert.equal(p?.id, '0704.0046');
  assert.equal(p?.title, 'A limit relation for entropy and channel capacity per unit cost');
  assert.deepEqual(p?.authors, { kind: 'text', value: 'I. Csiszar, F. Hiai and D. Petz' });
  assert.deepEqual(p?.categories, ['quant-ph', 'cs.IT', 'math.IT']);
  assert.equal(p?.journalRef, 'J. Math. Phys. 48(2007), 092102.');
  assert.equal(p?.doi, '10.1063/1.2779138');
  assert.deepEqual(p?.versions, [{ version: 1, submittedAt: '2007-04-01T16:37:36.000Z', size: '9kb' }]);
});

test('arXivOld records map their free-text fields', async () => {
  const items = await parseString(
    OAI(`<GetRecord><record><header><identifier>oai:arXiv.org:hep-th/9901001</identifier><datestamp>2008-02-03</datestamp></header>
<metadata><arXivOld xmlns="http://arxiv.org/OAI/arXivOld/"><id>hep-th/9901001</id><title>A title</title>
<authors>A. One and B. Two</authors><categories>hep-th</categories><comments>10 pages</comments></arXivOld></metadata></record></GetRecord>`, 'GetRecord'),
  );
  assert.deepEqual(papers(items)[0], {
    id: 'hep-th/9901001',
    title: 'A title',
    abstract: null,
    authors: { kind: 'text', value: 'A. One and B. Two' },
    categories: ['hep-th'],
    comments: '10 pages',
    journalRef: null,
    doi: null,
    reportNo: null,
    mscClass: null,
    acmClass: null,
    license: null,
  });
});

test('OAI errors: noRecordsMatch is a skip, other codes are errors, all listed for the harvester', async () => {
  const none = await readOaiPage(OAI('<error code="noRecordsMatch">No records match the request</error>'));
  assert.deepEqual(none.items, [{ kind: 'skip', reason: 'OAI-PMH noRecordsMatch: No records match the request', at: { line: 5 } }]);
  assert.deepEqual(none.errors, [{ code: 'noRecordsMatch', message: 'No records match the request' }]);

  const bad = await readOaiPage(
    OAI('<error code="badResumptionToken">Token expired</error>\n<error code="badArgument">Illegal argument</error>'),
  );
  assert.deepEqual(
    bad.items.map((i) => [i.kind, i.kind === 'error' ? i.reason : '']),
    [
      ['error', 'OAI-PMH error badResumptionToken: Token expired'],
      ['error', 'OAI-PMH error badArgument: Illegal argument'],
    ],
  );
  assert.equal(bad.errors.length, 2);
  assert.equal(bad.resumptionToken, null);
});

test('an empty resumption token ends the list', async () => {
  const page = await readOaiPage(OAI('<ListRecords><resumptionToken cursor="2000" completeListSize="2113"/></ListRecords>'));
  assert.equal(page.resumptionToken, null);
  assert.equal(page.cursor, 2000);
  assert.equal(page.completeListSize, 2113);
  // No record and no error: the file is still accounted for.
  assert.deepEqual(page.items.map((i) => i.kind), ['skip']);
});

test('unusable records are reported with index and line; the others still parse', async () => {
  const rec = (id: string, extra = ''): string =>
    `<record><header><identifier>oai:arXiv.org:${id}</identifier><datestamp>2020-01-01</datestamp></header>` +
    `<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>${id}</id>${extra}</arXiv></metadata></record>\n`;
  const items = await parseString(
    OAI(
      '<ListRecords>\n' +
        rec('') +
        rec('garbage') +
        '<record><header><identifier>oai:arXiv.org:2001.00003</identifier></header></record>\n' +
        '<record><header><identifier>x</identifier></header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"/></metadata></record>\n' +
        rec('2001.00005', '<created>2020-01-02</created><authors><author><forenames>Mononym</forenames></author></authors>') +
        '</ListRecords>',
    ),
  );
  assert.deepEqual(
    items.map((i) => [i.kind, i.at.record, i.at.line]),
    [
      ['error', 1, 6],
      ['error', 2, 7],
      ['error', 3, 8],
      ['error', 4, 9],
      ['paper', 5, 10],
    ],
  );
  const p = papers(items)[0];
  assert.deepEqual(p?.authors, { kind: 'parts', parts: [{ keyname: 'Mononym' }] });
  assert.equal(p?.publishedAt, '2020-01-02T00:00:00.000Z');
});

test('a non-OAI document and broken XML are reported', async () => {
  const notOai = await parseString('<feed xmlns="http://www.w3.org/2005/Atom"/>');
  assert.equal(notOai.length, 1);
  assert.match(notOai[0]?.kind === 'error' ? notOai[0].reason : '', /not an OAI-PMH response/);

  const broken = await parseString(OAI('<ListRecords><record><header></record></ListRecords>'));
  assert.deepEqual(
    broken.map((i) => [i.kind, i.at.line]),
    [['error', 5]],
  );
});

test('arXivRaw versions: a version without a usable date is dropped, a missing number falls back to position', async () => {
  const items = await parseString(
    OAI(`<ListRecords><record><header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp></header>
<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>0704.0001</id><submitter>S</submitter>
<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date></version>
<version><date>Tue, 24 Jul 2007 20:10:27 GMT</date><size>370kb</size></version>
<version version="v3"><date>sometime</date></version>
<categories>hep-ph</categories></arXivRaw></metadata></record></ListRecords>`),
  );
  const p = papers(items)[0];
  assert.deepEqual(p?.versions, [
    { version: 1, submittedAt: '2007-04-02T19:18:42.000Z' },
    { version: 2, submittedAt: '2007-07-24T20:10:27.000Z', size: '370kb' },
  ]);
  assert.equal(p?.version, 2);
  assert.equal(p?.title, null);
});
