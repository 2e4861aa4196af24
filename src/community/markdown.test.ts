import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mentionsIn, renderCommentMarkdown } from './markdown.js';

const ALLOWED_TAGS = new Set(['p', 'br', 'em', 'strong', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'hr', 'a', 'span']);
const ALLOWED_ATTRIBUTES: Record<string, Set<string>> = {
  a: new Set(['href', 'rel', 'class']),
  ol: new Set(['start']),
  span: new Set(['class']),
};
const SAFE_HREF = /^(?:https?:\/\/|mailto:|\/u\/[A-Za-z0-9_-]+$)/i;

/**
 * Fails unless `output` holds nothing that can run script: only allow-listed
 * tags and attributes, double-quoted values, safe link targets, and no `<`
 * outside a tag (so the browser cannot find another tag in it).
 */
function assertInert(output: string, input: string): void {
  const context = `input ${JSON.stringify(input)} gave ${JSON.stringify(output)}`;
  const tagRe = /<\/?([a-zA-Z0-9]+)((?:\s+[a-z-]+="[^"]*")*)\s*\/?>/g;
  const outside = output.replace(tagRe, '');
  assert.ok(!outside.includes('<'), `a stray "<": ${context}`);
  for (const match of output.matchAll(tagRe)) {
    const tag = (match[1] ?? '').toLowerCase();
    assert.ok(ALLOWED_TAGS.has(tag), `tag <${tag}>: ${context}`);
    for (const attr of (match[2] ?? '').matchAll(/([a-z-]+)="([^"]*)"/g)) {
      const [, name = '', value = ''] = attr;
      assert.ok(ALLOWED_ATTRIBUTES[tag]?.has(name), `attribute ${name} on <${tag}>: ${context}`);
      if (name === 'href') {
        const decoded = value.replace(/&amp;/g, '&');
        assert.match(decoded, SAFE_HREF, `href ${value}: ${context}`);
      }
      if (name === 'class') assert.match(value, /^(tex|mention)$/, context);
      if (name === 'rel') assert.equal(value, 'nofollow ugc noopener', context);
    }
  }
  assert.doesNotMatch(output, /<(script|img|svg|iframe|object|embed|style|math|form|input|link|meta|base)\b/i, context);
}

// Known ways to smuggle script into Markdown renderers and HTML sanitisers.
const CORPUS = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<img src="x" onerror="alert(1)">',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<iframe src="https://evil.example"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>">',
  '<object data="javascript:alert(1)">',
  '<embed src="javascript:alert(1)">',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="https://ok.example" onclick="alert(1)">x</a>',
  '<p style="background:url(javascript:alert(1))">x</p>',
  '<div style="position:fixed;inset:0">overlay</div>',
  '<form action="https://evil.example"><input name=p></form>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example">',
  '<base href="https://evil.example/">',
  '<style>body{display:none}</style>',
  '<!-- <script>alert(1)</script> -->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '[x](javascript:alert(1))',
  '[x](JAVASCRIPT:alert(1))',
  '[x]( javascript:alert(1))',
  '[x](<javascript:alert(1)>)',
  '[x](jav&#x61;script:alert(1))',
  '[x](jav&#97;script:alert(1))',
  '[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))',
  '[x](java\tscript:alert(1))',
  '[x](java%0ascript:alert(1))',
  '[x](javascript&colon;alert(1))',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[x](vbscript:msgbox(1))',
  '[x](file:///etc/passwd)',
  '[x](//evil.example/path)',
  '[x](https://ok.example/"onmouseover="alert(1))',
  "[x](https://ok.example/'onmouseover='alert(1))",
  '[x](https://ok.example "title\\" onmouseover=\\"alert(1)")',
  '<javascript:alert(1)>',
  '<vbscript:msgbox(1)>',
  '<data:text/html,<script>alert(1)</script>>',
  '<https://ok.example/a"onmouseover="alert(1)>',
  '[ref]\n\n[ref]: javascript:alert(1)',
  '[ref][r]\n\n[r]: data:text/html,x "t"',
  '[ref][r]\n\n[r]: jav&#x61;script:alert(1)',
  '![x](javascript:alert(1))',
  '![x](https://ok.example/a.png" onerror="alert(1))',
  '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)&#60;/script&#62;',
  '\\<script>alert(1)\\</script>',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '    <script>alert(1)</script>',
  '$<script>alert(1)</script>$',
  '$$<img src=x onerror=alert(1)>$$',
  '\\(<svg onload=alert(1)>\\)',
  '@<script>alert(1)</script>',
  '@ada<img src=x onerror=alert(1)>',
  '> <script>alert(1)</script>',
  '- <img src=x onerror=alert(1)>',
  '**<script>**alert(1)**</script>**',
  '[<img src=x onerror=alert(1)>](https://ok.example)',
  '[x](https://ok.example)<script>alert(1)</script>',
  'https://ok.example/<script>alert(1)</script>',
  'https://ok.example/"><script>alert(1)</script>',
  'mailto:a@b.org?subject=<script>',
  '<a href="https://ok.example">ok</a>',
  '\u0000<script>alert(1)</script>',
  '<scr\u0000ipt>alert(1)</script>',
];

test('no input of the XSS corpus renders anything that can run script', () => {
  for (const input of CORPUS) assertInert(renderCommentMarkdown(input, new Set(['ada'])), input);
});

