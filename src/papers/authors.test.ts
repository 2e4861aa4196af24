import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { authorFromName, authorFromParts, parseAuthorList, type ParsedAuthor } from './authors.js';

const keynames = (list: ParsedAuthor[]): string[] => list.map((a) => a.keyname);

test('splits on commas, "and" and "&"', () => {
  assert.deepEqual(keynames(parseAuthorList('Ileana Streinu and Louis Theran')), ['Streinu', 'Theran']);
  assert.deepEqual(keynames(parseAuthorList('A.A. Serga, M. Kostylev, and B. Hillebrands')), [
    'Serga',
    'Kostylev',
    'Hillebrands',
  ]);
  assert.deepEqual(keynames(parseAuthorList('A. One & B. Two; C. Three')), ['One', 'Two', 'Three']);
  assert.deepEqual(parseAuthorList(''), []);
  assert.deepEqual(parseAuthorList('  \n '), []);
});

test('names: forenames, keyname, TeX accents and tidied initials', () => {
  assert.deepEqual(parseAuthorList("C. Bal\\'azs, C.-P. Yuan, J.P.Hague"), [
    { name: 'C. Balázs', keyname: 'Balázs', forenames: 'C.', suffix: null, affiliations: [] },
    { name: 'C.-P. Yuan', keyname: 'Yuan', forenames: 'C.-P.', suffix: null, affiliations: [] },
    { name: 'J. P. Hague', keyname: 'Hague', forenames: 'J. P.', suffix: null, affiliations: [] },
  ]);
  assert.deepEqual(keynames(parseAuthorList('Rastislav \\v{S}r\\\'amek, Mikkel {\\O}bro')), ['Šrámek', 'Øbro']);
  assert.deepEqual(keynames(parseAuthorList('Sudha, A. V. Gopala Rao')), ['Sudha', 'Rao']);
  assert.equal(parseAuthorList('Sudha')[0]?.forenames, null);
});

test('surname particles join the keyname', () => {
  const cases: [string, string][] = [
    ['Floris van der Tak', 'van der Tak'],
    ['Robert P. C. de Marrais', 'de Marrais'],
    ['Paolo Di Vecchia', 'Di Vecchia'],
    ['M. Lopez de Haro', 'de Haro'],
    ['Juan de la Cruz', 'de la Cruz'],
    ['Ludwig von Mises', 'von Mises'],
    ['Marcos dos Santos', 'dos Santos'],
    ['Jean le Rond', 'le Rond'],
    ['Gianni da Silva', 'da Silva'],
    ['Van Vu', 'Vu'], // a particle never takes the only forename
  ];
  for (const [name, key] of cases) assert.equal(parseAuthorList(name)[0]?.keyname, key, name);
});

test('suffixes are kept apart', () => {
  assert.deepEqual(parseAuthorList('Neal J. Evans II, John Smith Jr., Bob Doe, Sr., Al Roe IV')
    .map((a) => [a.keyname, a.suffix, a.name]), [
    ['Evans', 'II', 'Neal J. Evans II'],
    ['Smith', 'Jr.', 'John Smith Jr.'],
    ['Doe', 'Sr.', 'Bob Doe Sr.'],
    ['Roe', 'IV', 'Al Roe IV'],
  ]);
});

test('collaborations stay whole and "et al" is dropped', () => {
  assert.deepEqual(keynames(parseAuthorList('The BABAR Collaboration, B. Aubert, et al')), [
    'The BABAR Collaboration',
    'Aubert',
  ]);
  assert.deepEqual(keynames(parseAuthorList('F. Aharonian, et al')), ['Aharonian']);
  assert.deepEqual(keynames(parseAuthorList('A. Smith et al.')), ['Smith']);
  assert.deepEqual(keynames(parseAuthorList('ATLAS Collaboration: G. Aad, B. Abbott and others')), [
    'ATLAS Collaboration',
    'Aad',
    'Abbott',
  ]);
  const collab = parseAuthorList('A. Smith (CERN), for the CMS Collaboration');
  assert.deepEqual(collab[1], {
    name: 'the CMS Collaboration',
    keyname: 'the CMS Collaboration',
    forenames: null,
    suffix: null,
    affiliations: [],
  });
});

