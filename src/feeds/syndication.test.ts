import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  MAX_FEED_AUTHORS,
  renderAtom,
  renderRss,
  rfc3339,
  rfc822,
  stripIllegalXml,
  xmlAttr,
  xmlText,
  type SyndicationFeed,
  type SyndicationItem,
} from './syndication.js';
import { all, one, parseXml } from '../../test/support/xml.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const DC = 'http://purl.org/dc/elements/1.1/';


function item(overrides: Partial<SyndicationItem> = {}): SyndicationItem {
  return {
    id: 'https://papers.example.org/papers/0704.0001',
    url: 'https://papers.example.org/papers/0704.0001',
    title: 'Calculation of prompt diphoton production cross sections',
    summary: 'A fully differential calculation.\n\nSecond paragraph.',
    authors: ['C. Balázs', 'E. L. Berger'],
    categories: ['hep-ph', 'hep-ex'],
    published: new Date('2007-04-02T19:18:42Z'),
    updated: new Date('2007-07-24T20:10:27Z'),
    ...overrides,
  };
}

function feed(items: SyndicationItem[], overrides: Partial<SyndicationFeed> = {}): SyndicationFeed {
  return {
    title: 'Paperboy: daily papers',
    description: 'Featured papers',
    selfUrl: 'https://papers.example.org/feeds/daily.rss?category=cs.LG&x=1',
    htmlUrl: 'https://papers.example.org/papers?category=cs.LG',
    id: 'https://papers.example.org/feeds/daily.atom',
    updated: new Date('2007-07-24T20:10:27Z'),
    items,
    ...overrides,
  };
}

test('RSS 2.0: channel and item elements, namespaces and dates', () => {
  const rss = parseXml(renderRss(feed([item()])));
  assert.equal(rss.name, 'rss');
  assert.equal(rss.attributes.version, '2.0');
  const channel = one(rss, 'channel');
  assert.equal(one(channel, 'title').text, 'Paperboy: daily papers');
  assert.equal(one(channel, 'link').text, 'https://papers.example.org/papers?category=cs.LG');
  assert.equal(one(channel, 'description').text, 'Featured papers');
  assert.equal(one(channel, 'lastBuildDate').text, 'Tue, 24 Jul 2007 20:10:27 +0000');
  const self = one(channel, 'atom:link');
  assert.equal(self.uri, ATOM);
  assert.deepEqual(
    { href: self.attributes.href, rel: self.attributes.rel, type: self.attributes.type },
    { href: 'https://papers.example.org/feeds/daily.rss?category=cs.LG&x=1', rel: 'self', type: 'application/rss+xml' },
  );
  const entry = one(channel, 'item');
  assert.equal(one(entry, 'title').text, 'Calculation of prompt diphoton production cross sections');
  assert.equal(one(entry, 'link').text, 'https://papers.example.org/papers/0704.0001');
  const guid = one(entry, 'guid');
  assert.equal(guid.text, 'https://papers.example.org/papers/0704.0001');
  assert.equal(guid.attributes.isPermaLink, 'true');
  assert.equal(one(entry, 'pubDate').text, 'Mon, 02 Apr 2007 19:18:42 +0000');
  assert.deepEqual(
    all(entry, 'category').map((c) => c.text),
    ['hep-ph', 'hep-ex'],
  );
  const creator = one(entry, 'dc:creator');
  assert.equal(creator.uri, DC);
  assert.equal(creator.text, 'C. Balázs, E. L. Berger');
  assert.equal(
    one(entry, 'description').text,
    '<p>Authors: C. Balázs, E. L. Berger</p><p>A fully differential calculation.</p><p>Second paragraph.</p>',
  );
});

test('Atom 1.0: feed and entry elements per RFC 4287', () => {
  const atom = parseXml(renderAtom(feed([item()], { selfUrl: 'https://papers.example.org/feeds/daily.atom' })));
  assert.equal(atom.name, 'feed');
  assert.equal(atom.uri, ATOM);
  assert.equal(one(atom, 'id').text, 'https://papers.example.org/feeds/daily.atom');
  assert.equal(one(atom, 'title').text, 'Paperboy: daily papers');
  assert.equal(one(atom, 'updated').text, '2007-07-24T20:10:27Z');
  const links = all(atom, 'link').map((l) => l.attributes);
  assert.deepEqual(links.find((l) => l.rel === 'self')?.href, 'https://papers.example.org/feeds/daily.atom');
  assert.deepEqual(links.find((l) => l.rel === 'alternate'), {
    rel: 'alternate',
    type: 'text/html',
    href: 'https://papers.example.org/papers?category=cs.LG',
  });
  const entry = one(atom, 'entry');
  assert.equal(entry.uri, ATOM);
  assert.equal(one(entry, 'id').text, 'https://papers.example.org/papers/0704.0001');
  assert.equal(one(entry, 'title').text, 'Calculation of prompt diphoton production cross sections');
  assert.equal(one(entry, 'link').attributes.href, 'https://papers.example.org/papers/0704.0001');
  assert.equal(one(entry, 'published').text, '2007-04-02T19:18:42Z');
  assert.equal(one(entry, 'updated').text, '2007-07-24T20:10:27Z');
  assert.deepEqual(
    all(entry, 'author').map((a) => one(a, 'name').text),
    ['C. Balázs', 'E. L. Berger'],
  );
  assert.deepEqual(
    all(entry, 'category').map((c) => c.attributes.term),
    ['hep-ph', 'hep-ex'],
  );
  const summary = one(entry, 'summary');
  assert.equal(summary.attributes.type, 'text');
  assert.equal(summary.text, 'A fully differential calculation.\n\nSecond paragraph.');
});

