/**
 * The built-in extractive summariser: picks the two or three most central
 * sentences of an abstract (TextRank over word overlap) and keeps them in
 * their original order. No model, no network: pure, deterministic and fast
 * enough to run on every page view (well under a millisecond per abstract),
 * so nothing needs storing or invalidating when an abstract changes.
 *
 * It works on TeX source: inline math (`$…$`) is kept whole so the chosen
 * sentences still render, and is ignored when comparing sentences.
 */

/** Names the method on every page that shows its output. */
export const SUMMARISER = { name: 'paperboy-extractive', version: 1 } as const;

// English function words plus the boilerplate of abstracts ("we propose a
// novel approach"): words that say nothing about what a paper is about.
const STOP_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all almost along already also although always am among an and another any
  are around as at be because been before being below between both but by can cannot could did do does doing done
  down during each either else enough especially etc even ever every few for from further had has have having he
  her here hers him his how however i if in into is it its itself just least less like made make makes many may
  me might more most much must my near nearly neither no nor not now of off often on once one only onto or other
  others otherwise our ours out over own per perhaps quite rather really same several shall she should since so
  some such than that the their theirs them themselves then there thereby therefore these they this those though
  through thus to together too toward towards under until up upon us very via was we well were what whatever when
  where whereas whether which while who whom whose why will with within without would yet you your
  abstract address addresses allow allows approach approaches based able article better consider considered
  demonstrate demonstrates describe described different discuss discussed effective efficient existing find finds
  first found furthermore given good high highly important improve improved improves including introduce
  introduced investigate investigated key large main moreover new novel obtain obtained order paper particular
  present presented previous propose proposed provide provides recent recently report reported respectively result
  results second show showed shown shows significant significantly simple study studied studies suggest terms use
  used uses using various way ways work works`.split(/\s+/),
);

/** True for words that carry no topic (function words and abstract boilerplate). */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word.toLowerCase());
}

/**
 * A light suffix stripper (plurals, -ing, -ed), enough to treat "network" and
 * "networks" or "learned" and "learning" as one word. Not Porter: it never
 * merges words with different meanings such as "general" and "generate".
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(?:sses|xes|zes|ches|shes)$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is|ics)$/.test(w)) w = w.slice(0, -1);
  const ending = /(?:ing|ed)$/.exec(w);
  if (ending !== null && w.length - ending[0].length >= 4) {
    w = w.slice(0, -ending[0].length);
    // running -> runn -> run; but keep "ll"/"ss" endings (modelled -> model).
    if (/([^aeiouls])\1$/.test(w)) w = w.slice(0, -1);
  }
  return w;
}

const MATH_RE = /\$\$[\s\S]*?\$\$|\$(?:\\.|[^$\\])*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g;
const TEX_COMMAND_RE = /\\[a-zA-Z]+/g;
const WORD_RE = /\p{L}[\p{L}\p{N}]*(?:['’-][\p{L}\p{N}]+)*/gu;

/** The text with every TeX math span (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`) replaced. */
export function withoutMath(text: string, replacement = ' '): string {
  return text.replace(MATH_RE, replacement);
}

/** The words of a text in order, TeX math and commands left out. */
export function plainWords(text: string): string[] {
  return withoutMath(text).replace(TEX_COMMAND_RE, ' ').match(WORD_RE) ?? [];
}

/** The distinct stems of the words that carry meaning. */
function contentStems(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of plainWords(text)) {
    if (w.length < 3 || isStopWord(w)) continue;
    out.add(stem(w));
  }
  return out;
}

