/**
 * TeX to plain text for search and email: the subset of TeX that appears in
 * arXiv titles, abstracts and author names.
 *
 * A single left-to-right scan, so the cost is linear in the input whatever it
 * holds (unbalanced braces, stray `$`, a lone backslash). Unknown commands are
 * dropped and braces removed, which "unwraps" `\emph{x}` and friends for free.
 */

// Combining marks for TeX accent commands; the base letter + mark is NFC-composed.
const ACCENT_MARKS: ReadonlyMap<string, string> = new Map([
  ["'", '\u0301'],
  ['`', '\u0300'],
  ['^', '\u0302'],
  ['"', '\u0308'],
  ['~', '\u0303'],
  ['=', '\u0304'],
  ['.', '\u0307'],
  ['u', '\u0306'],
  ['v', '\u030C'],
  ['H', '\u030B'],
  ['c', '\u0327'],
  ['k', '\u0328'],
  ['r', '\u030A'],
  ['d', '\u0323'],
  ['b', '\u0331'],
  ['t', '\u0361'],
]);

// Letters TeX spells as commands (`{\o}`, `\ss`, `\aa`); they swallow following spaces like any control word.
const LETTERS: ReadonlyMap<string, string> = new Map([
  ['aa', 'å'], ['AA', 'Å'], ['o', 'ø'], ['O', 'Ø'], ['ss', 'ß'], ['SS', 'SS'],
  ['ae', 'æ'], ['AE', 'Æ'], ['oe', 'œ'], ['OE', 'Œ'], ['l', 'ł'], ['L', 'Ł'],
  ['i', 'ı'], ['j', 'ȷ'], ['dh', 'ð'], ['DH', 'Ð'], ['th', 'þ'], ['TH', 'Þ'],
  ['ng', 'ŋ'], ['NG', 'Ŋ'], ['dj', 'đ'], ['DJ', 'Đ'],
]);

