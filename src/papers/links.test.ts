import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { extractLinks } from './links.js';

test('real comments and abstracts', () => {
  assert.deepEqual(
    extractLinks(
      'Final version, 6 figures, Python code and Jupyter notebook available at https://github.com/ydecastro/super-resolution-testing',
    ),
    [{ url: 'https://github.com/ydecastro/super-resolution-testing', kind: 'code' }],
  );
  assert.deepEqual(extractLinks('Code and results are available at https://opendatalab.github.io/REST.'), [
    { url: 'https://opendatalab.github.io/REST', kind: 'project' },
  ]);
  assert.deepEqual(
    extractLinks('Published in ICST 2021 (https://icst2021.icmc.usp.br/details/iteqs-2021-papers/4/Online-GANs-for-Automatic-Performance-Testing)'),
    [{ url: 'https://icst2021.icmc.usp.br/details/iteqs-2021-papers/4/Online-GANs-for-Automatic-Performance-Testing', kind: 'project' }],
  );
  assert.deepEqual(extractLinks('see http://www.imstat.org/aap/) and http://www.xray.mpe.mpg.de/~skomossa/'), [
    { url: 'http://www.imstat.org/aap/', kind: 'project' },
    { url: 'http://www.xray.mpe.mpg.de/~skomossa/', kind: 'project' },
  ]);
});

test('kinds', () => {
  const kinds = (text: string): string[] => extractLinks(text).map((l) => `${l.kind} ${l.url}`);
  assert.deepEqual(
    kinds(
      'https://gitlab.com/a/b https://bitbucket.org/a/b https://codeberg.org/a/b https://sourceforge.net/projects/x ' +
        'https://huggingface.co/org/model https://huggingface.co/spaces/org/demo https://huggingface.co/datasets/org/data ' +
        'https://zenodo.org/record/123 https://www.kaggle.com/datasets/a/b https://figshare.com/articles/x ' +
        'https://www.kaggle.com/competitions/x https://example.org/project ftp://ftp.example.org/pub/x',
    ),
    [
      'code https://gitlab.com/a/b',
      'code https://bitbucket.org/a/b',
      'code https://codeberg.org/a/b',
      'code https://sourceforge.net/projects/x',
      'code https://huggingface.co/org/model',
      'code https://huggingface.co/spaces/org/demo',
      'data https://huggingface.co/datasets/org/data',
      'data https://zenodo.org/record/123',
      'data https://www.kaggle.com/datasets/a/b',
      'data https://figshare.com/articles/x',
      'project https://www.kaggle.com/competitions/x',
      'project https://example.org/project',
      'other ftp://ftp.example.org/pub/x',
    ],
  );
});

test('arXiv and DOI links are dropped', () => {
  assert.deepEqual(
    extractLinks('see https://arxiv.org/abs/2106.09685 and https://doi.org/10.1145/3106237.3106277, http://dx.doi.org/10.1103/X'),
    [],
  );
});

test('TeX wrapping, escapes and punctuation are removed', () => {
  assert.deepEqual(extractLinks('Code: \\url{https://github.com/a/b\\_c}.'), [{ url: 'https://github.com/a/b_c', kind: 'code' }]);
  assert.deepEqual(extractLinks('\\href{https://github.com/a/b}{here}'), [{ url: 'https://github.com/a/b', kind: 'code' }]);
  assert.deepEqual(extractLinks('(see https://example.org/x).'), [{ url: 'https://example.org/x', kind: 'project' }]);
  assert.deepEqual(extractLinks('[https://example.org/x];'), [{ url: 'https://example.org/x', kind: 'project' }]);
  assert.deepEqual(extractLinks('{https://example.org/x}'), [{ url: 'https://example.org/x', kind: 'project' }]);
  assert.deepEqual(extractLinks('https://en.wikipedia.org/wiki/Foo_(bar).'), [
    { url: 'https://en.wikipedia.org/wiki/Foo_(bar)', kind: 'project' },
  ]);
  assert.deepEqual(extractLinks('https://doi.org/10.5121/vlsic.2012.3205\\ https://x.org/a\\'), [{ url: 'https://x.org/a', kind: 'project' }]);
  assert.deepEqual(extractLinks("``http://example.org/q''"), [{ url: 'http://example.org/q', kind: 'project' }]);
  assert.deepEqual(extractLinks('http://www.x.edu/\\~{}user/'), [{ url: 'http://www.x.edu/~user/', kind: 'project' }]);
});

test('bare hosts, https for code hosts, deduplication across texts', () => {
  assert.deepEqual(
    extractLinks(
      'Code at github.com/Owner/Repo.',
      'also http://github.com/owner/repo/ and https://www.github.com/owner/repo.git',
      'mirror www.example.org/tool, mail me@github.com',
      null,
      undefined,
    ),
    [
      { url: 'https://github.com/Owner/Repo', kind: 'code' },
      { url: 'http://www.example.org/tool', kind: 'project' },
    ],
  );
  assert.deepEqual(extractLinks('https://github.com/a/b/tree/main/src'), [
    { url: 'https://github.com/a/b/tree/main/src', kind: 'code' },
  ]);
  assert.deepEqual(extractLinks('no links here', '', null), []);
});

test('property: never throws; urls are clean and unique', () => {
  const unit = fc.constantFrom('http://', 'https://', 'github.com/', 'www.', 'a', 'b.', 'x.org', '/', ')', '(', '.', ',',
    ' ', '\\', '_', '{', '}', '~', 'arxiv.org/', 'doi.org/', 'huggingface.co/datasets/', ':');
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 30 }), fc.string({ maxLength: 40 }), (a, b) => {
      const links = extractLinks(a, b);
      const keys = links.map((l) => l.url.toLowerCase());
      assert.equal(new Set(keys).size, keys.length);
      for (const l of links) {
        assert.ok(/^(?:https?|ftp):\/\/\S+$/i.test(l.url), l.url);
        assert.ok(!/[.,;:)\]}]$/.test(l.url) || /\)$/.test(l.url), l.url);
      }
    }),
    { numRuns: 3000 },
  );
});