// Abbreviations that end in a period but do not end a sentence ("Fig. 2",
// "et al. (2020)", "e.g. Smith", "Phys. Rev. Lett.").
const ABBREVIATIONS: ReadonlySet<string> = new Set(
  `al approx ca cf chap conf cor corp dept dr eq eqn eqns eqs fig figs incl jr lem lett mr mrs ms nucl phys proc
  prof prop ref refs resp rev sec sect secs sr st suppl thm univ viz vs astrophys`.split(/\s+/),
);
// Abbreviations only when a number follows ("No. 3", "Vol. 12", "pp. 4-9").
const NUMBER_ABBREVIATIONS: ReadonlySet<string> = new Set(['no', 'nos', 'vol', 'vols', 'pp', 'p', 'art', 'ch', 'tab']);
const TOKEN_BEFORE_RE = /([\p{L}\p{N}.]+)$/u;
const CLOSERS = new Set([')', ']', '"', "'", '”', '’', '}']);
const STARTER_RE = /^[\p{Lu}\p{N}$\\(["'“‘[]/u;

/** True when the period at `dot` ends an abbreviation or an initial rather than a sentence. */
function isAbbreviation(text: string, dot: number, next: string): boolean {
  const token = TOKEN_BEFORE_RE.exec(text.slice(Math.max(0, dot - 24), dot))?.[1] ?? '';
  const lower = token.toLowerCase();
  if (lower === '') return false;
  if (ABBREVIATIONS.has(lower)) return true;
  // "e.g", "i.e", "U.S", "Ph.D": dotted abbreviations.
  if (/^(?:\p{L}\.)+\p{L}$/u.test(token)) return true;
  // A single capital is an initial ("A. Einstein").
  if (/^\p{Lu}$/u.test(token)) return true;
  if (NUMBER_ABBREVIATIONS.has(lower) && /^\p{N}/u.test(next)) return true;
  return false;
}

/**
 * Splits text into sentences at `.`, `!` or `?` followed by space and a
 * capital, digit or math, but never inside `$…$`, after an abbreviation
 * (e.g., et al., Fig.), inside a decimal, or at an initial. Blank lines
 * (paragraph breaks) always split.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inMath = false;
  // A lone `$` ("costs $5") would swallow the rest of the text as math; then
  // math is not protected at all rather than protected wrongly.
  const protectMath = ((text.replace(/\\./g, '').match(/\$/g) ?? []).length & 1) === 0;
  const push = (end: number): void => {
    const s = text.slice(start, end).replace(/\s+/g, ' ').trim();
    if (s !== '') out.push(s);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (c === '$' && protectMath) {
      if (text[i + 1] === '$') i += 1;
      inMath = !inMath;
      continue;
    }
    if (inMath) continue;
    if (c === '\n' && /^\n[ \t]*\n/.test(text.slice(i, i + 40))) {
      push(i);
      start = i + 1;
      continue;
    }
    if (c !== '.' && c !== '!' && c !== '?') continue;
    let end = i + 1;
    while (end < text.length && (CLOSERS.has(text[end] ?? '') || text[end] === '.')) end += 1;
    const gap = /^\s+/.exec(text.slice(end, end + 20));
    if (gap === null) continue;
    const next = text.slice(end + gap[0].length, end + gap[0].length + 2);
    if (!STARTER_RE.test(next)) continue;
    if (c === '.' && isAbbreviation(text, i, next)) continue;
    push(end);
    start = end;
    i = end - 1;
  }
  push(text.length);
  return out;
}

// Sentences that state the contribution are what a reader wants first.
const CUE_RE = /\b(?:we|this (?:paper|work|article|letter)|our (?:results?|method|approach|model))\s+(?:\w+\s+)?(?:propose|present|introduce|show|find|demonstrate|develop|prove|report|obtain|derive|establish)/i;
const CUE_BONUS = 1.15;
const DAMPING = 0.85;
const MAX_ITERATIONS = 50;
const CONVERGED = 1e-6;
// Fragments such as "10 pages." or a lone formula are never picked.
const MIN_CONTENT_WORDS = 4;

/** How many sentences a summary of `n` sentences keeps: all of a very short abstract, else 2–3. */
function summaryLength(n: number): number {
  if (n <= 2) return n;
  return n <= 6 ? 2 : 3;
}

/** TextRank scores: PageRank over sentences, edges weighted by shared stems. */
function textRank(stems: Set<string>[]): Float64Array {
  const n = stems.length;
  // transition[j * n + i]: share of sentence j's weight that flows to sentence i.
  const transition = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = stems[i] ?? new Set<string>();
    for (let j = i + 1; j < n; j++) {
      const b = stems[j] ?? new Set<string>();
      if (a.size === 0 || b.size === 0) continue;
      let shared = 0;
      for (const s of a) if (b.has(s)) shared += 1;
      // Mihalcea & Tarau (2004): normalised so long sentences do not win by length alone.
      const w = shared / (Math.log(a.size + 1) + Math.log(b.size + 1));
      transition[i * n + j] = w;
      transition[j * n + i] = w;
    }
  }
  for (let j = 0; j < n; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += transition[j * n + i] ?? 0;
    if (total > 0) for (let i = 0; i < n; i++) transition[j * n + i] = (transition[j * n + i] ?? 0) / total;
  }
  let scores = new Float64Array(n).fill(1);
  let next = new Float64Array(n);
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    let change = 0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (transition[j * n + i] ?? 0) * (scores[j] ?? 0);
      const value = 1 - DAMPING + DAMPING * sum;
      change += Math.abs(value - (scores[i] ?? 0));
      next[i] = value;
    }
    [scores, next] = [next, scores];
    if (change < CONVERGED) break;
  }
  return scores;
}

/** The key sentences of an abstract (TeX source or plain), 2–3 of them, in original order. */
export function summarise(abstract: string): string[] {
  const sentences = splitSentences(abstract);
  const wanted = summaryLength(sentences.length);
  if (wanted === sentences.length) return sentences;
  const stems = sentences.map(contentStems);
  const ranks = textRank(stems);
  const scored = sentences.map((s, i) => ({
    i,
    score: (stems[i]?.size ?? 0) < MIN_CONTENT_WORDS ? 0 : (ranks[i] ?? 0) * (CUE_RE.test(s) ? CUE_BONUS : 1),
  }));
  // Ties go to the earlier sentence, so the output never depends on sort stability.
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored
    .slice(0, wanted)
    .map((s) => s.i)
    .sort((a, b) => a - b)
    .map((i) => sentences[i] ?? '');
}