// Greek letters and the symbols common in abstracts. Variant forms map to the
// everyday code point (φ, ε) because that is what people type into a search box.
const SYMBOLS: ReadonlyMap<string, string> = new Map([
  ['alpha', 'α'], ['beta', 'β'], ['gamma', 'γ'], ['delta', 'δ'], ['epsilon', 'ε'],
  ['varepsilon', 'ε'], ['zeta', 'ζ'], ['eta', 'η'], ['theta', 'θ'], ['vartheta', 'ϑ'],
  ['iota', 'ι'], ['kappa', 'κ'], ['varkappa', 'ϰ'], ['lambda', 'λ'], ['mu', 'μ'], ['nu', 'ν'],
  ['xi', 'ξ'], ['omicron', 'ο'], ['pi', 'π'], ['varpi', 'ϖ'], ['rho', 'ρ'], ['varrho', 'ϱ'],
  ['sigma', 'σ'], ['varsigma', 'ς'], ['tau', 'τ'], ['upsilon', 'υ'], ['phi', 'φ'],
  ['varphi', 'φ'], ['chi', 'χ'], ['psi', 'ψ'], ['omega', 'ω'],
  ['Alpha', 'Α'], ['Beta', 'Β'], ['Gamma', 'Γ'], ['Delta', 'Δ'], ['Epsilon', 'Ε'],
  ['Zeta', 'Ζ'], ['Eta', 'Η'], ['Theta', 'Θ'], ['Iota', 'Ι'], ['Kappa', 'Κ'],
  ['Lambda', 'Λ'], ['Mu', 'Μ'], ['Nu', 'Ν'], ['Xi', 'Ξ'], ['Omicron', 'Ο'], ['Pi', 'Π'],
  ['Rho', 'Ρ'], ['Sigma', 'Σ'], ['Tau', 'Τ'], ['Upsilon', 'Υ'], ['Phi', 'Φ'], ['Chi', 'Χ'],
  ['Psi', 'Ψ'], ['Omega', 'Ω'], ['varGamma', 'Γ'], ['varDelta', 'Δ'], ['varTheta', 'Θ'],
  ['varLambda', 'Λ'], ['varXi', 'Ξ'], ['varPi', 'Π'], ['varSigma', 'Σ'], ['varPhi', 'Φ'],
  ['varPsi', 'Ψ'], ['varOmega', 'Ω'], ['digamma', 'ϝ'],
  // arrows
  ['to', '→'], ['rightarrow', '→'], ['longrightarrow', '⟶'], ['leftarrow', '←'], ['gets', '←'],
  ['longleftarrow', '⟵'], ['leftrightarrow', '↔'], ['longleftrightarrow', '⟷'],
  ['Rightarrow', '⇒'], ['Longrightarrow', '⟹'], ['implies', '⟹'], ['Leftarrow', '⇐'],
  ['Longleftarrow', '⟸'], ['Leftrightarrow', '⇔'], ['Longleftrightarrow', '⟺'], ['iff', '⟺'],
  ['mapsto', '↦'], ['longmapsto', '⟼'], ['uparrow', '↑'], ['downarrow', '↓'],
  ['Uparrow', '⇑'], ['Downarrow', '⇓'], ['updownarrow', '↕'], ['nearrow', '↗'],
  ['searrow', '↘'], ['hookrightarrow', '↪'], ['hookleftarrow', '↩'],
  ['rightleftharpoons', '⇌'], ['leftrightarrows', '⇆'], ['rightrightarrows', '⇉'],
  // relations
  ['leq', '≤'], ['le', '≤'], ['geq', '≥'], ['ge', '≥'], ['leqslant', '⩽'], ['geqslant', '⩾'],
  ['neq', '≠'], ['ne', '≠'], ['approx', '≈'], ['sim', '∼'], ['simeq', '≃'], ['cong', '≅'],
  ['equiv', '≡'], ['propto', '∝'], ['ll', '≪'], ['gg', '≫'], ['lesssim', '≲'], ['gtrsim', '≳'],
  ['lessapprox', '⪅'], ['gtrapprox', '⪆'], ['asymp', '≍'], ['doteq', '≐'], ['prec', '≺'],
  ['succ', '≻'], ['preceq', '⪯'], ['succeq', '⪰'], ['in', '∈'], ['notin', '∉'], ['ni', '∋'],
  ['subset', '⊂'], ['supset', '⊃'], ['subseteq', '⊆'], ['supseteq', '⊇'], ['subsetneq', '⊊'],
  ['supsetneq', '⊋'], ['perp', '⊥'], ['parallel', '∥'], ['mid', '∣'], ['nmid', '∤'],
  ['models', '⊨'], ['vdash', '⊢'], ['dashv', '⊣'], ['vDash', '⊨'], ['triangleq', '≜'],
  ['coloneqq', '≔'], ['lhd', '⊲'], ['rhd', '⊳'], ['unlhd', '⊴'], ['unrhd', '⊵'],
  // operators
  ['times', '×'], ['pm', '±'], ['mp', '∓'], ['cdot', '·'], ['div', '÷'], ['ast', '∗'],
  ['star', '⋆'], ['circ', '∘'], ['bullet', '•'], ['oplus', '⊕'], ['ominus', '⊖'],
  ['otimes', '⊗'], ['odot', '⊙'], ['oslash', '⊘'], ['cup', '∪'], ['cap', '∩'],
  ['bigcup', '⋃'], ['bigcap', '⋂'], ['sqcup', '⊔'], ['sqcap', '⊓'], ['uplus', '⊎'],
  ['wedge', '∧'], ['land', '∧'], ['vee', '∨'], ['lor', '∨'], ['neg', '¬'], ['lnot', '¬'],
  ['setminus', '∖'], ['wr', '≀'], ['dagger', '†'], ['dag', '†'], ['ddagger', '‡'], ['ddag', '‡'],
  ['amalg', '⨿'], ['bigoplus', '⨁'], ['bigotimes', '⨂'], ['bigvee', '⋁'], ['bigwedge', '⋀'],
  ['sum', '∑'], ['prod', '∏'], ['coprod', '∐'], ['int', '∫'], ['iint', '∬'], ['iiint', '∭'],
  ['oint', '∮'], ['sqrt', '√'], ['surd', '√'],
  // misc
  ['infty', '∞'], ['ell', 'ℓ'], ['partial', '∂'], ['nabla', '∇'], ['hbar', 'ℏ'], ['hslash', 'ℏ'],
  ['forall', '∀'], ['exists', '∃'], ['nexists', '∄'], ['emptyset', '∅'], ['varnothing', '∅'],
  ['aleph', 'ℵ'], ['beth', 'ℶ'], ['wp', '℘'], ['Re', 'ℜ'], ['Im', 'ℑ'], ['angle', '∠'],
  ['triangle', '△'], ['square', '□'], ['Box', '□'], ['blacksquare', '■'], ['diamond', '⋄'],
  ['Diamond', '◇'], ['top', '⊤'], ['bot', '⊥'], ['prime', '′'], ['backslash', '\\'],
  ['langle', '⟨'], ['rangle', '⟩'], ['lceil', '⌈'], ['rceil', '⌉'], ['lfloor', '⌊'],
  ['rfloor', '⌋'], ['vert', '|'], ['lvert', '|'], ['rvert', '|'], ['Vert', '‖'], ['lVert', '‖'],
  ['rVert', '‖'], ['lbrace', '{'], ['rbrace', '}'], ['lbrack', '['], ['rbrack', ']'],
  ['sharp', '♯'], ['flat', '♭'], ['natural', '♮'], ['clubsuit', '♣'], ['diamondsuit', '♢'],
  ['heartsuit', '♡'], ['spadesuit', '♠'], ['checkmark', '✓'], ['degree', '°'],
  ['ldots', '…'], ['dots', '…'], ['cdots', '⋯'], ['vdots', '⋮'], ['ddots', '⋱'],
  ['dotsc', '…'], ['dotsb', '⋯'], ['therefore', '∴'], ['because', '∵'],
  ['colon', ':'], ['quad', ' '], ['qquad', ' '], ['enspace', ' '], ['thinspace', ' '],
  ['newline', ' '], ['par', ' '], ['linebreak', ' '], ['hfill', ' '], ['noindent', ''],
  // text symbols
  ['LaTeX', 'LaTeX'], ['TeX', 'TeX'], ['LaTeXe', 'LaTeX2e'], ['BibTeX', 'BibTeX'],
  ['AmS', 'AMS'], ['S', '§'], ['P', '¶'], ['copyright', '©'], ['textcopyright', '©'],
  ['textregistered', '®'], ['texttrademark', '™'], ['pounds', '£'], ['textsterling', '£'],
  ['euro', '€'], ['texteuro', '€'], ['textdollar', '$'], ['textasciitilde', '~'],
  ['textasciicircum', '^'], ['textbackslash', '\\'], ['textunderscore', '_'],
  ['textbar', '|'], ['textless', '<'], ['textgreater', '>'], ['textendash', '–'],
  ['textemdash', '—'], ['textquoteleft', '‘'], ['textquoteright', '’'],
  ['textquotedblleft', '“'], ['textquotedblright', '”'], ['textdegree', '°'],
  ['textperiodcentered', '·'], ['textbullet', '•'], ['textmu', 'µ'], ['textdagger', '†'],
  ['guillemotleft', '«'], ['guillemotright', '»'],
  ['ensuremath', ''], ['displaystyle', ''], ['textstyle', ''], ['scriptstyle', ''],
  // maths functions keep their names: "\log n" must not become " n"
  ['log', 'log'], ['ln', 'ln'], ['lg', 'lg'], ['exp', 'exp'], ['sin', 'sin'], ['cos', 'cos'],
  ['tan', 'tan'], ['cot', 'cot'], ['sec', 'sec'], ['csc', 'csc'], ['sinh', 'sinh'],
  ['cosh', 'cosh'], ['tanh', 'tanh'], ['coth', 'coth'], ['arcsin', 'arcsin'],
  ['arccos', 'arccos'], ['arctan', 'arctan'], ['max', 'max'], ['min', 'min'], ['sup', 'sup'],
  ['inf', 'inf'], ['lim', 'lim'], ['liminf', 'lim inf'], ['limsup', 'lim sup'], ['det', 'det'],
  ['dim', 'dim'], ['ker', 'ker'], ['deg', 'deg'], ['arg', 'arg'], ['gcd', 'gcd'], ['Pr', 'Pr'],
  ['hom', 'hom'], ['mod', 'mod'], ['bmod', 'mod'], ['pmod', 'mod'], ['tr', 'tr'],
  ['argmax', 'argmax'], ['argmin', 'argmin'], ['Tr', 'Tr'],
  // Authors' usual macros for number sets; the letter is what a reader searches for.
  ['R', 'R'], ['C', 'C'], ['N', 'N'], ['Z', 'Z'], ['Q', 'Q'],
]);

