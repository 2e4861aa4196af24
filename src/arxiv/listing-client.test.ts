import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { listingUrlFor, ListingFormatError, parseListing } from './listing-client.js';

const FIXTURE = 'test/fixtures/arxiv/listing-cs.LG+cs.SE.atom.xml';

test('reads arXiv announcement feeds: new entries carry their announcement day', async () => {
  const listing = await parseListing(readFileSync(FIXTURE, 'utf8'));
  assert.equal(listing.announcedOn, '2023-01-16');
  assert.deepEqual(listing.counts, { new: 1, cross: 1, replace: 1, 'replace-cross': 1 });

  const papers = listing.items.flatMap((i) => (i.kind === 'paper' ? [i.paper] : []));
  assert.deepEqual(
    papers.map((p) => [p.id, p.version, p.announcedOn]),
    [
      ['2301.05651v1', 1, '2023-01-16'],
      ['2205.09552v3', 3, null],
      ['2302.03287v3', 3, null],
      ['2109.07960v2', 2, null],
    ],
  );
  const first = papers[0];
  assert.equal(first?.title, 'Mutation Testing of Deep Reinforcement Learning Based on Real Faults');
  assert.match(first?.abstract ?? '', /^Testing Deep Learning \(DL\) systems is a complex task/);
  assert.deepEqual(first?.authors, {
    kind: 'text',
    value: 'Florian Tambon, Vahid Majdinasab, Amin Nikanjam, Foutse Khomh, Giuliano Antonio',
  });
  assert.deepEqual(first?.categories, ['cs.LG', 'cs.SE']);

  const cross = papers[1];
  assert.equal(cross?.doi, '10.1109/AITest55621.2022.00013');
  assert.equal(cross?.journalRef, '2022 IEEE International Conference On Artificial Intelligence Testing (AITest), 2022, pp. 26-33');
  assert.equal(papers[2]?.title, 'ChatGPT and Software Testing Education: Promises & Perils');

  const announcements = listing.items.flatMap((i) => (i.kind === 'announcement' ? [i.announcement] : []));
  assert.deepEqual(announcements, [
    { id: '2205.09552', version: 3, type: 'cross', announcedOn: '2023-01-16' },
    { id: '2302.03287', version: 3, type: 'replace', announcedOn: '2023-01-16' },
    { id: '2109.07960', version: 2, type: 'replace', announcedOn: '2023-01-16' },
  ]);
});

test('reads the RSS 2.0 flavour of the same feed', async () => {
  const rss = `<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
  <channel>
    <title>cs.LG updates on arXiv.org</title>
    <pubDate>Mon, 16 Jan 2023 00:00:00 -0500</pubDate>
    <item>
      <title>Mutation Testing of Deep Reinforcement Learning Based on Real Faults</title>
      <link>https://arxiv.org/abs/2301.05651</link>
      <description>arXiv:2301.05651v1 Announce Type: new
Abstract: Testing Deep Learning (DL) systems is a complex task.</description>
      <guid isPermaLink="false">oai:arXiv.org:2301.05651v1</guid>
      <category>cs.LG</category>
      <category>cs.SE</category>
      <pubDate>Mon, 16 Jan 2023 00:00:00 -0500</pubDate>
      <arxiv:announce_type>new</arxiv:announce_type>
      <dc:creator>Florian Tambon, Vahid Majdinasab</dc:creator>
    </item>
  </channel>
</rss>`;
  const listing = await parseListing(rss);
  const paper = listing.items[0]?.kind === 'paper' ? listing.items[0].paper : undefined;
  assert.equal(paper?.id, '2301.05651v1');
  assert.equal(paper?.announcedOn, '2023-01-16');
  assert.equal(paper?.abstract, 'Testing Deep Learning (DL) systems is a complex task.');
  assert.deepEqual(paper?.categories, ['cs.LG', 'cs.SE']);
});

test('an empty feed (weekends, holidays) has no items; other documents are refused', async () => {
  const empty = await parseListing(
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>cs.LG updates on arXiv.org</title><updated>2023-01-14T05:00:00.000000+00:00</updated></feed>',
  );
  assert.deepEqual(empty.items, []);
  assert.equal(empty.announcedOn, '2023-01-14');
  await assert.rejects(parseListing('<html><body>Service unavailable</body></html>'), ListingFormatError);
  await assert.rejects(parseListing('<feed xmlns="http://www.w3.org/2005/Atom"><entry>'), ListingFormatError);
});

test('one feed URL serves several categories', () => {
  assert.equal(listingUrlFor('https://rss.arxiv.org/atom/', ['cs.AI', 'cs.LG']), 'https://rss.arxiv.org/atom/cs.AI+cs.LG');
});
