import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorFromName } from './authors.js';
import { escapeMarkdown, escapeMarkdownBlock, markdownUrl, paperMarkdown, type PaperDigest } from './markdown.js';
import type { Paper } from './repository.js';

function paper(overrides: Partial<Paper> = {}): Paper {
  return {
    id: 1,
    arxivId: '0704.0002',
    version: 2,
    title: 'Sparsity-certifying Graph Decompositions',
    titleText: 'Sparsity-certifying Graph Decompositions',
    abstract: 'We describe the $(k,\\ell)$-pebble game with colors.\n\nA second paragraph.',
    abstractText: 'We describe the (k,ℓ)-pebble game with colors.\n\nA second paragraph.',
    authors: [authorFromName('Ileana Streinu', ['Smith College']), authorFromName('Louis Theran')],
    versions: [
      { version: 1, submittedAt: '2007-03-31T02:26:18.000Z', size: '377kb' },
      { version: 2, submittedAt: '2008-12-13T17:26:00.000Z', size: '136kb' },
    ],
    links: [{ url: 'https://github.com/example/pebbles', kind: 'code' }],
    primaryCategory: 'math.CO',
    categories: ['math.CO', 'cs.CG'],
    comments: 'To appear in Graphs and Combinatorics',
    journalRef: null,
    doi: '10.1007/s00373-008-0834-4',
    reportNo: null,
    mscClass: null,
    acmClass: null,
    license: 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/',
    submitter: 'Louis Theran',
    publishedAt: '2007-03-31T02:26:18.000Z',
    updatedAt: '2008-12-13T17:26:00.000Z',
    announcedOn: '2007-04-02',
    announcedEstimated: false,
    withdrawn: false,
    upvotes: 3,
    commentCount: 1,
    modifiedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const digest: PaperDigest = {
  sentences: ['We describe the $(k,\\ell)$-pebble game with colors.'],
  keyphrases: ['pebble game', 'sparse graphs'],
  label: "Computed locally by Paperboy's built-in extractive summariser.",
};

test('the paper as Markdown: heading, authors, links, dates, categories, abstract, summary, citation', () => {
  const md = paperMarkdown(paper(), digest, 'https://paperboy.example/papers/0704.0002');
  assert.ok(md.startsWith('# Sparsity-certifying Graph Decompositions\n\n'));
  assert.match(md, /\*\*Authors:\*\* Ileana Streinu \(Smith College\), Louis Theran/);
  assert.match(md, /\[arXiv:0704\.0002\]\(https:\/\/paperboy\.example\/papers\/0704\.0002\)/);
  assert.match(md, /\[abstract\]\(https:\/\/arxiv\.org\/abs\/0704\.0002\) · \[PDF\]\(https:\/\/arxiv\.org\/pdf\/0704\.0002\)/);
  assert.match(md, /- \*\*Code:\*\* <https:\/\/github\.com\/example\/pebbles>/);
  assert.match(md, /- \*\*First version:\*\* 2007-03-31/);
  assert.match(md, /- \*\*Latest version:\*\* v2, 2008-12-13/);
  assert.match(md, /- \*\*Announced:\*\* 2007-04-02\n/);
  assert.match(md, /- \*\*Categories:\*\* \*\*math\.CO\*\*, cs\.CG/);
  assert.match(md, /\[10\.1007\/s00373-008-0834-4\]\(https:\/\/doi\.org\/10\.1007\/s00373-008-0834-4\)/);
  assert.match(md, /## Abstract\n\nWe describe the \$\(k,\\ell\)\$-pebble game with colors\.\n\nA second paragraph\.\n/);
  assert.match(md, /## Summary\n\n_Computed locally by Paperboy's built-in extractive summariser\._\n\n- We describe/);
  assert.match(md, /\*\*Keyphrases:\*\* pebble game, sparse graphs/);
  assert.match(md, /## Cite\n\n```bibtex\n@misc\{streinu2007sparsity,\n[\s\S]*\n}\n```\n$/);
  assert.ok(!md.includes('withdrawn'));
});

test('withdrawn papers say so first', () => {
  assert.match(paperMarkdown(paper({ withdrawn: true }), digest, 'u'), /^# .*\n\n> \*\*This paper has been withdrawn/);
});

test('Markdown specials in text are escaped, TeX math is not', () => {
  assert.equal(escapeMarkdown('*Not* a [link] <b>_x_</b> a|b `c` & d'), '\\*Not\\* a \\[link\\] \\<b\\>\\_x\\_\\</b\\> a\\|b \\`c\\` \\& d');
  assert.equal(escapeMarkdown('Rate $O(n^*_1)$ and *this*'), 'Rate $O(n^*_1)$ and \\*this\\*');
  assert.equal(escapeMarkdownBlock('1. not a list\n# not a heading\n- not an item'), '1\\. not a list\n\\# not a heading\n\\- not an item');
  assert.equal(escapeMarkdown('10.1000/x'), '10.1000/x', 'line-start rules only for blocks');
  const md = paperMarkdown(paper({ title: 'A *bold* [claim](javascript:alert(1))', abstract: '# Heading?\n\n<script>alert(1)</script>' }), digest, 'u');
  assert.ok(md.startsWith('# A \\*bold\\* \\[claim\\](javascript:alert(1))\n'));
  assert.match(md, /\n\\# Heading\?\n/);
  assert.match(md, /\n\\<script\\>alert\(1\)\\<\/script\\>\n/);
});

test('URLs cannot break out of a Markdown link', () => {
  assert.equal(markdownUrl('https://x.org/a b(c)<d>'), 'https://x.org/a%20b%28c%29%3Cd%3E');
});

test('a BibTeX entry with backticks gets a longer fence', () => {
  const md = paperMarkdown(paper({ title: 'Code ```fenced``` title' }), digest, 'u');
  assert.match(md, /\n````bibtex\n[\s\S]*\n````\n$/);
});