// Commands whose first argument is not text (keys, lengths, environment names, colours).
const DROP_ARG: ReadonlySet<string> = new Set([
  'cite', 'citep', 'citet', 'citealp', 'citeauthor', 'citeyear', 'nocite', 'ref', 'eqref',
  'autoref', 'cref', 'Cref', 'pageref', 'label', 'begin', 'end', 'vspace', 'hspace',
  'includegraphics', 'color', 'textcolor', 'colorbox', 'href', 'bibliography',
  'bibliographystyle', 'pagestyle', 'thispagestyle', 'setlength', 'addtolength', 'thanks',
  'footnotemark', 'kern', 'hskip', 'vskip', 'rule', 'raisebox', 'phantom', 'hphantom',
  'vphantom', 'def', 'newcommand', 'renewcommand', 'usepackage', 'documentclass', 'iffalse',
]);

const FRAC: ReadonlySet<string> = new Set(['frac', 'dfrac', 'tfrac', 'cfrac']);

const HAS_TEX_RE = /[\\$~^_{}]|--/;
// Matches only whitespace that needs rewriting (not a lone space): far fewer matches than /\s+/g.
const BAD_WS_RE = /[^\S ]\s*| \s+/g;
const BAD_WS_TEST_RE = /[^\S ]| \s/;

