import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { authorFromName } from './authors.js';
import { bibtexKey, bibtexText, toBibtex, toRis, type CitablePaper } from './citation.js';

function paper(overrides: Partial<CitablePaper> = {}): CitablePaper {
  return {
    arxivId: '0704.0005',
    title: 'From dyadic $\\Lambda_{\\alpha}$ to $\\Lambda_{\\alpha}$',
    titleText: 'From dyadic Λα to Λα',
    abstractText: 'In this paper we show how to compute the Λα norm.\nUsing the dyadic grid.',
    authors: [authorFromName('Wael Abu-Shammala'), authorFromName('Alberto Torchinsky', ['Indiana University'])],
    primaryCategory: 'math.CA',
    categories: ['math.CA', 'math.FA'],
    doi: null,
    journalRef: 'Illinois J. Math. 52 (2008) no.2, 681-689',
    comments: '12 pages',
    publishedAt: '2007-04-02T18:09:58.000Z',
    ...overrides,
  };
}

/** True when every `{` has its `}` (BibTeX counts escaped braces too). */
function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '{') depth += 1;
    if (c === '}') depth -= 1;
    if (depth < 0) return false;
  }
  return depth === 0;
}

test('BibTeX in arXiv’s @misc shape, math kept in the title', () => {
  assert.equal(
    toBibtex(paper()),
    `@misc{abushammala2007dyadic,
  title = {{From dyadic $\\Lambda_{\\alpha}$ to $\\Lambda_{\\alpha}$}},
  author = {Abu-Shammala, Wael and Torchinsky, Alberto},
  year = {2007},
  eprint = {0704.0005},
  archivePrefix = {arXiv},
  primaryClass = {math.CA},
  note = {Illinois J. Math. 52 (2008) no.2, 681-689},
  url = {https://arxiv.org/abs/0704.0005},
}
`,
  );
});

test('old-style ids, DOIs, suffixes, particles and collaborations', () => {
  const bib = toBibtex(
    paper({
      arxivId: 'hep-th/9901001',
      primaryCategory: 'hep-th',
      doi: '10.1143/ptp_101.1155',
      journalRef: null,
      authors: [authorFromName('Jan van der Berg Jr.'), { name: 'ATLAS Collaboration', keyname: 'ATLAS Collaboration', forenames: null, suffix: null, affiliations: [] }],
    }),
  );
  assert.match(bib, /^@misc\{vanderberg2007dyadic,/);
  assert.match(bib, /author = \{van der Berg, Jr\., Jan and \{ATLAS Collaboration\}\},/);
  assert.match(bib, /eprint = \{hep-th\/9901001\},/);
  // biblatex reads doi verbatim, so it is not escaped.
  assert.match(bib, /doi = \{10\.1143\/ptp_101\.1155\},/);
  assert.match(bib, /url = \{https:\/\/arxiv\.org\/abs\/hep-th\/9901001\},/);
  assert.ok(!bib.includes('note ='));
});

test('TeX specials outside math are escaped, once; stray braces are dropped', () => {
  assert.equal(bibtexText('Q&A with 50% of #tags and snake_case'), 'Q\\&A with 50\\% of \\#tags and snake\\_case');
  assert.equal(bibtexText('Already \\& escaped, $a_1 \\& b^2$ math'), 'Already \\& escaped, $a_1 \\& b^2$ math');
  assert.equal(bibtexText('x^2 costs $5'), 'x\\^{}2 costs \\$5');
  assert.equal(bibtexText('Broken } title { here'), 'Broken title here');
  assert.equal(bibtexText('\\emph{Kept} and {Caps}'), '\\emph{Kept} and {Caps}');
  const bib = toBibtex(paper({ title: 'A } title', authors: [authorFromName('O}Brien {X')] }));
  assert.ok(balanced(bib), bib);
});

test('any title and author list gives a BibTeX entry with balanced braces', () => {
  fc.assert(
    fc.property(fc.string(), fc.array(fc.string({ minLength: 1 }), { maxLength: 3 }), (title, names) => {
      const bib = toBibtex(paper({ title, titleText: title, authors: names.map((n) => authorFromName(n)) }));
      assert.ok(balanced(bib), bib);
      assert.ok(bib.startsWith('@misc{') && bib.endsWith('}\n'));
    }),
  );
});

test('keys fall back sensibly', () => {
  assert.equal(bibtexKey(paper({ authors: [], publishedAt: null, titleText: 'On the Müller flow' })), 'anonmuller');
  assert.equal(bibtexKey(paper({ authors: [authorFromName('Jörg Öztürk')] })), 'ozturk2007dyadic');
});

test('papers from other sources (BEIR) have no arXiv fields', () => {
  const bib = toBibtex(paper({ arxivId: 'beir:4983', primaryCategory: null, categories: [] }));
  assert.ok(!/eprint|archivePrefix|primaryClass|url/.test(bib), bib);
  const ris = toRis(paper({ arxivId: 'beir:4983', primaryCategory: null, categories: [] }));
  assert.ok(!ris.includes('UR  -'));
  assert.match(ris, /N1 {2}- beir:4983/);
});

test('RIS: TY first, ER last, one AU per author, CRLF everywhere, single-line values', () => {
  const ris = toRis(paper({ doi: '10.1000/x' }));
  assert.equal(
    ris,
    [
      'TY  - PREP',
      'T1  - From dyadic Λα to Λα',
      'AU  - Abu-Shammala, Wael',
      'AU  - Torchinsky, Alberto',
      'PY  - 2007',
      'DA  - 2007/04/02',
      'AB  - In this paper we show how to compute the Λα norm. Using the dyadic grid.',
      'KW  - math.CA',
      'KW  - math.FA',
      'UR  - https://arxiv.org/abs/0704.0005',
      'PB  - arXiv',
      'AN  - arXiv:0704.0005',
      'DO  - 10.1000/x',
      'N1  - arXiv:0704.0005 [math.CA]; Illinois J. Math. 52 (2008) no.2, 681-689; 12 pages',
      'ER  - ',
      '',
    ].join('\r\n'),
  );
  assert.ok(!/[^\r]\n/.test(ris), 'no bare LF');
});
