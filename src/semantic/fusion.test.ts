import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedbackQuery, FUSION, fuseScored, type FusionParams } from './fusion.js';

const P: FusionParams = { semanticWeight: 0.5, depth: 100, feedbackDocs: 2, feedbackWeight: 1, feedbackTemperature: 1 };
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;

test('fuseScored mixes min-max scaled scores by the semantic share', () => {
  const fused = fuseScored(
    [{ id: 1, score: 10 }, { id: 2, score: 6 }, { id: 3, score: 2 }],
    [{ id: 3, score: 0.9 }, { id: 4, score: 0.5 }, { id: 1, score: 0.1 }],
    P,
  );
  const score = new Map(fused.map((h) => [h.id, h.score]));
  assert.ok(close(score.get(1)!, 0.5 * 1 + 0.5 * 0));
  assert.ok(close(score.get(2)!, 0.5 * 0.5));
  assert.ok(close(score.get(3)!, 0.5 * 0 + 0.5 * 1));
  assert.ok(close(score.get(4)!, 0.5 * 0.5));
  // 1 and 3 tie at 0.5, 2 and 4 at 0.25: the best rank, then the id, decide.
  assert.deepEqual(fused.map((h) => h.id), [1, 3, 2, 4]);
  assert.deepEqual(fused.map((h) => [h.id, h.keywordRank, h.semanticRank]), [[1, 1, 3], [3, 3, 1], [2, 2, null], [4, null, 2]]);
});

test('fuseScored: the weight moves the order, depth cuts each list, repeats count once', () => {
  const kw = [{ id: 1, score: 5 }, { id: 2, score: 1 }];
  const sem = [{ id: 2, score: 0.8 }, { id: 1, score: 0.2 }];
  assert.deepEqual(fuseScored(kw, sem, { ...P, semanticWeight: 0.2 }).map((h) => h.id), [1, 2]);
  assert.deepEqual(fuseScored(kw, sem, { ...P, semanticWeight: 0.8 }).map((h) => h.id), [2, 1]);
  assert.deepEqual(fuseScored(kw, sem, { ...P, semanticWeight: 0 }).map((h) => h.score), [1, 0]);
  const cut = fuseScored([{ id: 1, score: 3 }, { id: 2, score: 2 }, { id: 3, score: 1 }], [{ id: 4, score: 1 }, { id: 4, score: 0.5 }], { ...P, depth: 2 });
  assert.deepEqual(cut.map((h) => h.id).sort(), [1, 2, 4]);
  assert.equal(cut.find((h) => h.id === 4)?.semanticRank, 1);
  // A single-entry or flat list scales to 1, not NaN.
  assert.deepEqual(fuseScored([{ id: 9, score: 7 }], [], P).map((h) => h.score), [0.5]);
  assert.deepEqual(fuseScored([], []), []);
  assert.deepEqual(fuseScored(kw, sem, P), fuseScored(kw, sem, P));
});

test('feedbackQuery moves the query towards the feedback papers by softmax of their scores', () => {
  const q = Float32Array.from([1, 0, 0]);
  const a = Float32Array.from([0, 1, 0]);
  const b = Float32Array.from([0, 0, 1]);
  const out = feedbackQuery(q, [{ vector: a, score: 3 }, { vector: b, score: 3 }], P);
  assert.ok(close(out[0]!, 1 / Math.sqrt(1.5)) && close(out[1]!, 0.5 / Math.sqrt(1.5)) && close(out[2]!, out[1]!));
  // A higher score weighs more: e^(4-3) against 1.
  const skewed = feedbackQuery(q, [{ vector: a, score: 3 }, { vector: b, score: 4 }], P);
  assert.ok(skewed[2]! > skewed[1]! && close(skewed[2]! / skewed[1]!, Math.E));
  // Only the first feedbackDocs count; the input is untouched; the result has unit length.
  const one = feedbackQuery(q, [{ vector: a, score: 1 }, { vector: b, score: 1 }], { ...P, feedbackDocs: 1 });
  assert.ok(close(one[2]!, 0) && close(one[0]!, one[1]!));
  assert.deepEqual([...q], [1, 0, 0]);
  assert.ok(close(Math.hypot(...out), 1));
  assert.deepEqual([...feedbackQuery(q, [], P)], [1, 0, 0]);
  assert.deepEqual([...feedbackQuery(q, [{ vector: a, score: 1 }], { ...P, feedbackWeight: 0 })], [1, 0, 0]);
  // An unknown query (zero vector) still finds the feedback papers' neighbourhood.
  const fromZero = feedbackQuery(new Float32Array(3), [{ vector: a, score: 1 }], P);
  assert.deepEqual([...fromZero], [0, 1, 0]);
});

test('FUSION is a sane default', () => {
  assert.ok(FUSION.semanticWeight > 0 && FUSION.semanticWeight < 1 && FUSION.depth >= 10 && FUSION.feedbackDocs >= 1);
  assert.ok(FUSION.feedbackWeight > 0 && FUSION.feedbackTemperature > 0);
});