const accentCache = new Map<string, string>();

/** Runs of whitespace to one space, trimmed (same result as `.replace(/\s+/g, ' ').trim()`, faster). */
export function collapseWhitespace(s: string): string {
  return BAD_WS_TEST_RE.test(s) ? s.replace(BAD_WS_RE, ' ').trim() : s.trim();
}

/** Cheap test for anything texToPlain would change beyond whitespace. */
export function hasTex(s: string): boolean {
  return HAS_TEX_RE.test(s);
}

/** Plain Unicode text from arXiv TeX: accents composed, math kept, markup and unknown commands dropped. */
export function texToPlain(tex: string): string {
  if (typeof tex !== 'string' || tex.length === 0) return '';
  return collapseWhitespace(HAS_TEX_RE.test(tex) ? convert(tex) : tex);
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

function compose(accent: string, base: string): string {
  const key = accent + base;
  let out = accentCache.get(key);
  if (out === undefined) {
    const mark = ACCENT_MARKS.get(accent) ?? '';
    // A dotless i/j under an accent is how TeX spells í, ĵ: restore the dot-bearing letter.
    const letter = base === 'ı' ? 'i' : base === 'ȷ' ? 'j' : base;
    out = (letter + mark).normalize('NFC');
    // Inputs are attacker-controlled; keep the cache bounded.
    if (accentCache.size < 4096) accentCache.set(key, out);
  }
  return out;
}

/** Index after a `{…}` group starting at `open` (or the end of input when unbalanced). */
function skipGroup(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
    } else if (c === 123 /* { */) {
      depth++;
    } else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return s.length;
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads the argument of an accent at `i`: `x`, `{x}`, `{\i}`, `\i`, `{}`.
 * Returns the base letter (empty for `{}`) and the index after it, or null
 * when the argument is something richer that the main scan should handle.
 */
function accentArg(s: string, i: number): [string, number] | null {
  i = skipSpaces(s, i);
  if (i >= s.length) return null;
  const c = s.charCodeAt(i);
  if (c === 123 /* { */) {
    const j = skipSpaces(s, i + 1);
    const d = s.charCodeAt(j);
    if (d === 125) return ['', j + 1];
    if (d === 92 /* \ */) {
      const name = s.charCodeAt(j + 1);
      if ((name === 105 || name === 106) && !isLetter(s.charCodeAt(j + 2))) {
        const k = skipSpaces(s, j + 2);
        if (s.charCodeAt(k) === 125) return [name === 105 ? 'ı' : 'ȷ', k + 1];
      }
      return null;
    }
    if (j < s.length && d !== 36 && d !== 123) {
      const end = skipSpaces(s, j + 1);
      if (s.charCodeAt(end) === 125) return [s[j] ?? '', end + 1];
    }
    return null;
  }
  if (c === 92 /* \ */) {
    const name = s.charCodeAt(i + 1);
    if ((name === 105 || name === 106) && !isLetter(s.charCodeAt(i + 2))) {
      // `\i` is a control word, so it eats the spaces after it: `\'\i nez` is "ínez".
      return [name === 105 ? 'ı' : 'ȷ', skipSpaces(s, i + 2)];
    }
    return null;
  }
  if (c === 125 || c === 36) return null;
  return [s[i] ?? '', i + 1];
}

/** Copies a URL verbatim, undoing the TeX escapes people put into URLs. */
function copyUrl(s: string, i: number, stopAtBrace: boolean): [string, number] {
  let out = '';
  let start = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      const n = s[i + 1];
      if (n === '_' || n === '%' || n === '#' || n === '&' || n === '~' || n === '$') {
        out += s.slice(start, i) + n;
        i += 2;
        if (s.charCodeAt(i) === 123 && s.charCodeAt(i + 1) === 125) i += 2;
        start = i;
        continue;
      }
      break;
    }
    if (c === 125 || (stopAtBrace && c === 123)) break;
    if (!stopAtBrace && (isSpace(c) || c === 36 || c === 123)) break;
    i++;
  }
  return [out + s.slice(start, i), i];
}

