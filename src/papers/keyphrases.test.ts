import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyphrases, MAX_KEYPHRASES } from './keyphrases.js';
import { isStopWord, stem } from './summary.js';

const TITLE = 'Sparsity-certifying Graph Decompositions';
// The abstract of arXiv:0704.0002 (Streinu and Theran).
const ABSTRACT = `We describe a new algorithm, the $(k,\\ell)$-pebble game with colors, and use it obtain a characterization of the
family of $(k,\\ell)$-sparse graphs and algorithmic solutions to a family of problems concerning tree decompositions of
graphs. Special instances of sparse graphs appear in rigidity theory and have received increased attention in recent
years. In particular, our colored pebbles generalize and strengthen the previous results of Lee and Streinu and give a
new proof of the Tutte-Nash-Williams characterization of arboricity. We also present a new decomposition that certifies
sparsity based on the $(k,\\ell)$-pebble game with colors. Our work also exposes connections between pebble game
algorithms and previous sparse graph algorithms by Gabow, Gabow and Westermann and Hendrickson.`;

test('5 to 8 keyphrases of a real abstract, title phrases and repeated phrases first', () => {
  const phrases = keyphrases(TITLE, ABSTRACT);
  assert.ok(phrases.length >= 5 && phrases.length <= MAX_KEYPHRASES, phrases.join(' | '));
  assert.ok(phrases.includes('sparsity-certifying graph decompositions'), phrases.join(' | '));
  assert.ok(phrases.includes('pebble game'), phrases.join(' | '));
  assert.ok(phrases.includes('rigidity theory'), phrases.join(' | '));
  for (const p of phrases) {
    const words = p.split(' ');
    assert.ok(words.length <= 4, p);
    assert.ok(!isStopWord(words[0] ?? '') && !isStopWord(words.at(-1) ?? ''), `no stop word at either end: ${p}`);
    assert.ok(!/[$\\{}]/.test(p), `no TeX: ${p}`);
  }
  assert.deepEqual(keyphrases(TITLE, ABSTRACT), phrases, 'deterministic');
});

test('inflections count as one phrase; a phrase inside a chosen one is left out', () => {
  const phrases = keyphrases('Neural networks for graphs', 'Neural network models are popular. Deep models use neural networks. A network is a graph.');
  const keys = phrases.map((p) => p.split(' ').map(stem).join(' '));
  assert.equal(new Set(keys).size, keys.length, phrases.join(' | '));
  assert.equal(phrases[0], 'neural networks', phrases.join(' | '));
  assert.ok(!phrases.includes('neural network models'), 'contains a chosen phrase');
  assert.ok(!phrases.includes('network'), phrases.join(' | '));
});

test('acronyms keep their capitals; verbs and adverbs end phrases', () => {
  const phrases = keyphrases(
    'String Junctions and Their Duals in Heterotic String Theory',
    'We explicitly give the correspondence between spectra of heterotic string theory compactified on $T^2$ and string junctions in type IIB theory compactified on $S^2$.',
  );
  assert.ok(phrases.includes('heterotic string theory'), phrases.join(' | '));
  assert.ok(phrases.includes('type IIB theory'), phrases.join(' | '));
  assert.ok(!phrases.some((p) => /explicitly|compactified|give/.test(p)), phrases.join(' | '));
});

test('empty and stop-word-only input give no keyphrases', () => {
  assert.deepEqual(keyphrases('', ''), []);
  assert.deepEqual(keyphrases('On the', 'We show that it is.'), []);
});

test('fast: well under 1 ms per abstract', () => {
  // The best of several batches, so a busy test machine does not fail it.
  let best = Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < 10; batch++) {
    const start = performance.now();
    for (let i = 0; i < 50; i++) keyphrases(TITLE, ABSTRACT);
    best = Math.min(best, (performance.now() - start) / 50);
  }
  assert.ok(best < 1, `${best.toFixed(3)} ms`);
});