test('script-capable input is shown as text, not dropped', () => {
  assert.match(renderCommentMarkdown('<script>alert(1)</script>'), /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(renderCommentMarkdown('<img src=x onerror=alert(1)>'), /&lt;img src=x onerror=alert\(1\)&gt;/);
  // Refused links stay readable as the text that was written.
  assert.equal(renderCommentMarkdown('[x](javascript:alert(1))'), '<p>[x](javascript:alert(1))</p>\n');
  assert.doesNotMatch(renderCommentMarkdown('[x](jav&#x61;script:alert(1))'), /<a /);
  assert.doesNotMatch(renderCommentMarkdown('<javascript:alert(1)>'), /<a /);
  assert.doesNotMatch(renderCommentMarkdown('[r][r]\n\n[r]: javascript:alert(1)'), /<a /);
});

test('random mixes of dangerous fragments never render script-capable markup', () => {
  const fragments = fc.constantFrom(
    '<', '>', '"', "'", '`', '&', '#', '&#x61;', '&#106;', '\\', '\n', '\n\n', ' ', '$', '$$', '@ada', '@', '[', ']', '(', ')', '!', '*', '_',
    'javascript:', 'data:', 'vbscript:', 'https://ok.example/', 'mailto:', '//', 'script', 'img', 'svg', 'iframe', 'onerror=',
    'onload=', 'style=', 'alert(1)', 'src=x', 'href=', '<a ', '</a>', '<script>', '```', '> ', '- ', '1. ', '[r]: ',
  );
  fc.assert(
    fc.property(fc.array(fragments, { maxLength: 40 }), (parts) => {
      const input = parts.join('');
      assertInert(renderCommentMarkdown(input, new Set(['ada'])), input);
    }),
    { numRuns: 2000 },
  );
});

test('the Markdown subset: emphasis, code, lists, quotes, safe links with rel, no headings or images', () => {
  const out = renderCommentMarkdown(
    '# Not a heading\n\n*em* **strong** ~~gone~~ `code`\n\n```\nblock <b>\n```\n\n> quoted\n\n- one\n- two\n\n3. three\n\n' +
      '[site](https://example.org/a?b=1&c=2) <https://example.org/auto> https://example.org/bare [mail](mailto:ada@example.org) ' +
      '![diagram](https://example.org/d.png)',
  );
  assert.match(out, /<p># Not a heading<\/p>/);
  assert.match(out, /<em>em<\/em> <strong>strong<\/strong> <s>gone<\/s> <code>code<\/code>/);
  assert.match(out, /<pre><code>block &lt;b&gt;\n<\/code><\/pre>/);
  assert.match(out, /<blockquote>\n<p>quoted<\/p>\n<\/blockquote>/);
  assert.match(out, /<ul>\n<li>one<\/li>\n<li>two<\/li>\n<\/ul>/);
  assert.match(out, /<ol start="3">/);
  assert.match(out, /<a href="https:\/\/example.org\/a\?b=1&amp;c=2" rel="nofollow ugc noopener">site<\/a>/);
  assert.match(out, /<a href="https:\/\/example.org\/auto" rel="nofollow ugc noopener">/);
  assert.match(out, /<a href="https:\/\/example.org\/bare" rel="nofollow ugc noopener">/);
  assert.match(out, /<a href="mailto:ada@example.org" rel="nofollow ugc noopener">mail<\/a>/);
  assert.match(out, /!<a href="https:\/\/example.org\/d.png" rel="nofollow ugc noopener">diagram<\/a>/, 'an image is a link to it');
  assert.doesNotMatch(out, /<h\d|<img/);
  assertInert(out, 'subset');
});

test('TeX is kept verbatim for KaTeX, safe from emphasis; dollars in prose stay prose', () => {
  assert.equal(
    renderCommentMarkdown('Take $a_1 + b_2$ and $$\\sum_i x_i^*$$ or \\(x\\) and \\[y_*\\]; it costs $5 or $10.'),
    '<p>Take <span class="tex">$a_1 + b_2$</span> and <span class="tex">$$\\sum_i x_i^*$$</span> or <span class="tex">\\(x\\)</span> ' +
      'and <span class="tex">\\[y_*\\]</span>; it costs $5 or $10.</p>\n',
  );
  assert.equal(renderCommentMarkdown('`$x$`'), '<p><code>$x$</code></p>\n', 'math in code stays code');
  assert.equal(renderCommentMarkdown('$a < b$'), '<p><span class="tex">$a &lt; b$</span></p>\n');
});

test('mentions link to existing users only, and are found outside code and link text', () => {
  const known = new Set(['ada', 'bob_2']);
  assert.equal(
    renderCommentMarkdown('Hi @Ada, @bob_2 and @carol (mail ada@example.org)', known),
    '<p>Hi <a class="mention" href="/u/Ada" rel="nofollow ugc noopener">@Ada</a>, ' +
      '<a class="mention" href="/u/bob_2" rel="nofollow ugc noopener">@bob_2</a> and @carol ' +
      '(mail <a href="mailto:ada@example.org" rel="nofollow ugc noopener">ada@example.org</a>)</p>\n',
  );
  assert.deepEqual(mentionsIn('Hi @Ada and @ada, @bob_2, @carol. `@code` [@linked](https://x.example) ada@example.org @no'), ['Ada', 'bob_2', 'carol']);
  assert.deepEqual(mentionsIn('```\n@fenced\n```\n    @indented'), []);
});
