import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plainWords, splitSentences, stem, summarise, SUMMARISER } from './summary.js';

test('sentences end at . ! ? before a capital, digit or math', () => {
  assert.deepEqual(splitSentences('We study graphs. They are sparse! Are they? $k$-sparse graphs follow. 42 is the answer.'), [
    'We study graphs.',
    'They are sparse!',
    'Are they?',
    '$k$-sparse graphs follow.',
    '42 is the answer.',
  ]);
});

test('abbreviations, initials and decimals do not end a sentence', () => {
  const text =
    'Methods, e.g. Monte Carlo, work. As shown by Smith et al. (2020) and Jones et al. Our bound is 0.5 in Fig. 2 and Eq. 3. ' +
    'Work by A. Einstein, i.e. Relativity, and U.S. Patents vs. Others appear in No. 7 and Vol. 3. Ref. 4 agrees. Finally we conclude.';
  assert.deepEqual(splitSentences(text), [
    'Methods, e.g. Monte Carlo, work.',
    'As shown by Smith et al. (2020) and Jones et al. Our bound is 0.5 in Fig. 2 and Eq. 3.',
    'Work by A. Einstein, i.e. Relativity, and U.S. Patents vs. Others appear in No. 7 and Vol. 3.',
    'Ref. 4 agrees.',
    'Finally we conclude.',
  ]);
});

test('no split inside TeX math; paragraph breaks always split; closing quotes stay with their sentence', () => {
  assert.deepEqual(splitSentences('We bound $x. Y$ and $$a. B$$ here. Then "it ends." Next (we see.) Done'), [
    'We bound $x. Y$ and $$a. B$$ here.',
    'Then "it ends."',
    'Next (we see.)',
    'Done',
  ]);
  assert.deepEqual(splitSentences('First paragraph without a stop\n\nsecond paragraph.'), ['First paragraph without a stop', 'second paragraph.']);
  // An unpaired dollar (a price) does not swallow the rest of the text as math.
  assert.deepEqual(splitSentences('It costs $5. Then it ends.'), ['It costs $5.', 'Then it ends.']);
  assert.deepEqual(splitSentences('lower case after a stop. is not a new sentence'), ['lower case after a stop. is not a new sentence']);
  assert.deepEqual(splitSentences('  '), []);
});

test('sentence splitting never loses or invents text', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', '?', '$', '\\', '\n', '2', 'e.g.', 'Fig. ', '"') }), (text) => {
      const strip = (s: string): string => s.replace(/\s+/g, '');
      assert.equal(splitSentences(text).map(strip).join(''), strip(text));
    }),
  );
});

const ABSTRACT =
  'Large language models are expensive to adapt to new tasks. ' +
  'We propose low-rank adaptation, which freezes the pretrained model weights and injects trainable low-rank matrices into each layer. ' +
  'The weather in Paris was pleasant during the conference. ' +
  'Low-rank adaptation reduces the number of trainable parameters of language models by a factor of ten thousand. ' +
  'Our code is public. ' +
  'Adaptation quality of the low-rank matrices matches full fine-tuning of the language models on several benchmarks. ' +
  'We also thank our colleagues.';

test('the summary keeps 2-3 central sentences of the abstract in their original order', () => {
  const summary = summarise(ABSTRACT);
  const sentences = splitSentences(ABSTRACT);
  assert.equal(summary.length, 3);
  const positions = summary.map((s) => sentences.indexOf(s));
  assert.ok(positions.every((p) => p >= 0), 'every summary sentence is a sentence of the abstract');
  assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'original order');
  assert.ok(summary[0]?.startsWith('We propose low-rank adaptation'), summary.join(' | '));
  assert.ok(!summary.some((s) => s.includes('weather') || s.includes('thank') || s === 'Our code is public.'), summary.join(' | '));
  assert.deepEqual(summarise(ABSTRACT), summary, 'deterministic');
});

test('short abstracts: all of one or two sentences, two of a few', () => {
  assert.deepEqual(summarise(''), []);
  assert.deepEqual(summarise('Only one sentence here.'), ['Only one sentence here.']);
  assert.deepEqual(summarise('One sentence. Two sentences.'), ['One sentence.', 'Two sentences.']);
  assert.equal(summarise('Graphs are sparse. Sparse graphs have pebble games. Pebble games decide sparse graphs. The end is near.').length, 2);
});

test('TeX math is kept in the chosen sentences but ignored when comparing them', () => {
  assert.deepEqual(plainWords('The $\\Lambda_{\\alpha}$ norm of \\emph{dyadic} atoms'), ['The', 'norm', 'of', 'dyadic', 'atoms']);
  const tex = 'We compute the $\\Lambda_{\\alpha}$ norm with dyadic atoms. Dyadic atoms give the norm. Nothing else matters here at all. The dyadic norm of atoms is computed.';
  assert.ok(summarise(tex).some((s) => s.includes('$\\Lambda_{\\alpha}$')));
});

test('stemming merges inflections only', () => {
  assert.equal(stem('networks'), stem('network'));
  assert.equal(stem('studies'), 'study');
  assert.equal(stem('learning'), stem('learned'));
  assert.equal(stem('running'), 'run');
  assert.equal(stem('analysis'), 'analysis');
  assert.equal(stem('class'), 'class');
  assert.notEqual(stem('general'), stem('generate'));
});

test('summarising is fast: well under 1 ms per abstract', () => {
  const long = Array.from({ length: 25 }, (_, i) => `Sentence ${i} discusses graphs, networks and sparse matrices of size ${i}.5 in Fig. ${i}.`).join(' ');
  // The best of several batches, so a busy test machine does not fail it.
  let best = Number.POSITIVE_INFINITY;
  for (let batch = 0; batch < 10; batch++) {
    const start = performance.now();
    for (let i = 0; i < 50; i++) {
      summarise(ABSTRACT);
      summarise(long);
    }
    best = Math.min(best, (performance.now() - start) / 100);
  }
  assert.ok(best < 1, `${best.toFixed(3)} ms per abstract`);
});

test('the method has a name and a version for the label', () => {
  assert.deepEqual(SUMMARISER, { name: 'paperboy-extractive', version: 1 });
});