test('an empty feed is still valid in both formats', () => {
  const rss = parseXml(renderRss(feed([])));
  assert.equal(all(one(rss, 'channel'), 'item').length, 0);
  const atom = parseXml(renderAtom(feed([], { updated: new Date(0) })));
  assert.equal(all(atom, 'entry').length, 0);
  assert.equal(one(atom, 'updated').text, '1970-01-01T00:00:00Z');
  // The feed-level author covers entries that list none (RFC 4287 §4.1.1).
  assert.equal(one(one(atom, 'author'), 'name').text, 'Paperboy');
});

test('titles, abstracts, authors and URLs with markup and TeX are escaped, not interpreted', () => {
  const nasty = item({
    title: 'Bounds for $a<b$ & $c>d$: <i>not italic</i> ]]> "quoted" \'single\'',
    summary: 'If $x<y$ then <script>alert(1)</script> & &amp; stays literal.',
    authors: ['O\'Brien & <Sons>'],
    categories: ['cs.LG"><x'],
    url: 'https://papers.example.org/papers/0704.0001?a=1&b="2"',
  });
  const rssXml = renderRss(feed([nasty]));
  const atomXml = renderAtom(feed([nasty]));
  for (const xml of [rssXml, atomXml]) {
    assert.doesNotMatch(xml, /<i>|<script>|<Sons>/);
  }
  const rssItem = one(one(parseXml(rssXml), 'channel'), 'item');
  assert.equal(one(rssItem, 'title').text, nasty.title);
  assert.equal(one(rssItem, 'link').text, nasty.url);
  assert.equal(one(rssItem, 'dc:creator').text, 'O\'Brien & <Sons>');
  assert.equal(one(rssItem, 'category').text, 'cs.LG"><x');
  // The description is HTML for readers, so the text inside it is HTML-escaped once more.
  assert.equal(
    one(rssItem, 'description').text,
    '<p>Authors: O&#39;Brien &amp; &lt;Sons&gt;</p><p>If $x&lt;y$ then &lt;script&gt;alert(1)&lt;/script&gt; &amp; &amp;amp; stays literal.</p>',
  );
  const entry = one(parseXml(atomXml), 'entry');
  assert.equal(one(entry, 'title').text, nasty.title);
  assert.equal(one(entry, 'summary').text, nasty.summary);
  assert.equal(one(entry, 'link').attributes.href, nasty.url);
  assert.equal(one(entry, 'category').attributes.term, 'cs.LG"><x');
  assert.equal(one(one(entry, 'author'), 'name').text, 'O\'Brien & <Sons>');
});

test('characters illegal in XML 1.0 are dropped; tabs, newlines, CR and astral characters survive', () => {
  const dirty = 'a\u0000b\u0001c\u0008d\u000Be\u000Cf\u001Fg\uFFFEh\uFFFFi\uD800j\uDC00k';
  assert.equal(stripIllegalXml(dirty), 'abcdefghijk');
  assert.equal(stripIllegalXml('tab\tnl\ncr\r 𝔸 \u{1F600} é \uE000'), 'tab\tnl\ncr\r 𝔸 \u{1F600} é \uE000');
  const title = `Title ${dirty}\r\nwith CRLF and 𝔸`;
  const entry = one(parseXml(renderAtom(feed([item({ title, summary: dirty })]))), 'entry');
  assert.equal(one(entry, 'title').text, stripIllegalXml(title));
  assert.equal(one(entry, 'summary').text, 'abcdefghijk');
  const rssItem = one(one(parseXml(renderRss(feed([item({ title })]))), 'channel'), 'item');
  assert.equal(one(rssItem, 'title').text, stripIllegalXml(title));
});