test('parenthesised affiliations, back-propagated as arXiv does', () => {
  const list = parseAuthorList('G. Dereli and B. Sungu (Yildiz Tech. Univ., Istanbul)');
  assert.deepEqual(list.map((a) => a.affiliations), [['Yildiz Tech. Univ., Istanbul'], ['Yildiz Tech. Univ., Istanbul']]);
  const mixed = parseAuthorList('A. One (X), B. Two, C. Three (Y), D. Four');
  assert.deepEqual(mixed.map((a) => a.affiliations), [['X'], ['Y'], ['Y'], []]);
  const line = 'Floris van der Tak (SRON Groningen), John Black (Onsala), Fredrik\n  Schoeier (Stockholm), David Jansen and Ewine van Dishoeck (Leiden)';
  assert.deepEqual(parseAuthorList(line).map((a) => [a.keyname, a.affiliations]), [
    ['van der Tak', ['SRON Groningen']],
    ['Black', ['Onsala']],
    ['Schoeier', ['Stockholm']],
    ['Jansen', ['Leiden']],
    ['van Dishoeck', ['Leiden']],
  ]);
});

test('numbered affiliations are resolved against the legend', () => {
  const line =
    "A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan\n  Science and Technology Agency, (2) Russian Research Centre ``Kurchatov\n  Institute'', (3) The University of Tokyo)";
  assert.deepEqual(parseAuthorList(line).map((a) => [a.keyname, a.affiliations]), [
    ['Mishchenko', ['CREST, Japan Science and Technology Agency', "Russian Research Centre ``Kurchatov Institute''"]],
    ['Nagaosa', ['CREST, Japan Science and Technology Agency', 'The University of Tokyo']],
  ]);
  const romano = parseAuthorList('M. Perri (3), N.\n  Gehrels (4) and P. Romano (5,6) ((3) ASI, (4) NASA/Goddard, (5) INAF, (6) Milano)');
  assert.deepEqual(romano.map((a) => [a.keyname, a.affiliations]), [
    ['Perri', ['ASI']],
    ['Gehrels', ['NASA/Goddard']],
    ['Romano', ['INAF', 'Milano']],
  ]);
  const bare = parseAuthorList('B. Lanzoni (1,2), F.R. Ferraro (1) (1 Dip. Astro., Bologna; 2 INAF--Oss. Astro., Bologna)');
  assert.deepEqual(bare.map((a) => [a.keyname, a.affiliations]), [
    ['Lanzoni', ['Dip. Astro., Bologna', 'INAF–Oss. Astro., Bologna']],
    ['Ferraro', ['Dip. Astro., Bologna']],
  ]);
  // Refs without a legend resolve to nothing rather than to the digits.
  assert.deepEqual(parseAuthorList('A. One (1), B. Two (2)').map((a) => a.affiliations), [[], []]);
});

test('a parenthesised nickname inside a name', () => {
  assert.deepEqual(
    parseAuthorList('Kadeem Dennis, Zhe (Rita) Liang (MIT) and Matei I. Radulescu (CERN)').map((a) => [a.name, a.affiliations]),
    [
      ['Kadeem Dennis', ['MIT']],
      ['Zhe Liang', ['MIT']],
      ['Matei I. Radulescu', ['CERN']],
    ],
  );
});

test('superscript affiliation marks do not stick to surnames', () => {
  assert.deepEqual(keynames(parseAuthorList('A. Smith$^{1}$, B. Jones$^{2,3}$ and C. Wu$^*$')), ['Smith', 'Jones', 'Wu']);
});

