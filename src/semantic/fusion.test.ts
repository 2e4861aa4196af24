import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FUSION, fuseRankings, type FusionParams } from './fusion.js';

const P: FusionParams = { k: 60, keywordWeight: 1, semanticWeight: 1, depth: 100 };

test('reciprocal rank fusion sums weight / (k + rank) over both lists', () => {
  const fused = fuseRankings([1, 2, 3], [3, 1, 4], P);
  const score = new Map(fused.map((h) => [h.id, h.score]));
  assert.ok(Math.abs(score.get(1)! - (1 / 61 + 1 / 62)) < 1e-15);
  assert.ok(Math.abs(score.get(3)! - (1 / 63 + 1 / 61)) < 1e-15);
  assert.ok(Math.abs(score.get(2)! - 1 / 62) < 1e-15);
  assert.ok(Math.abs(score.get(4)! - 1 / 63) < 1e-15);
  assert.deepEqual(fused.map((h) => h.id), [1, 3, 2, 4]);
});

test('ids in only one list keep a null rank for the other', () => {
  const fused = fuseRankings([7], [8], P);
  assert.deepEqual(
    fused.map((h) => [h.id, h.keywordRank, h.semanticRank]),
    [[7, 1, null], [8, null, 1]],
  );
});

test('ties break by best rank, then by id, so the order is stable', () => {
  // 5 and 6 both score 1/61 + 1/62; 9 and 8 both score 1/63 (same rank): lower id first.
  const fused = fuseRankings([5, 6, 9], [6, 5, 8], P);
  assert.deepEqual(fused.map((h) => h.id), [5, 6, 8, 9]);
  assert.deepEqual(fuseRankings([5, 6, 9], [6, 5, 8], P), fused);
});

test('weights scale each list, and a zero weight ignores it', () => {
  const semanticHeavy = fuseRankings([1, 2], [2, 1], { ...P, semanticWeight: 3 });
  assert.equal(semanticHeavy[0]?.id, 2);
  const keywordOnly = fuseRankings([1, 2], [3, 4], { ...P, semanticWeight: 0 });
  assert.deepEqual(keywordOnly.slice(0, 2).map((h) => h.id), [1, 2]);
  assert.equal(keywordOnly.find((h) => h.id === 3)?.score, 0);
});

test('depth cuts each list, and a repeated id counts once at its best place', () => {
  const fused = fuseRankings([1, 2, 3], [4, 4, 5], { ...P, depth: 2 });
  assert.deepEqual(fused.map((h) => h.id).sort(), [1, 2, 4]);
  assert.equal(fused.find((h) => h.id === 4)?.semanticRank, 1);
  assert.ok(Math.abs(fused.find((h) => h.id === 4)!.score - 1 / 61) < 1e-15);
});

test('the tuned defaults are sane and empty inputs give nothing', () => {
  assert.ok(FUSION.k >= 0 && FUSION.depth >= 10 && FUSION.keywordWeight > 0 && FUSION.semanticWeight > 0);
  assert.deepEqual(fuseRankings([], []), []);
  assert.equal(fuseRankings([3, 2, 1], []).length, 3);
});