test('text and attribute escapers', () => {
  assert.equal(xmlText('a & b < c > d "e" \'f\''), 'a &amp; b &lt; c &gt; d "e" \'f\'');
  assert.equal(xmlText('line\r\nnext'), 'line&#xD;\nnext');
  assert.equal(xmlAttr('a&b<c>"d"\te\nf\rg'), 'a&amp;b&lt;c&gt;&quot;d&quot;&#x9;e&#xA;f&#xD;g');
  assert.equal(xmlText('\u0007bell'), 'bell');
});

test('dates: RFC 822 with +0000 for RSS, RFC 3339 for Atom, always UTC', () => {
  const date = new Date('2007-04-03T05:06:07.890+02:00');
  assert.equal(rfc822(date), 'Tue, 03 Apr 2007 03:06:07 +0000');
  assert.equal(rfc3339(date), '2007-04-03T03:06:07Z');
  assert.equal(rfc822(new Date('2026-11-25T23:59:59Z')), 'Wed, 25 Nov 2026 23:59:59 +0000');
  assert.equal(rfc3339(new Date(0)), '1970-01-01T00:00:00Z');
  assert.throws(() => rfc822(new Date('not a date')), RangeError);
  assert.throws(() => rfc3339(new Date(Number.NaN)), RangeError);
});

test('a guid that is not the link is marked isPermaLink="false"', () => {
  const tagged = item({ id: 'tag:papers.example.org,2026:paper/0704.0001' });
  const rssItem = one(one(parseXml(renderRss(feed([tagged]))), 'channel'), 'item');
  const guid = one(rssItem, 'guid');
  assert.equal(guid.attributes.isPermaLink, 'false');
  assert.equal(guid.text, 'tag:papers.example.org,2026:paper/0704.0001');
  assert.equal(one(one(parseXml(renderAtom(feed([tagged]))), 'entry'), 'id').text, tagged.id);
});

test('collaboration papers: authors are cut to MAX_FEED_AUTHORS, blank names dropped', () => {
  const authors = ['', '  ', ...Array.from({ length: 3000 }, (_, i) => `Author ${i + 1}`)];
  const big = item({ authors });
  const entry = one(parseXml(renderAtom(feed([big]))), 'entry');
  const names = all(entry, 'author').map((a) => one(a, 'name').text);
  assert.equal(names.length, MAX_FEED_AUTHORS);
  assert.equal(names[0], 'Author 1');
  const rssItem = one(one(parseXml(renderRss(feed([big]))), 'channel'), 'item');
  assert.match(one(rssItem, 'dc:creator').text, new RegExp(`^Author 1, .*Author ${MAX_FEED_AUTHORS} and ${3000 - MAX_FEED_AUTHORS} more$`));
  const nobody = item({ authors: [] });
  assert.equal(all(one(parseXml(renderAtom(feed([nobody]))), 'entry'), 'author').length, 0);
  assert.equal(all(one(one(parseXml(renderRss(feed([nobody]))), 'channel'), 'item'), 'dc:creator').length, 0);
});

test('property: any title, abstract, author and category gives well-formed XML that round-trips the text', () => {
  // Code points from anywhere in Unicode (lone surrogates included), biased
  // towards the characters that need escaping or are illegal in XML.
  const unit = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom('&', '<', '>', '"', "'", ']]>', '\r', '\n', '\t', '\r\n', '$', '\\', '{') },
    { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u000B', '\u001F', '\uFFFE', '\uFFFF', '\uD800', '\uDFFF', '&amp;', '&#0;') },
  );
  const text = fc.string({ unit, maxLength: 60 });
  fc.assert(
    fc.property(text, text, fc.array(text, { maxLength: 4 }), fc.array(text, { maxLength: 3 }), (title, summary, authors, categories) => {
      const paper = item({ title, summary, authors, categories });
      const atom = one(parseXml(renderAtom(feed([paper], { title, description: summary }))), 'entry');
      assert.equal(one(atom, 'title').text, stripIllegalXml(title));
      assert.equal(one(atom, 'summary').text, stripIllegalXml(summary));
      assert.deepEqual(
        all(atom, 'category').map((c) => c.attributes.term),
        categories.map(stripIllegalXml),
      );
      const rss = one(parseXml(renderRss(feed([paper], { title, description: summary }))), 'channel');
      assert.equal(one(rss, 'title').text, stripIllegalXml(title));
      assert.equal(one(rss, 'description').text, stripIllegalXml(summary));
      const rssItem = one(rss, 'item');
      assert.equal(one(rssItem, 'title').text, stripIllegalXml(title));
      assert.deepEqual(
        all(rssItem, 'category').map((c) => c.text),
        categories.map(stripIllegalXml),
      );
    }),
    { numRuns: 500 },
  );
});
