import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { normalize } from '../semantic/embedder.js';
import { keywordKey, keywordMatcher, keywordProblem } from './muted.js';
import { bestMatch, centroid, mmr, score, scoreParts } from './ranking.js';

const v = (...xs: number[]): Float32Array => normalize(Float32Array.from(xs));

test('centroid is the normalised mean; bestMatch finds the closest', () => {
  const c = centroid([v(1, 0), v(0, 1)]);
  assert.ok(c !== undefined);
  assert.ok(Math.abs((c[0] ?? 0) - Math.SQRT1_2) < 1e-6 && Math.abs((c[1] ?? 0) - Math.SQRT1_2) < 1e-6);
  assert.equal(centroid([]), undefined);
  assert.deepEqual(bestMatch(v(1, 0.1), [v(0, 1), v(1, 0)])?.index, 1);
  assert.equal(bestMatch(v(1, 0), []), undefined);
});

test('a score: similarity and follows add, similarity to a dismissed paper subtracts', () => {
  const base = { follows: [], freshness: 0 } as const;
  const similar = score({ ...base, maxSim: { similarity: 0.9, positive: 0 }, centroidSim: 0.8 });
  const followed = score({ ...base, maxSim: { similarity: 0.9, positive: 0 }, centroidSim: 0.8, follows: ['author'] });
  const disliked = score({ ...base, maxSim: { similarity: 0.9, positive: 0 }, centroidSim: 0.8, negativeSim: 0.95 });
  assert.ok(followed > similar && similar > disliked);
  assert.equal(scoreParts({ ...base, negativeSim: 0.1 }).negative, 0, 'unrelated dismissed papers do not count');
  // Two follows count as the strongest plus a little, not as their sum.
  assert.ok(score({ ...base, follows: ['author', 'category'] }) < score({ ...base, follows: ['author'] }) + 0.05);
});

test('MMR spreads near-duplicates out; λ = 1 ranks by score alone', () => {
  const items = [
    { id: 'a', score: 1.0, topic: 0 },
    { id: 'a2', score: 0.99, topic: 0 },
    { id: 'b', score: 0.8, topic: 1 },
  ];
  const same = (x: { topic: number }, y: { topic: number }): number => (x.topic === y.topic ? 1 : 0);
  assert.deepEqual(mmr(items, 3, same, 0.7).map((i) => i.id), ['a', 'b', 'a2']);
  assert.deepEqual(mmr(items, 3, same, 1).map((i) => i.id), ['a', 'a2', 'b']);
  assert.deepEqual(mmr(items, 1, same).map((i) => i.id), ['a']);
  assert.deepEqual(mmr([], 3, same), []);
});

test('muted keywords: whole words or phrases, any case, never inside a longer word', () => {
  const match = keywordMatcher(['GAN', 'large language model']);
  assert.equal(match('A new gan for faces'), 'GAN');
  assert.equal(match('Organ transplants'), undefined);
  assert.equal(match('GANs everywhere'), undefined);
  assert.equal(match('Large   Language\nModel agents'), 'large language model');
  assert.equal(keywordKey('  Large  Language Model '), 'large language model');
  assert.match(keywordProblem('x') ?? '', /2 to 100/);
  assert.match(keywordProblem('--') ?? '', /letter or digit/);
  assert.equal(keywordProblem('ok'), null);
});
