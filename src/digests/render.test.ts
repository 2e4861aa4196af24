import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { DigestContent, DigestPaper } from './content.js';
import { digestSubject, renderDigest, type DigestLinks } from './render.js';

function paper(i: number, overrides: Partial<DigestPaper> = {}): DigestPaper {
  return {
    id: i,
    arxivId: `2612.0${String(i).padStart(4, '0')}`,
    title: `Paper number ${i}`,
    authors: ['Ada Lovelace', 'Alan Turing'],
    authorCount: 2,
    summary: `Summary of paper ${i}.`,
    categories: ['cs.LG'],
    upvotes: i,
    comments: 0,
    ...overrides,
  };
}

const links: DigestLinks = {
  baseUrl: 'https://papers.example.org',
  preferencesUrl: 'https://papers.example.org/subscription/tok_123',
  unsubscribeUrl: 'https://papers.example.org/unsubscribe/tok_123',
};

const nasty = paper(1, {
  title: 'Attention <script>alert(1)</script> & "friends" for $\\mathcal{O}(n^2)$ <b>',
  authors: ['Eve <img src=x onerror=alert(1)>', 'Mallory & Co', 'C', 'D', 'E'],
  authorCount: 40,
  summary: 'We show that a < b && c > d, with \\emph{TeX} intact.',
});

const content: DigestContent = {
  cadence: 'daily',
  from: '2026-12-03',
  to: '2026-12-03',
  papers: [nasty, paper(2), paper(3), paper(4)],
};

test('subjects name the day or the week, deterministically', () => {
  assert.equal(digestSubject(content), 'Trending papers, Thu 3 Dec 2026');
  assert.equal(digestSubject({ ...content, cadence: 'weekly', from: '2026-11-23', to: '2026-11-29' }), 'Trending papers, week of 23 Nov 2026');
});

test('every text is escaped in the HTML part and kept verbatim in the text part', () => {
  const { html, text } = renderDigest(content, { trending: [0, 1], keywords: [] }, links);
  assert.doesNotMatch(html, /<script>/);
  assert.doesNotMatch(html, /<img/);
  assert.doesNotMatch(html, /<b>/);
  assert.match(html, /Attention &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;friends&quot; for \$\\mathcal\{O\}\(n\^2\)\$ &lt;b&gt;/);
  assert.match(html, /a &lt; b &amp;&amp; c &gt; d/);
  assert.match(html, /Eve &lt;img src=x onerror=alert\(1\)&gt;, Mallory &amp; Co, C et al\. \(40 authors\)/);
  // Every ampersand in the markup starts an entity: nothing raw slipped through.
  assert.doesNotMatch(html, /&(?!amp;|lt;|gt;|quot;|#39;)/);
  assert.ok(text.includes('Attention <script>alert(1)</script> & "friends" for $\\mathcal{O}(n^2)$ <b>'));
  assert.ok(text.includes('We show that a < b && c > d, with \\emph{TeX} intact.'));
});

test('both parts carry every paper link, the preferences link and a visible unsubscribe link', () => {
  const selection = { trending: [0, 1], keywords: [3] };
  const { html, text } = renderDigest(content, selection, links);
  for (const i of [0, 1, 3]) {
    const id = content.papers[i]!.arxivId;
    for (const url of [`https://papers.example.org/papers/${id}`, `https://arxiv.org/pdf/${id}`]) {
      assert.ok(html.includes(`href="${url}"`), `HTML links ${url}`);
      assert.ok(text.includes(url), `text links ${url}`);
    }
  }
  assert.ok(!html.includes(content.papers[2]!.arxivId), 'an unselected paper is not shown');
  assert.match(html, /<a href="https:\/\/papers\.example\.org\/unsubscribe\/tok_123"[^>]*>Unsubscribe<\/a>/);
  assert.match(html, /<a href="https:\/\/papers\.example\.org\/subscription\/tok_123"[^>]*>Change preferences<\/a>/);
  assert.match(text, /Unsubscribe: https:\/\/papers\.example\.org\/unsubscribe\/tok_123/);
  assert.match(text, /Change preferences: https:\/\/papers\.example\.org\/subscription\/tok_123/);
  assert.match(html, /subscribed to the daily digest/);
  assert.match(text, /subscribed to the daily digest/);
});

test('sections come in order, and an empty one is left out', () => {
  const both = renderDigest(content, { trending: [1], keywords: [2] }, links);
  assert.ok(both.html.indexOf('>Trending<') < both.html.indexOf('>Matching your keywords<'));
  assert.ok(both.text.indexOf('TRENDING') < both.text.indexOf('MATCHING YOUR KEYWORDS'));
  const trendingOnly = renderDigest(content, { trending: [1], keywords: [] }, links);
  assert.doesNotMatch(trendingOnly.html, /Matching your keywords/);
  assert.doesNotMatch(trendingOnly.text, /MATCHING YOUR KEYWORDS/);
});

test('the HTML is mail-client safe: tables, inline styles, no remote resources, a hidden preheader', () => {
  const { html } = renderDigest(content, { trending: [0, 1, 2], keywords: [3] }, links);
  assert.doesNotMatch(html, /<[^>]*\ssrc=/i, 'no images, scripts or frames');
  assert.doesNotMatch(html, /<[^>]*\sbackground=/i);
  assert.doesNotMatch(html, /<style|<link|<script|<img|url\(/i);
  assert.match(html, /<table role="presentation"/);
  assert.match(html, /max-width:600px/);
  assert.match(html, /<div style="display:none;[^"]*">4 papers, led by “Attention &lt;script&gt;/);
  assert.doesNotMatch(html, /class=/, 'no class depends on a stylesheet');
});

test('rendering is deterministic', () => {
  const selection = { trending: [0, 1, 2], keywords: [3] };
  const a = renderDigest(content, selection, links);
  const b = renderDigest(structuredClone(content), structuredClone(selection), { ...links });
  assert.deepEqual(a, b);
});

test('an index outside the content is skipped instead of failing the send', () => {
  const { text } = renderDigest(content, { trending: [0, 99], keywords: [] }, links);
  assert.match(text, /1\. Attention/);
  assert.doesNotMatch(text, /2\. /);
});