function convert(s: string): string {
  let out = '';
  let start = 0; // start of the pending literal run
  let math = false;
  const closers: string[] = [];
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 92: {
        // backslash
        out += s.slice(start, i);
        i = command(s, i);
        start = i;
        continue;
      }
      case 36: {
        // $ or $$ toggles maths; the content stays
        out += s.slice(start, i);
        i += s.charCodeAt(i + 1) === 36 ? 2 : 1;
        math = !math;
        start = i;
        continue;
      }
      case 123: {
        out += s.slice(start, i);
        closers.push('');
        start = ++i;
        continue;
      }
      case 125: {
        out += s.slice(start, i);
        // A stray `}` has nothing to close; it is simply dropped.
        out += closers.pop() ?? '';
        start = ++i;
        continue;
      }
      case 126: {
        // ~ is a non-breaking space
        out += s.slice(start, i) + ' ';
        start = ++i;
        continue;
      }
      case 94:
      case 95: {
        // ^ and _ are markup only inside maths; in running text they are literal.
        if (math) {
          out += s.slice(start, i);
          start = ++i;
        } else {
          i++;
        }
        continue;
      }
      case 45: {
        if (!math && s.charCodeAt(i + 1) === 45) {
          out += s.slice(start, i);
          if (s.charCodeAt(i + 2) === 45) {
            out += '—';
            i += 3;
          } else {
            out += '–';
            i += 2;
          }
          start = i;
        } else {
          i++;
        }
        continue;
      }
      case 104: {
        // http(s):// in running text is copied verbatim so `~` and `_` in it survive.
        if (!math && s.charCodeAt(i + 1) === 116 && (s.startsWith('http://', i) || s.startsWith('https://', i))) {
          out += s.slice(start, i);
          const [url, j] = copyUrl(s, i, false);
          out += url;
          i = start = j;
        } else {
          i++;
        }
        continue;
      }
      default:
        i++;
    }
  }
  return out + s.slice(start);

  /** Handles the command at `at` (a backslash); appends to `out`, returns the next index. */
  function command(src: string, at: number): number {
    let j = at + 1;
    if (j >= n) return j;
    const first = src.charCodeAt(j);
    if (!isLetter(first)) {
      const sym = src[j] ?? '';
      j++;
      if (ACCENT_MARKS.has(sym)) {
        const arg = accentArg(src, j);
        if (arg === null) return j;
        out += arg[0] === '' ? (sym === '~' || sym === '^' ? sym : '') : compose(sym, arg[0]);
        return arg[1];
      }
      switch (sym) {
        case '%': case '&': case '_': case '#': case '$': case '{': case '}':
          out += sym;
          return j;
        case '(': case '[':
          math = true;
          return j;
        case ')': case ']':
          math = false;
          return j;
        case '|':
          out += '‖';
          return j;
        case '!': case '-': case '/': case '@': case '*':
          return j;
        default:
          // `\\`, `\,`, `\;`, `\ `, a line break: all spacing.
          if (sym === '\\' || sym === ',' || sym === ';' || sym === ':' || sym === '>' || isSpace(first)) {
            out += ' ';
            return j;
          }
          out += sym;
          return j;
      }
    }
    while (j < n && isLetter(src.charCodeAt(j))) j++;
    const name = src.slice(at + 1, j);
    if (name.length === 1 && ACCENT_MARKS.has(name)) {
      const arg = accentArg(src, j);
      if (arg === null) return j;
      if (arg[0] !== '') out += compose(name, arg[0]);
      return arg[1];
    }
    const letter = LETTERS.get(name);
    if (letter !== undefined) {
      out += letter;
      // A control word eats the spaces after it (`\o rn` is "ørn"); `{}` is the explicit terminator.
      let k = skipSpaces(src, j);
      if (src.charCodeAt(k) === 123 && src.charCodeAt(k + 1) === 125) k += 2;
      return k;
    }
    const sym = SYMBOLS.get(name);
    if (sym !== undefined) {
      out += sym;
      return j;
    }
    if (name === 'url') {
      const k = skipSpaces(src, j);
      if (src.charCodeAt(k) !== 123) return j;
      const [url, e] = copyUrl(src, k + 1, true);
      out += url;
      // Whatever the URL copy stopped at, resume after the group.
      return e < n && src.charCodeAt(e) === 125 ? e + 1 : skipGroup(src, k);
    }
    if (DROP_ARG.has(name)) {
      let k = skipSpaces(src, j);
      if (src.charCodeAt(k) === 42 /* * */) k = skipSpaces(src, k + 1);
      if (src.charCodeAt(k) === 91 /* [ */) {
        // An optional argument is short; a bounded look keeps `\cite[\cite[…` linear.
        const limit = Math.min(n, k + 200);
        let close = k + 1;
        while (close < limit && src.charCodeAt(close) !== 93) close++;
        if (close < limit) k = skipSpaces(src, close + 1);
      }
      return src.charCodeAt(k) === 123 ? skipGroup(src, k) : j;
    }
    if (FRAC.has(name)) {
      const k = skipSpaces(src, j);
      if (src.charCodeAt(k) === 123) {
        closers.push('/');
        return k + 1;
      }
      return j;
    }
    // Unknown command: drop the name; any braced argument is unwrapped by the main loop.
    return j;
  }
}
