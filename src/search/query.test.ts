import { test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { categoryFilters, NO_SEARCHABLE_TERMS, parseQuery, renderMatch, tokens, type MatchMode } from './query.js';

const render = (q: string, mode: MatchMode = 'all'): string => {
  const r = renderMatch(parseQuery(q), mode);
  return r.ok ? r.match : `!${r.reason}`;
};

test('bare terms are quoted and AND-ed', () => {
  assert.equal(render('graph neural'), '("graph" AND "neural")');
  assert.equal(render('diphoton'), '"diphoton"');
});

test('phrases, exclusions and excluded phrases', () => {
  assert.equal(render('"graph neural" networks'), '("graph neural" AND "networks")');
  assert.equal(render('transformer -vision -"image patches"'), '"transformer" NOT "vision" NOT "image patches"');
});

test('author:, title: and abstract: restrict to one column', () => {
  assert.equal(render('author:Hinton'), 'authors_text : "Hinton"');
  assert.equal(render('author:"van der Berg" title:attention'), '(authors_text : "van der Berg" AND title_text : "attention")');
  assert.equal(render('-author:smith learning'), '"learning" NOT authors_text : "smith"');
});

test('cat: becomes a filter, not a term; an archive prefix is kept as is', () => {
  const q = parseQuery('cat:cs.LG -cat:stat transformers');
  assert.deepEqual(categoryFilters(q), { include: ['cs.LG'], exclude: ['stat'] });
  assert.deepEqual(renderMatch(q), { ok: true, match: '"transformers"' });
});

test('FTS5 syntax in the input is just text', () => {
  assert.equal(render('NEAR(a b) title:x* ^start'), '("NEAR a" AND "b" AND title_text : "x" AND "start")');
  assert.equal(render('a OR b AND NOT c'), '("a" AND "OR" AND "b" AND "AND" AND "NOT" AND "c")');
  assert.equal(render('state-of-the-art'), '"state of the art"');
  assert.equal(render('foo:bar'), '"foo bar"');
});

test('bad syntax degrades to plain terms and never throws', () => {
  assert.equal(render('"graph neural'), '("graph" AND "neural")');
  assert.equal(render('author:"van der'), '("author" AND "van" AND "der")');
  assert.equal(render('- x'), '"x"');
  assert.equal(render('author: hinton'), '("author" AND "hinton")');
  assert.equal(render('""'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render('"'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render('cat:"cs LG"'), '("cat" AND "cs LG")');
});

test('only exclusions, or only punctuation, has no searchable terms', () => {
  assert.equal(render('-x'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render('-x -"y z" cat:cs'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render('*** () ""'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render(''), `!${NO_SEARCHABLE_TERMS}`);
});

test('any mode ORs the words and drops stop words', () => {
  assert.equal(render('What is the role of the p53 gene?', 'any'), '("role" OR "p53" OR "gene")');
  assert.equal(render('the of', 'any'), `!${NO_SEARCHABLE_TERMS}`);
  assert.equal(render('"gene therapy" cancer -mouse', 'any'), '("gene therapy" OR "cancer") NOT "mouse"');
});

test('tokens splits like unicode61: letters and digits only', () => {
  assert.deepEqual(tokens('Schrödinger’s cat, e=mc^2'), ['Schrödinger', 's', 'cat', 'e', 'mc', '2']);
  assert.deepEqual(tokens('"--*"'), []);
});

test('property: every rendered MATCH expression is valid FTS5 (or reported as having no terms)', () => {
  const db = new BetterSqlite3(':memory:');
  db.exec(`CREATE VIRTUAL TABLE t USING fts5 (title_text, authors_text, abstract_text,
           tokenize = 'porter unicode61 remove_diacritics 2')`);
  db.prepare('INSERT INTO t VALUES (?, ?, ?)').run('graph neural networks', 'Geoffrey Hinton', 'state-of-the-art NEAR "quoted" text');
  const stmt = db.prepare('SELECT count(*) FROM t WHERE t MATCH ?').pluck();
  const pieces = fc.constantFrom(
    '"', '-', ':', '*', '^', '(', ')', 'NEAR', 'NOT', 'AND', 'OR', 'author:', 'title:', 'cat:', 'cat:cs.LG', '{', '}',
    '+', ' ', '\u0301', '\uE000', '𝑥', 'é', 'graph', 'ß', '\t', '\u00A0', '""', '-"', "'", ',', '.',
  );
  const input = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(fc.oneof(pieces, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((a) => a.join('')),
  );
  fc.assert(
    fc.property(input, fc.constantFrom<MatchMode>('all', 'any'), (q, mode) => {
      const r = renderMatch(parseQuery(q), mode);
      if (!r.ok) {
        assert.equal(r.reason, NO_SEARCHABLE_TERMS);
        return;
      }
      stmt.get(r.match); // throws on an FTS5 syntax error
    }),
    { numRuns: 3000 },
  );
  db.close();
});
