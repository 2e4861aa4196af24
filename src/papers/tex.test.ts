import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { collapseWhitespace, hasTex, texToPlain } from './tex.js';

// Any code points, lone surrogates included (fast-check's 'binary' unit is much slower).
const anyString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength }).map((cps) => String.fromCodePoint(...cps)),
    fc.string({ unit: 'grapheme', maxLength }),
  );

test('accents become composed Unicode', () => {
  const cases: [string, string][] = [
    ["C. Bal\\'azs", 'C. Balázs'],
    ['G\\"{o}del', 'Gödel'],
    ['{\\"o}', 'ö'],
    ['G\\"ahler', 'Gähler'],
    ['Fran\\c{c}ois', 'François'],
    ['Fran\\c cois', 'François'],
    ['\\v{S}r\\\'amek', 'Šrámek'],
    ['Bro\\v{n}a Brejov\\\'a, Tom\\\'a\\v{s} Vina\\v{r}', 'Broňa Brejová, Tomáš Vinař'],
    ['Espa\\~na', 'España'],
    ['Espa\\~{n}a', 'España'],
    ['b\\^ete', 'bête'],
    ['tr\\`es', 'très'],
    ['\\=a', 'ā'],
    ['Erdo\\u{g}an', 'Erdoğan'],
    ['Erd\\H{o}s', 'Erdős'],
    ['\\r{A}ngstr\\"om', 'Ångström'],
    ['{\\AA}ngstr{\\"o}m', 'Ångström'],
    ['\\aa', 'å'],
    ['Mikkel {\\O}bro', 'Mikkel Øbro'],
    ['S\\o ren', 'Søren'],
    ['Gau\\ss', 'Gauß'],
    ['\\ae sthetic', 'æsthetic'],
    ['\\L{}ukasz \\l{}', 'Łukasz ł'],
    ["Mart\\'{\\i}nez", 'Martínez'],
    ["Mart\\'\\i nez", 'Martínez'],
    ['Ayd\\i n', 'Aydın'],
    ['\\k{a}', 'ą'],
    ['\\.{Z}', 'Ż'],
    ["{\\'E}cole", 'École'],
  ];
  for (const [tex, plain] of cases) assert.equal(texToPlain(tex), plain, tex);
});

test('text markup is unwrapped', () => {
  const cases: [string, string][] = [
    ['\\emph{very} important', 'very important'],
    ['\\textbf{bold} and \\textit{it} and \\texttt{code}', 'bold and it and code'],
    ['{\\em emphasised} text', 'emphasised text'],
    ['see \\href{https://x.org/a}{our site}', 'see our site'],
    ['code at \\url{https://github.com/a/b_c}', 'code at https://github.com/a/b_c'],
    ['code at \\url{https://github.com/a/b\\_c}', 'code at https://github.com/a/b_c'],
    ['at https://example.org/~user/x_y.html.', 'at https://example.org/~user/x_y.html.'],
    ['as shown in \\cite{smith2020} and Eq.~\\eqref{eq:1}', 'as shown in and Eq.'],
    ['\\textsc{Bert}\\textsuperscript{2}', 'Bert2'],
    ['a\\\\b', 'a b'],
  ];
  for (const [tex, plain] of cases) assert.equal(texToPlain(tex), plain, tex);
});

test('math keeps its content with symbols in Unicode', () => {
  const cases: [string, string][] = [
    ['$O(n^{2})$', 'O(n2)'],
    ['the $(k,\\ell)$-pebble game', 'the (k,ℓ)-pebble game'],
    ['$\\alpha$-particles and $\\beta$ decay', 'α-particles and β decay'],
    ['$$\\Gamma \\to \\infty$$', 'Γ → ∞'],
    ['\\(x \\leq y\\) and \\[a \\geq b\\]', 'x ≤ y and a ≥ b'],
    ['$a \\times b \\pm c \\approx d \\sim e \\cdot f$', 'a × b ± c ≈ d ∼ e · f'],
    ['$\\partial_t u = \\nabla^2 u$', '∂t u = ∇2 u'],
    ['$\\sum_{i=1}^n x_i$', '∑i=1n xi'],
    ['$\\int_0^1 f$', '∫01 f'],
    ['$\\frac{1}{2}$', '1/2'],
    ['$\\sqrt{2}$', '√2'],
    ['$\\mathcal{O}(\\log n)$', 'O(log n)'],
    ['$\\mathrm{SU}(2)$', 'SU(2)'],
    ['$T^2$', 'T2'],
    ['$\\unknowncommand x$', 'x'],
    ['$\\left( x \\right)$', '( x )'],
    ['over $\\Q(\\sqrt{5})$ and $\\R^n$', 'over Q(√5) and Rn'],
  ];
  for (const [tex, plain] of cases) assert.equal(texToPlain(tex), plain, tex);
});

