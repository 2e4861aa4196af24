import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { trendingReference, trendingScore } from './trending.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

test('with equal votes the more recent paper trends higher', () => {
  const older = trendingScore({ upvotes: 3, comments: 0, featuredAt: '2026-11-23T00:00:00Z' }, NOW);
  const newer = trendingScore({ upvotes: 3, comments: 0, featuredAt: '2026-11-25T00:00:00Z' }, NOW);
  assert.ok(newer > older);
});

test('votes outweigh a day of age, and a comment counts half an upvote', () => {
  const popularYesterday = trendingScore({ upvotes: 40, comments: 0, featuredAt: '2026-11-24T00:00:00Z' }, NOW);
  const quietToday = trendingScore({ upvotes: 0, comments: 0, featuredAt: '2026-11-25T00:00:00Z' }, NOW);
  assert.ok(popularYesterday > quietToday);
  const twoComments = trendingScore({ upvotes: 0, comments: 2, featuredAt: '2026-11-25T00:00:00Z' }, NOW);
  const oneVote = trendingScore({ upvotes: 1, comments: 0, featuredAt: '2026-11-25T00:00:00Z' }, NOW);
  assert.equal(twoComments, oneVote);
});

test('a paper featured in the future of the reference is treated as brand new', () => {
  const future = trendingScore({ upvotes: 0, comments: 0, featuredAt: '2026-11-26T00:00:00Z' }, NOW);
  const now = trendingScore({ upvotes: 0, comments: 0, featuredAt: '2026-11-25T12:00:00Z' }, NOW);
  assert.equal(future, now);
});

test('the reference time stops at the end of the newest featured day', () => {
  assert.equal(trendingReference(null, NOW), NOW);
  assert.equal(trendingReference('2026-11-25', NOW), NOW);
  assert.equal(trendingReference('2024-01-02', NOW), Date.parse('2024-01-02T23:59:59.999Z'));
});
