import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { FeaturedInfo } from '../feeds/feed.js';
import type { Paper } from '../papers/repository.js';
import {
  featuredBy,
  githubRepo,
  lastModified,
  presentDailyPaper,
  presentPaper,
  presentSearchResult,
  publishedAt,
  submittedOnDailyAt,
} from './presenters.js';
import { DailyPaper, Paper as PaperSchema, PaperSearchResult } from './schemas.js';

function paper(overrides: Partial<Paper> = {}): Paper {
  return {
    id: 7,
    arxivId: '2106.09685',
    version: 2,
    title: 'LoRA: Low-Rank Adaptation of $\\mathcal{L}$arge Language Models',
    titleText: 'LoRA: Low-Rank Adaptation of Large Language Models',
    abstract: 'We propose $W = W_0 + BA$.',
    abstractText: 'We propose W = W0 + BA.',
    authors: [
      { name: 'Edward J. Hu', keyname: 'Hu', forenames: 'Edward J.', suffix: null, affiliations: ['Microsoft'] },
      { name: 'Yelong Shen', keyname: 'Shen', forenames: 'Yelong', suffix: null, affiliations: [] },
    ],
    versions: [
      { version: 1, submittedAt: '2021-06-17T17:37:18.000Z', size: null },
      { version: 2, submittedAt: '2021-10-16T18:40:34.000Z', size: null },
    ],
    links: [
      { url: 'https://github.com/microsoft', kind: 'code' },
      { url: 'https://github.com/microsoft/LoRA/tree/main/examples', kind: 'code' },
      { url: 'https://lora.example.org', kind: 'project' },
    ],
    primaryCategory: 'cs.CL',
    categories: ['cs.CL', 'cs.AI'],
    comments: 'Draft V2',
    journalRef: null,
    doi: null,
    reportNo: null,
    mscClass: null,
    acmClass: null,
    license: null,
    submitter: 'Edward Hu',
    publishedAt: '2021-06-17T17:37:18.000Z',
    updatedAt: '2021-10-16T18:40:34.000Z',
    announcedOn: '2021-06-18',
    announcedEstimated: false,
    withdrawn: false,
    upvotes: 12,
    commentCount: 3,
    modifiedAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

const ruleFeatured: FeaturedInfo = { on: '2021-06-18', source: 'rule', by: 'rule:categories', at: '2021-06-18T00:00:00.000Z' };
const submitted: FeaturedInfo = { on: '2021-06-18', source: 'submission', by: 'ada', at: '2021-06-18T09:30:00.000Z' };

test('the paper object keeps HF field names and adds Paperboy fields', () => {
  const p = presentPaper(paper(), submitted);
  assert.equal(p.id, '2106.09685');
  assert.deepEqual(p.authors[0], { _id: '2106.09685#1', name: 'Edward J. Hu', hidden: false, affiliations: ['Microsoft'] });
  assert.equal(p.summary, 'We propose $W = W_0 + BA$.', 'summary is the abstract source');
  assert.equal(p.summaryText, 'We propose W = W0 + BA.');
  assert.equal(p.upvotes, 12);
  assert.equal(p.numComments, 3);
  assert.equal(p.discussionId, '2106.09685');
  assert.equal(p.submittedOnDailyAt, '2021-06-18T09:30:00.000Z');
  assert.equal(p.submittedOnDailyBy?.name, 'ada');
  assert.equal(p.projectPage, 'https://lora.example.org');
  assert.equal(p.arxivComments, 'Draft V2', 'never `comments`: huggingface_hub reads that as the comment count');
  const json: unknown = JSON.parse(JSON.stringify(p));
  assert.deepEqual(PaperSchema.parse(json), json, 'matches its schema, no undocumented field');
});

test('an unfeatured paper has no daily fields at all', () => {
  const p = JSON.parse(JSON.stringify(presentPaper(paper({ links: [] }), null))) as Record<string, unknown>;
  for (const key of ['submittedOnDailyAt', 'submittedOnDailyBy', 'githubRepo', 'projectPage']) assert.ok(!(key in p), key);
  assert.equal(p.featured, null);
});

test('githubRepo is a repository URL: deeper links are cut, profile pages and other hosts skipped', () => {
  assert.equal(githubRepo(paper().links), 'https://github.com/microsoft/LoRA');
  assert.equal(githubRepo([{ url: 'https://www.github.com/a/b.git', kind: 'code' }]), 'https://github.com/a/b');
  assert.equal(githubRepo([{ url: 'https://gitlab.com/a/b', kind: 'code' }]), undefined);
  assert.equal(githubRepo([{ url: 'https://github.com/a/b', kind: 'other' }]), undefined);
  assert.equal(githubRepo([{ url: 'not a url', kind: 'code' }]), undefined);
});

test('publishedAt falls back to the first version, the announcement day, then the stored time', () => {
  assert.equal(publishedAt(paper()), '2021-06-17T17:37:18.000Z');
  assert.equal(publishedAt(paper({ publishedAt: null })), '2021-06-17T17:37:18.000Z');
  assert.equal(publishedAt(paper({ publishedAt: null, versions: [] })), '2021-06-18T00:00:00.000Z');
  assert.equal(publishedAt(paper({ publishedAt: null, versions: [], announcedOn: null })), '2026-01-02T03:04:05.000Z');
});

test('submittedOnDailyAt always falls on the feed day', () => {
  assert.equal(submittedOnDailyAt(submitted), '2021-06-18T09:30:00.000Z');
  // A curator featured it two days later on that day's feed: clients match the day by its date part.
  assert.equal(submittedOnDailyAt({ ...submitted, at: '2021-06-20T11:00:00.000Z' }), '2021-06-18T00:00:00.000Z');
  assert.equal(submittedOnDailyAt({ ...submitted, at: 'garbage' }), '2021-06-18T00:00:00.000Z');
});

test('the submitter is a user; the category rule a user of type rule', () => {
  assert.deepEqual(featuredBy(submitted), {
    _id: 'user:ada',
    name: 'ada',
    fullname: 'ada',
    avatarUrl: '',
    isPro: false,
    type: 'user',
    user: 'ada',
  });
  const rule = featuredBy(ruleFeatured);
  assert.equal(rule.type, 'rule');
  assert.equal(rule.name, 'rule:categories');
  assert.equal(rule.user, undefined);
});

test('daily items carry the featured time as publishedAt, search items the paper date when not featured', () => {
  const daily = presentDailyPaper({ paper: paper(), featured: submitted });
  assert.equal(daily.publishedAt, '2021-06-18T09:30:00.000Z');
  assert.equal(daily.paper.publishedAt, '2021-06-17T17:37:18.000Z');
  assert.equal(daily.title, daily.paper.title);
  assert.equal(daily.numComments, 3);
  assert.equal(daily.thumbnail, '');
  assert.equal(daily.isAuthorParticipating, false);
  assert.equal(daily.submittedBy.name, 'ada');
  const dailyJson: unknown = JSON.parse(JSON.stringify(daily));
  assert.deepEqual(DailyPaper.parse(dailyJson), dailyJson);

  const hit = presentSearchResult({ paper: paper(), featured: null });
  assert.equal(hit.publishedAt, '2021-06-17T17:37:18.000Z');
  assert.equal(hit.submittedBy, undefined);
  const hitJson: unknown = JSON.parse(JSON.stringify(hit));
  assert.deepEqual(PaperSearchResult.parse(hitJson), hitJson);
});

test('lastModified is the latest stored change or featuring among the entries', () => {
  assert.equal(lastModified([]), undefined);
  const a = { paper: paper({ modifiedAt: '2026-01-02T03:04:05.000Z' }), featured: null };
  const b = { paper: paper({ modifiedAt: '2025-01-01T00:00:00.000Z' }), featured: { ...submitted, at: '2026-03-01T00:00:00.000Z' } };
  assert.equal(lastModified([a])?.toISOString(), '2026-01-02T03:04:05.000Z');
  assert.equal(lastModified([a, b])?.toISOString(), '2026-03-01T00:00:00.000Z');
});
