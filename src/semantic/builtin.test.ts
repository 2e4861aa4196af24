import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinEmbedder, deserializeBuiltinModel, fitBuiltinModel, serializeBuiltinModel, tokenize } from './builtin.js';
import { documentText, dot } from './embedder.js';
import { porterStem } from './porter.js';

// A tiny corpus with two topics, each in varied words, so co-occurrence links them.
const TOPICS = [
  ['vitamin', 'bone', 'fracture', 'calcium', 'osteoporosis', 'elderly', 'density', 'supplementation'],
  ['neural', 'network', 'training', 'gradient', 'layer', 'deep', 'learning', 'optimizer'],
  ['galaxy', 'star', 'telescope', 'redshift', 'cosmic', 'dark', 'matter', 'survey'],
];
const CORPUS = Array.from({ length: 60 }, (_, i) => {
  const words = TOPICS[i % 3]!;
  const pick = (j: number): string => words[(i * 7 + j * 3) % words.length]!;
  return documentText(`${pick(0)} and ${pick(1)} study ${i}`, `We examine ${pick(2)} with ${pick(3)}. The ${pick(4)} of ${pick(5)} matters for ${pick(6)}.`);
});

test('the Porter stemmer gives the reference stems', () => {
  const cases: [string, string][] = [
    ['caresses', 'caress'], ['ponies', 'poni'], ['relational', 'relat'], ['generalization', 'gener'],
    ['hopping', 'hop'], ['filing', 'file'], ['happy', 'happi'], ['adjustment', 'adjust'], ['fractures', 'fractur'],
  ];
  for (const [word, stem] of cases) assert.equal(porterStem(word), stem, word);
  assert.deepEqual(tokenize('The Fractured bones, of 2019 ÉTUDES!'), ['fractur', 'bone', 'études'], 'non-ASCII words are not stemmed');
});

test('fitting twice gives identical bytes', () => {
  const a = serializeBuiltinModel(fitBuiltinModel(CORPUS, { dimensions: 8 }));
  const b = serializeBuiltinModel(fitBuiltinModel([...CORPUS], { dimensions: 8 }));
  assert.ok(a.length > 100);
  assert.deepEqual(a, b);
});

test('a model survives a serialize / deserialize round trip and embeds identically', async () => {
  const model = fitBuiltinModel(CORPUS, { dimensions: 8 });
  const copy = deserializeBuiltinModel(serializeBuiltinModel(model));
  assert.equal(copy.dimensions, model.dimensions);
  assert.deepEqual(copy.vocabulary, model.vocabulary);
  const texts = ['bone fracture in the elderly', CORPUS[1]!];
  const original = await builtinEmbedder(model, 'f').embed(texts, 'document');
  const restored = await builtinEmbedder(copy, 'f').embed(texts, 'document');
  assert.deepEqual(restored, original);
});

test('damaged bytes throw a clear error', () => {
  const bytes = serializeBuiltinModel(fitBuiltinModel(CORPUS, { dimensions: 8 }));
  const flipped = bytes.slice();
  flipped[100] = (flipped[100] ?? 0) ^ 0xff;
  assert.throws(() => deserializeBuiltinModel(flipped), /not a valid built-in embedding model: checksum/);
  assert.throws(() => deserializeBuiltinModel(bytes.subarray(0, 50)), /not a valid built-in embedding model/);
  assert.throws(() => deserializeBuiltinModel(new Uint8Array(3)), /bad header/);
  const future = bytes.slice();
  future[4] = 99;
  assert.throws(() => deserializeBuiltinModel(future), /format 99/);
});

test('vectors are unit length; unknown words give a zero vector, never NaN', async () => {
  const model = fitBuiltinModel(CORPUS, { dimensions: 8 });
  const embedder = builtinEmbedder(model, 'fp');
  assert.equal(embedder.name, 'builtin');
  assert.equal(embedder.fingerprint, 'fp');
  const [known, unknown, empty] = await embedder.embed(['neural network training', 'zzyzx qwerty', ''], 'query');
  assert.equal(known?.length, 8);
  assert.ok(Math.abs(dot(known!, known!) - 1) < 1e-5);
  for (const v of [unknown!, empty!]) {
    assert.equal(v.length, 8);
    assert.ok(v.every((x) => x === 0));
  }
});

test('related texts are closer than unrelated ones', async () => {
  const embedder = builtinEmbedder(fitBuiltinModel(CORPUS, { dimensions: 8 }), 'fp');
  const [bone, calcium, galaxy] = await embedder.embed(
    ['fracture risk in the elderly', 'calcium and bone density', 'redshift survey of a galaxy'],
    'document',
  );
  assert.ok(dot(bone!, calcium!) > dot(bone!, galaxy!) + 0.2, `${dot(bone!, calcium!)} vs ${dot(bone!, galaxy!)}`);
});

test('tiny and empty corpora fit without throwing', async () => {
  for (const docs of [[], ['one lonely paper'], ['alpha beta', 'alpha gamma']]) {
    const model = fitBuiltinModel(docs, { dimensions: 16 });
    assert.ok(model.dimensions >= 1);
    const [v] = await builtinEmbedder(model, 'x').embed(['alpha'], 'query');
    assert.ok(v!.every(Number.isFinite));
  }
});