test('punctuation, escapes and spacing', () => {
  const cases: [string, string][] = [
    ['pages 1--10', 'pages 1–10'],
    ['yes---no', 'yes—no'],
    ['Eq.~1', 'Eq. 1'],
    ['50\\% of \\$5 \\& more \\_x \\#1', '50% of $5 & more _x #1'],
    ['100% literal', '100% literal'],
    ['  many \n  spaces\t here  ', 'many spaces here'],
    ['x_1 in text', 'x_1 in text'],
    ['unbalanced { brace', 'unbalanced brace'],
    ['stray } brace', 'stray brace'],
    ['lone backslash \\', 'lone backslash'],
    ['$unclosed math', 'unclosed math'],
    ['\\LaTeX{} rocks', 'LaTeX rocks'],
  ];
  for (const [tex, plain] of cases) assert.equal(texToPlain(tex), plain, tex);
});

test('real abstract fragments', () => {
  assert.equal(
    texToPlain('We describe a new algorithm, the $(k,\\ell)$-pebble game with colors'),
    'We describe a new algorithm, the (k,ℓ)-pebble game with colors',
  );
  assert.equal(
    texToPlain('compactified on $T^2$ and string junctions in type IIB theory\ncompactified on $S^2$.'),
    'compactified on T2 and string junctions in type IIB theory compactified on S2.',
  );
  assert.equal(texToPlain('Universit\\"at Dortmund'), 'Universität Dortmund');
});

test('hasTex', () => {
  assert.equal(hasTex('plain words, 100% (fine)'), false);
  assert.equal(hasTex('a-b'), false);
  for (const s of ['\\emph{x}', '$x$', 'a~b', 'x^2', 'a_b', '{x}', '1--2']) assert.equal(hasTex(s), true, s);
});

const stripTex = (s: string): string => s.replace(/[\\$~^_{}]/g, '').replace(/-{2,}/g, '-');

test('property: plain text only has its whitespace collapsed', () => {
  fc.assert(
    fc.property(anyString(200).map(stripTex), (s) => {
      assert.equal(hasTex(s), false);
      assert.equal(texToPlain(s), s.replace(/\s+/g, ' ').trim());
    }),
    { numRuns: 2000 },
  );
});

test('property: collapseWhitespace equals replace(/\\s+/g, " ").trim()', () => {
  const ws = fc.constantFrom(' ', '  ', '\n', '\n  ', '\t', '\u00a0', '\u2003', '\r\n', 'a', 'b', '\u3000', '\ufeff');
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: ws, maxLength: 30 }), anyString(40)), (s) => {
      assert.equal(collapseWhitespace(s), s.replace(/\s+/g, ' ').trim());
    }),
    { numRuns: 3000 },
  );
});

test('property: never throws, output trimmed and single-spaced', () => {
  const texUnit = fc.constantFrom(
    '\\', '{', '}', '$', '$$', '^', '_', '~', '-', '--', ' ', '\n', 'a', 'o', 'i', "'", '"', '`', '=',
    '.', 'c', 'v', 'u', 'H', '\\frac', '\\url', '\\href', '\\cite', '\\emph', '\\alpha', '\\(', '\\)',
    '\\[', '\\]', '\\i', '\\o', 'http://', '[', ']', '%', '&', 'é', '😀',
  );
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: texUnit, maxLength: 80 }), anyString(80)), (s) => {
      const out = texToPlain(s);
      assert.equal(typeof out, 'string');
      assert.equal(out, out.trim());
      assert.ok(!/\s{2}/.test(out), JSON.stringify(out));
    }),
    { numRuns: 5000 },
  );
});

test('adversarial inputs finish in linear-ish time', () => {
  const n = 200_000;
  for (const unit of ['\\frac{', '{', '}', '$', '\\url{', '\\href{', "\\'{", '\\cite[', '\\c', 'http://', '\\\\', '--']) {
    const s = unit.repeat(Math.ceil(n / unit.length));
    const start = performance.now();
    texToPlain(s);
    const ms = performance.now() - start;
    assert.ok(ms < 1000, `${JSON.stringify(unit)} x ${n}: ${ms.toFixed(0)} ms`);
  }
});
