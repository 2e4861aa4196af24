import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Paper } from '../papers/repository.js';
import { collectionBibtex } from '../web/collection-pages.js';
import { parseBibtex, referencesOf } from './bibtex-import.js';

const REAL_FILE = `% A file as people keep them
@string{ jmlr = "Journal of Machine Learning Research" }
@string(arxiv = {arXiv preprint})
@preamble{ "\\newcommand{\\noop}[1]{}" }
@comment{ exported by a reference manager, {nested} braces }

Text between entries is a comment, even with an email@example.org.

@article{hu2021lora,
  title     = {{LoRA}: Low-Rank Adaptation of {Large {Language}} Models},
  author    = "Hu, Edward J. and {Shen}, Yelong",
  journal   = arxiv # " arXiv:2106.09685",
  year      = 2021,
  month     = jun,
}

@misc{old,
  title = "G{\\"o}del's title with {braces "inside"}",
  eprint = {hep-th/9901001v2},
  archivePrefix = {arXiv},
}

@inproceedings{byurl, url = {https://arxiv.org/pdf/1706.03762v7.pdf}, booktitle = jmlr}
@article{bydoi, doi = {10.1103/PhysRevD.76.013009}}
@article{doiurl, howpublished = {\\url{https://doi.org/10.1000/ABC_def}}}
@article{nothing, title = {No identifiers at all}}
@article{notarxiv, eprint = {12345}, archivePrefix = {PubMed}}
@article{broken, title = {never closed
@article{after, arxiv = {arXiv:0704.0001}}
`;

function paper(overrides: Partial<Paper>): Paper {
  return {
    id: 1,
    arxivId: '2106.09685',
    version: 1,
    title: 'A title',
    titleText: 'A title',
    abstract: '',
    abstractText: '',
    authors: [{ name: 'Ada Lovelace', keyname: 'Lovelace', forenames: 'Ada', suffix: null, affiliations: [] }],
    primaryCategory: 'cs.LG',
    categories: ['cs.LG'],
    doi: null,
    journalRef: null,
    comments: null,
    publishedAt: '2021-06-17T00:00:00Z',
    ...overrides,
  } as Paper;
}

describe('BibTeX import parser', () => {
  test('reads a real-world file: macros, comments, quotes, nesting, concatenation', () => {
    const file = parseBibtex(REAL_FILE);
    const keys = file.entries.map((e) => e.key);
    assert.deepEqual(keys, ['hu2021lora', 'old', 'byurl', 'bydoi', 'doiurl', 'nothing', 'notarxiv', 'after']);
    const lora = file.entries[0];
    assert.equal(lora?.fields.title, '{LoRA}: Low-Rank Adaptation of {Large {Language}} Models');
    assert.equal(lora?.fields.journal, 'arXiv preprint arXiv:2106.09685');
    assert.equal(lora?.fields.month, 'jun');
    assert.equal(lora?.line, 9);
    assert.equal(file.entries[1]?.fields.title, 'G{\\"o}del\'s title with {braces "inside"}');
    assert.equal(file.problems.length, 1);
    assert.equal(file.problems[0]?.key, 'broken');
    assert.match(file.problems[0]?.message ?? '', /never closed/);
    assert.equal(file.problems[0]?.line, 28);
  });

  test('finds arXiv ids and DOIs where .bib files put them', () => {
    const refs = Object.fromEntries(parseBibtex(REAL_FILE).entries.map((e) => [e.key, referencesOf(e)]));
    assert.deepEqual(refs.hu2021lora, { arxivIds: ['2106.09685'], dois: [] });
    assert.deepEqual(refs.old, { arxivIds: ['hep-th/9901001'], dois: [] });
    assert.deepEqual(refs.byurl, { arxivIds: ['1706.03762'], dois: [] });
    assert.deepEqual(refs.bydoi, { arxivIds: [], dois: ['10.1103/physrevd.76.013009'] });
    assert.deepEqual(refs.doiurl, { arxivIds: [], dois: ['10.1000/abc_def'] });
    assert.deepEqual(refs.nothing, { arxivIds: [], dois: [] });
    assert.deepEqual(refs.notarxiv, { arxivIds: [], dois: [] });
    assert.deepEqual(refs.after, { arxivIds: ['0704.0001'], dois: [] });
  });

  test('never throws, and reports every entry it cannot read', () => {
    const pieces = fc.constantFrom('@', '@article{', '@string{', '@comment(', '{', '}', '"', '#', ',', '=', '\n', '\n@', 'k', ' ', 'eprint', '\\', '(', ')');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(pieces, { maxLength: 80 }).map((a) => a.join(''))), (text) => {
        const file = parseBibtex(text);
        for (const e of file.entries) referencesOf(e);
        for (const p of file.problems) assert.ok(p.line >= 1 && p.line <= text.split('\n').length);
      }),
      { numRuns: 2000 },
    );
  });

  test('a collection exported as BibTeX imports back to the same papers, keys unique', () => {
    const arxivId = fc.oneof(
      fc.tuple(fc.integer({ min: 8, max: 26 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 9999 })).map(
        ([y, m, n]) => `${String(y).padStart(2, '0')}${String(m).padStart(2, '0')}.${String(n).padStart(y >= 15 ? 5 : 4, '0')}`,
      ),
      fc.tuple(fc.constantFrom('hep-th', 'math', 'cond-mat', 'astro-ph'), fc.integer({ min: 92, max: 99 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 999 })).map(
        ([a, y, m, n]) => `${a}/${y}${String(m).padStart(2, '0')}${String(n).padStart(3, '0')}`,
      ),
    );
    const text = fc.string({ maxLength: 40 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ arxivId, title: text, note: text, journalRef: fc.option(text, { nil: null }) }), { selector: (p) => p.arxivId, maxLength: 8 }), (papers) => {
        const bib = collectionBibtex(papers.map((p) => ({ paper: paper({ arxivId: p.arxivId, title: p.title, titleText: p.title, journalRef: p.journalRef }), note: p.note })));
        const file = parseBibtex(bib);
        assert.deepEqual(file.problems, []);
        assert.deepEqual(
          file.entries.map((e) => referencesOf(e).arxivIds),
          papers.map((p) => [p.arxivId]),
        );
        assert.equal(new Set(file.entries.map((e) => e.key)).size, papers.length, 'keys are unique');
      }),
      { numRuns: 300 },
    );
  });
});