test('authorFromParts', () => {
  assert.deepEqual(authorFromParts({ keyname: 'Bal\\\'azs', forenames: 'C.' }), {
    name: 'C. Balázs',
    keyname: 'Balázs',
    forenames: 'C.',
    suffix: null,
    affiliations: [],
  });
  assert.deepEqual(authorFromParts({ keyname: 'Evans', forenames: 'Neal J.', suffix: 'II', affiliations: ['MIT ', ''] }), {
    name: 'Neal J. Evans II',
    keyname: 'Evans',
    forenames: 'Neal J.',
    suffix: 'II',
    affiliations: ['MIT'],
  });
  // Kaggle writes "C. -P."; the display form is "C.-P." as authors type it.
  assert.equal(authorFromParts({ keyname: 'Yuan', forenames: 'C. -P.' }).name, 'C.-P. Yuan');
  assert.deepEqual(authorFromParts({ keyname: 'The BABAR Collaboration', forenames: '', suffix: '' }), {
    name: 'The BABAR Collaboration',
    keyname: 'The BABAR Collaboration',
    forenames: null,
    suffix: null,
    affiliations: [],
  });
  assert.equal(authorFromParts({ keyname: '', forenames: 'Sudha' }).keyname, 'Sudha');
});

test('authorFromName', () => {
  assert.deepEqual(authorFromName('Carlos Balázs'), {
    name: 'Carlos Balázs',
    keyname: 'Balázs',
    forenames: 'Carlos',
    suffix: null,
    affiliations: [],
  });
  assert.equal(authorFromName('Floris van der Tak').keyname, 'van der Tak');
  assert.deepEqual(authorFromName('John Smith, Jr.', ['MIT']), {
    name: 'John Smith Jr.',
    keyname: 'Smith',
    forenames: 'John',
    suffix: 'Jr.',
    affiliations: ['MIT'],
  });
  assert.deepEqual(authorFromName('Smith, John A.'), {
    name: 'John A. Smith',
    keyname: 'Smith',
    forenames: 'John A.',
    suffix: null,
    affiliations: [],
  });
  assert.equal(authorFromName("P\\'eter E. Frenkel").name, 'Péter E. Frenkel');
  assert.equal(authorFromName('  Adriano  Del\n Maestro ').keyname, 'Del Maestro');
});

// Kaggle's authors_parsed comes from arXiv's own parser: a ground truth for keynames.
test('agrees with arXiv on the Kaggle sample', (t) => {
  // Compiled to dist/src/papers/, so the repository root is three levels up.
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const shared = resolve(repo, process.env.PAPERBOY_SHARED_DATA ?? '../shared/data');
  const file = join(shared, 'arxiv/kaggle-jsonl/wanng-ide_arxivSpider_mnbvc/arxiv-metadata-oai-snapshot.head200.jsonl');
  if (!existsSync(file)) {
    t.skip(`no shared data at ${file}`);
    return;
  }
  let total = 0;
  let sameKeyname = 0;
  let sameForenames = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim().length === 0) continue;
    const record = JSON.parse(line) as { authors: string; authors_parsed: string[][] };
    const got = parseAuthorList(record.authors);
    record.authors_parsed.forEach((expected, i) => {
      total++;
      if (got[i]?.keyname === expected[0]) sameKeyname++;
      if ((got[i]?.forenames ?? '') === (expected[1] ?? '').replace(/\. -/g, '.-')) sameForenames++;
    });
  }
  assert.ok(total > 500, `only ${total} authors read`);
  assert.ok(sameKeyname / total >= 0.95, `keynames agree for ${sameKeyname}/${total}`);
  assert.ok(sameForenames / total >= 0.9, `forenames agree for ${sameForenames}/${total}`);
});

test('property: never throws; every author has a keyname inside its name', () => {
  const unit = fc.constantFrom('A.', 'Smith', ' ', ',', ' and ', '&', '(', ')', '((1) ', '1', 'van', 'de', 'Jr.', 'II',
    'et al', 'Collaboration', '\\', "\\'", '{', '}', '$', ':', ';', '\n  ', 'é');
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit, maxLength: 40 }), fc.string({ maxLength: 60 })), (s) => {
      for (const a of parseAuthorList(s)) {
        assert.ok(a.keyname.length > 0);
        assert.ok(a.name.includes(a.keyname), JSON.stringify(a));
        assert.equal(a.name, a.name.trim());
        assert.ok(Array.isArray(a.affiliations));
      }
      authorFromName(s);
      authorFromParts({ keyname: s, forenames: s, suffix: s });
    }),
    { numRuns: 3000 },
  );
});
