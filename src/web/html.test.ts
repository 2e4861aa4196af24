import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, raw } from './html.js';

test('interpolated strings are escaped', () => {
  const title = '<script>alert("x")</script> & \'more\'';
  assert.equal(
    html`<h1>${title}</h1>`.value,
    '<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;more&#39;</h1>',
  );
});

test('nested templates and arrays are not double-escaped', () => {
  const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
  assert.equal(html`<ul>${items}</ul>`.value, '<ul><li>a&lt;b</li><li>c</li></ul>');
  assert.equal(html`${raw('<br>')}${null}${false}${0}`.value, '<br>0');
});
