import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseItem, RawPaper } from '../record.js';
import { parseAbs, submitterName } from './abs.js';
import { sharedData } from '../../../test/support/shared-data.js';
import { parseText } from '../../../test/support/parsing.js';

const { dir: SHARED, skip } = sharedData();
const ABS = `${SHARED}/arxiv/abs/arxiv-browse/abs_files`;
const SYNTHETIC = ['1208.9998.abs', '1208.9999.abs', '1501.99999.abs'];


const parse = (text: string, size?: number): Promise<ParseItem[]> => parseText(parseAbs, text, size);

async function parseFile(rel: string): Promise<ParseItem[]> {
  return parse(readFileSync(join(ABS, rel), 'utf8'));
}

function only(items: ParseItem[]): RawPaper {
  assert.equal(items.length, 1, JSON.stringify(items));
  const [item] = items;
  assert.equal(item?.kind, 'paper', JSON.stringify(item));
  return (item as { paper: RawPaper }).paper;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

test('every .abs file (current and orig/) gives exactly one paper, except the empty one', { skip }, async () => {
  const files = walk(ABS).filter((f) => f.endsWith('.abs'));
  assert.equal(files.length, 1192);
  let n = 0;
  for (const f of files) {
    const items = await parse(readFileSync(f, 'utf8'));
    if (f.endsWith('math-ph/papers/0509/0509037.abs')) {
      assert.deepEqual(items, [{ kind: 'error', reason: 'empty file', at: { line: 1 } }]);
      continue;
    }
    const p = only(items);
    assert.ok(p.title && p.authors && p.versions && p.versions.length > 0, f);
    assert.equal(p.versions[0]?.version, 1, f);
    assert.ok(p.abstract, f);
    assert.ok(!JSON.stringify(p).includes('@example'), `no email kept: ${f}`);
    n++;
  }
  assert.equal(n, 1191);
});

test('0704.0001.abs: header fields, two dated versions with sizes, abstract', { skip }, async () => {
  const items = await parseFile('ftp/arxiv/papers/0704/0704.0001.abs');
  assert.equal(items[0]?.at.line, 3);
  const p = only(items);
  const { abstract, ...rest } = p;
  assert.deepEqual(rest, {
    id: '0704.0001',
    submitter: 'Pavel Nadolsky',
    versions: [
      { version: 1, submittedAt: '2007-04-02T19:18:42.000Z', size: '443kb' },
      { version: 2, submittedAt: '2007-07-24T20:10:27.000Z', size: '370kb' },
    ],
    title: 'Calculation of prompt diphoton production cross sections at Tevatron and LHC energies',
    authors: { kind: 'text', value: "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan" },
    categories: ['hep-ph'],
    comments: '37 pages, 15 figures; published version',
    reportNo: 'ANL-HEP-PR-07-12',
    journalRef: 'Phys.Rev.D76:013009,2007',
    doi: '10.1103/PhysRevD.76.013009',
  });
  assert.ok(abstract?.startsWith('A fully differential calculation in perturbative quantum chromodynamics is\npresented'));
  assert.ok(abstract?.endsWith('that enhanced sensitivity to the signal can be obtained with judicious\nselection of events.'));
});

test('ACM-class, Proxy, License, continued Comments; submitter without email', { skip }, async () => {
  const cs = only(await parseFile('ftp/cs/papers/0011/0011004.abs'));
  assert.equal(cs.id, 'cs/0011004');
  assert.equal(cs.submitter, 'Mueller-Quade');
  assert.equal(cs.acmClass, 'C.2.0');
  assert.equal(cs.comments, '6 pages, some things clearified, especially that a broadcast channel is not necessary');
  assert.deepEqual(cs.versions, [
    { version: 1, submittedAt: '2000-11-04T06:14:57.000Z', size: '9kb' },
    { version: 2, submittedAt: '2000-12-03T08:09:58.000Z', size: '11kb' },
  ]);

  const proxy = only(await parseFile('ftp/arxiv/papers/1611/1611.08171.abs'));
  assert.equal(proxy.submitter, 'Nilde Nisse Tyss{\\o}y');
  assert.equal(proxy.title, 'Cutoff latitude variation during solar proton events: Causes and consequences');
  assert.deepEqual(proxy.authors, { kind: 'text', value: 'H. Nesse Tyss{\\o}y and J. Stadsnes' });
  assert.equal(proxy.doi, '10.1002/2014JA020508');
  assert.equal(proxy.license, 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/');
  assert.ok(!JSON.stringify(proxy).includes('Kavitha'), 'Proxy is not a paper field');
});

test('orig/ versions: no Categories, anonymous From, multi-line authors', { skip }, async () => {
  const v1 = only(await parseFile('orig/hep-th/papers/9709/9709111v1.abs'));
  const v2 = only(await parseFile('orig/hep-th/papers/9709/9709111v2.abs'));
  assert.equal(v1.id, 'hep-th/9709111');
  assert.equal(v1.submitter, null);
  assert.equal(v1.categories, undefined);
  assert.deepEqual(v1.authors, {
    kind: 'text',
    value: 'Andrea Brignole (CERN-TH), Ferruccio Feruglio (Padua Univ.), Fabio Zwirner (INFN-Padua)',
  });
  assert.equal(v1.reportNo, 'CERN-TH/97-244, DFPD~97/TH/35');
  assert.equal(v1.comments, '8 pages, 1 figure, plain Latex');
  assert.deepEqual(v1.versions, [{ version: 1, submittedAt: '1997-09-16T14:44:58.000Z', size: '11kb' }]);
  assert.equal(v2.versions?.length, 2);
  assert.equal(v2.versions?.[1]?.submittedAt, '1997-09-23T17:34:41.000Z');
  assert.equal(v2.comments, '8 pages, 1 figure, plain Latex. One reference added and a harmless sign change in eqs.(17)-(20)');
});

test('synthetic records parse as what they are', { skip }, async () => {
  const [a, b, c] = await Promise.all(
    SYNTHETIC.map((f) => parseFile(`ftp/arxiv/papers/${f.startsWith('1208') ? '1208' : '1501'}/${f}`)),
  );
  const p = only(a ?? []);
  assert.equal(p.id, '1208.9998');
  assert.equal(p.submitter, 'Smith, Bob');
  assert.equal(p.title, 'Fake paper to test no source condition');
  assert.equal(only(b ?? []).id, '1208.9999');
  const q = only(c ?? []);
  assert.equal(q.id, '1501.99999');
  assert.equal(q.submitter, "Eugene Heifets Lu\\'i");
  assert.ok(q.authors?.kind === 'text' && q.authors.value.endsWith('Daisuke Iono, Min S. Yun, Daniel Espada and Ryohei Kawabe'));
  assert.ok(q.abstract?.includes('\nwww.bogus.org\nbogus.org\n'));
});

test('listings: one paper per entry, no abstracts, cross-listings included', { skip }, async () => {
  const counts: Record<string, number> = {
    'astro-ph/listings/0001': 605,
    'astro-ph/listings/0003': 552,
    'astro-ph/listings/0005': 654,
    'astro-ph/listings/0302': 703,
    'astro-ph/listings/0310': 996,
    'astro-ph/listings/0312': 750,
    'astro-ph/listings/0601': 797,
    'astro-ph/listings/0603': 944,
    'math-ph/listings/9701': 17,
    'math-ph/listings/9712': 34,
    'math/listings/2103': 1,
    'math/listings/pastweek.AG': 1,
  };
  let total = 0;
  for (const [rel, n] of Object.entries(counts)) {
    const items = await parseFile(`ftp/${rel}`);
    assert.equal(items.length, n, rel);
    assert.ok(
      items.every((it) => it.kind === 'paper' && it.paper.abstract === undefined && it.paper.announcedOn === undefined),
      rel,
    );
    total += n;
  }
  assert.equal(total, 6054);

  const jan = await parseFile('ftp/astro-ph/listings/0001');
  const first = (jan[0] as { paper: RawPaper }).paper;
  assert.equal(jan[0]?.at.line, 11);
  assert.deepEqual(first, {
    id: 'astro-ph/0001001',
    submitter: 'Alex Lazarian',
    versions: [{ version: 1, submittedAt: '2000-01-01T02:05:30.000Z', size: '29kb' }],
    title: 'Statistics of Turbulence from Spectral-Line Data Cubes',
    authors: { kind: 'text', value: 'A. Lazarian' },
    categories: ['astro-ph', 'cond-mat.stat-mech', 'physics.ao-ph', 'physics.flu-dyn', 'physics.plasm-ph', 'physics.space-ph'],
    comments:
      '21 pages, 1 figure, review for "Plasma Turbulence and Energetic Particles in Astrophysics", eds.M. Ostrowski & R. Schlickeiser, Cracow (1999)',
  });
  const third = (jan[2] as { paper: RawPaper }).paper;
  assert.equal(third.id, 'astro-ph/0001003');
  assert.equal(third.versions?.[1]?.submittedAt, '2000-01-04T21:59:55.000Z');
  assert.deepEqual(third.authors, {
    kind: 'text',
    value: 'Julio F. Navarro (University of Victoria) and Matthias Steinmetz (University of Arizona)',
  });

  // "Date (revised):" without a number: versions follow in order.
  const mp = await parseFile('ftp/math-ph/listings/9701');
  const finster = mp.map((it) => (it as { paper: RawPaper }).paper).find((p) => p.id === 'funct-an/9701002');
  assert.deepEqual(finster?.versions, [
    { version: 1, submittedAt: '1997-01-06T17:08:35.000Z', size: '13kb' },
    { version: 2, submittedAt: '1997-03-12T14:43:13.000Z' },
    { version: 3, submittedAt: '1998-06-05T20:35:06.000Z' },
    { version: 4, submittedAt: '1999-04-07T14:58:32.000Z' },
  ]);
  assert.equal(finster?.journalRef, '"Photon and Poincare Group," V. Dvoeglazov (ed.), Nova Science Publishers (1999) 315-325');
  assert.equal(mp[0]?.kind === 'paper' && mp[0].paper.id, 'cond-mat/9701067');

  // A made-up id in a listing is just a record.
  const fake = only(await parseFile('ftp/math/listings/2103'));
  assert.equal(fake.id, '2103.88888');
  assert.equal(fake.comments, '28 pages + tables and figures available upon request, Latex, No preprint number');
});

test('daily mailings: abstracts; announcedOn on new entries only; replacements dated, unversioned', { skip }, async () => {
  const expected: Record<string, [string, number, number, number]> = {
    // file: [mail day, new, cross-lists, replacements]
    'q-fin/listings/new': ['2023-03-17', 13, 0, 3],
    'q-fin/listings/new.CP': ['2023-03-17', 1, 1, 0],
    'q-fin/listings/new.EC': ['2023-03-17', 4, 0, 0],
    'q-fin/listings/new.GN': ['2023-03-16', 1, 0, 5],
    'q-fin/listings/new.MF': ['2023-03-16', 2, 1, 1],
    'q-fin/listings/new.PM': ['2023-03-16', 2, 0, 1],
    'q-fin/listings/new.PR': ['2023-03-13', 1, 1, 2],
    'q-fin/listings/new.RM': ['2023-03-17', 1, 0, 2],
    'q-fin/listings/new.ST': ['2023-03-17', 6, 1, 1],
    'q-fin/listings/new.TR': ['2023-03-17', 1, 0, 0],
    'math/listings/new.AG': ['2023-06-09', 0, 1, 1],
    'math/listings/new.OA': ['2023-06-09', 0, 1, 2],
  };
  for (const [rel, [day, nNew, nCross, nRep]] of Object.entries(expected)) {
    const ps = (await parseFile(`ftp/${rel}`)).map((it) => {
      assert.equal(it.kind, 'paper', `${rel}: ${JSON.stringify(it)}`);
      return (it as { paper: RawPaper }).paper;
    });
    const news = ps.filter((p) => p.announcedOn !== undefined);
    const reps = ps.filter((p) => p.updatedAt !== undefined);
    assert.equal(news.length, nNew, rel);
    assert.ok(news.every((p) => p.announcedOn === day && p.abstract && p.versions?.length === 1), rel);
    assert.equal(reps.length, nRep, rel);
    assert.ok(reps.every((p) => p.versions === undefined && p.announcedOn === undefined), rel);
    assert.equal(ps.length - nNew - nRep, nCross, rel);
  }

  const tr = only(await parseFile('ftp/q-fin/listings/new.TR'));
  assert.equal(tr.id, '2303.08867');
  assert.equal(tr.title, 'A Bayesian derivation of the square root law of market impact');
  assert.deepEqual(tr.authors, { kind: 'text', value: 'Louis Saddier and Matteo Marsili' });
  assert.deepEqual(tr.categories, ['q-fin.TR', 'cond-mat.stat-mech']);
  assert.deepEqual(tr.versions, [{ version: 1, submittedAt: '2023-03-15T18:34:08.000Z', size: '243kb' }]);
  assert.equal(tr.submitter, undefined);
  assert.ok(tr.abstract?.startsWith('We show that the main empirical findings'));
  assert.ok(tr.abstract?.endsWith('originating from meta-orders.'), 'the "\\\\ ( https://… )" line closes the abstract');

  const oa = (await parseFile('ftp/math/listings/new.OA')).map((it) => (it as { paper: RawPaper }).paper);
  assert.equal(oa[0]?.id, '2306.04713');
  assert.equal(oa[0]?.announcedOn, undefined, 'a cross-listing carries no announcement date');
  assert.equal(oa[1]?.id, '2204.01445');
  assert.equal(oa[1]?.updatedAt, '2023-06-08T08:03:26.000Z');
  assert.equal(oa[1]?.mscClass, '16T05, 16T10, 16T30, 17A30, 46L53, 46L54');
  assert.equal(oa[1]?.journalRef, 'SIGMA 19 (2023), 038, 17 pages');
  assert.equal(oa[1]?.doi, '10.3842/SIGMA.2023.038');
  assert.equal(oa[1]?.abstract, undefined);
});

test('1-byte chunks and CRLF line ends give the same items', { skip }, async () => {
  for (const rel of ['ftp/arxiv/papers/0704/0704.0001.abs', 'ftp/q-fin/listings/new.MF', 'ftp/math-ph/listings/9701']) {
    const text = readFileSync(join(ABS, rel), 'utf8');
    const whole = await parse(text, text.length);
    assert.deepEqual(await parse(text, 1), whole, rel);
    assert.deepEqual(await parse(text.replace(/\n/g, '\r\n'), 7), whole, rel);
  }
});

test('malformed records are errors at their first line; the next record still parses', async () => {
  const text = [
    '\\\\',
    'From: Someone <a@b.c>',
    'Date: Mon, 2 Apr 2007 19:18:42 GMT   (1kb)',
    'Title: No id line',
    '\\\\',
    '  abstract',
    '\\\\',
    '\\\\',
    'arXiv:0704.0002',
    'Date: not a date   (1kb)',
    'Title: Bad date',
    '\\\\',
    '  abstract',
    '\\\\',
    '\\\\',
    'arXiv:0704.0003',
    'Title: Header never closed',
    '------------------------------------------------------------------------------',
    '\\\\',
    'Paper: 0704.0004',
    'From: someone@example.org',
    'Title: Fine',
    '\\\\',
    '\\\\',
    'arXiv:0704.0005',
    'Title: Abstract never closed',
    '\\\\',
    '  text',
  ].join('\n');
  const items = await parse(text);
  assert.deepEqual(
    items.map((it) => [it.kind, it.at.line]),
    [
      ['error', 2],
      ['error', 9],
      ['error', 16],
      ['paper', 20],
      ['error', 25],
    ],
  );
  const reasons = items.map((it) => (it.kind === 'error' ? it.reason : ''));
  assert.match(reasons[0] ?? '', /no arXiv: or Paper: id line/);
  assert.match(reasons[1] ?? '', /^0704\.0002: Date: unparseable date "not a date"/);
  assert.match(reasons[2] ?? '', /^0704\.0003: header not closed/);
  assert.match(reasons[4] ?? '', /^0704\.0005: file ends inside the abstract/);
  const fine = (items[3] as { paper: RawPaper }).paper;
  assert.deepEqual(fine, { id: '0704.0004', submitter: null, title: 'Fine' });
});

test('empty, blank and record-less inputs', async () => {
  assert.deepEqual(await parse(''), [{ kind: 'error', reason: 'empty file', at: { line: 1 } }]);
  assert.deepEqual(await parse('\n  \n'), [{ kind: 'error', reason: 'empty file', at: { line: 1 } }]);
  assert.deepEqual(await parse('hello\nworld\n'), [{ kind: 'error', reason: 'no arXiv records found', at: { line: 2 } }]);
  const mail = await parse('Date: Fri, 17 Mar 23 00:51:30 GMT\nSubject: x\n%-%-%-%-\n%%--%%--\n%%%---%%%---\n');
  assert.deepEqual(mail, [{ kind: 'skip', reason: 'mailing of 2023-03-17 without entries', at: { line: 5 } }]);
});

test('submitterName drops addresses, keeps TeX', () => {
  assert.equal(submitterName('Pavel Nadolsky <ImX8IKaf@KGV.pXn.tVb>'), 'Pavel Nadolsky');
  assert.equal(submitterName('Manfred Sch\\"ussler  <x@example.com>'), 'Manfred Sch\\"ussler');
  assert.equal(submitterName('<noname@example.org>'), null);
  assert.equal(submitterName('someone@example.org'), null);
  assert.equal(submitterName('Isaac Held'), 'Isaac Held');
  assert.equal(submitterName('Smith, Bob <bob@example.com'), 'Smith, Bob');
});
