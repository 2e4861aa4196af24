/**
 * Keyphrases of a paper, RAKE-style (Rose et al., 2010): candidate phrases are
 * the runs of content words between stop words and punctuation; each word
 * scores degree / frequency, a phrase the sum of its words. Pure and
 * deterministic, like the summariser it is shown with.
 */
import { isStopWord, stem, withoutMath } from './summary.js';
import { texToPlain } from './tex.js';

/** The most keyphrases returned. */
export const MAX_KEYPHRASES = 8;
// Longer runs are clauses ("sparse linear system solver performance analysis"), not keyphrases.
const MAX_PHRASE_WORDS = 4;
// Words of the title are the author's own choice of keywords.
const TITLE_BONUS = 1.5;

// Without a part-of-speech tagger, verbs that commonly follow or precede a
// noun phrase ("sparse graphs appear", "explicitly give") are listed; their
// inflections are generated below.
const VERBS = `achieve address allow analyse analyze appear apply argue arise assess become calculate claim compare
  compute confirm consider construct contain demonstrate depend derive describe determine develop discuss employ
  enable establish estimate evaluate examine exhibit exist explain exploit explore extend focus generalise generalize
  give help identify imply improve include increase indicate investigate lead measure observe obtain occur outperform
  perform predict prove provide receive reduce remain require reveal see solve suggest tackle take yield`.split(/\s+/);
const BREAKERS: ReadonlySet<string> = new Set([
  ...VERBS.flatMap((v) => [v, `${v}s`, `${v}es`, `${v}d`, `${v}ed`, v.endsWith('y') ? `${v.slice(0, -1)}ies` : v]),
  ...'given gave taken made led found seen shown still thereby hence via whose'.split(' '),
]);
// -ly words that are nouns or adjectives, not adverbs.
const LY_NOUNS: ReadonlySet<string> = new Set(['family', 'anomaly', 'assembly', 'monopoly', 'italy', 'supply', 'reply', 'early', 'butterfly', 'poly']);

/** True for words that end a candidate phrase: stop words and common verbs. */
function isBreaker(word: string): boolean {
  const lower = word.toLowerCase();
  return isStopWord(lower) || BREAKERS.has(lower);
}

/**
 * True for words a phrase may not end with: adverbs ("explicitly") and
 * participles after the noun ("theory compactified"). At the start they are
 * modifiers and stay ("doubly charmed baryons").
 */
function isBadEnding(word: string): boolean {
  const lower = word.toLowerCase();
  if (lower.length > 4 && lower.endsWith('ly') && !LY_NOUNS.has(lower)) return true;
  return lower.length > 5 && lower.endsWith('ed');
}

/** The run without trailing adverbs and participles. */
function trimRun(run: string[]): string[] {
  let end = run.length;
  while (end > 0 && isBadEnding(run[end - 1] ?? '')) end -= 1;
  return run.slice(0, end);
}

const BREAK_RE = /[.,;:!?()[\]{}"“”‘’/\\=<>+*|…–—]|\s-\s|\$/;
const WORD_RE = /^\p{L}[\p{L}\p{N}]*(?:['’-][\p{L}\p{N}]+)*$/u;
const EDGE_RE = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;

interface Candidate {
  words: string[];
  stems: string[];
  inTitle: boolean;
  /** Position of its first occurrence, for deterministic ties. */
  at: number;
}

/** Lower-cases ordinary words and keeps acronyms and names with inner capitals ("LSTM", "GANs", "SciFact"). */
function surface(word: string): string {
  return /^.+\p{Lu}/u.test(word) ? word : word.toLowerCase();
}

/** The runs of content words in a text, split at punctuation, stop words, math and non-words. */
function runs(text: string): string[][] {
  const out: string[][] = [];
  // Math is never a keyphrase ("ξcc"); it separates the words around it.
  const plain = texToPlain(withoutMath(text, ' ; '));
  const flush = (run: string[]): void => {
    const trimmed = trimRun(run);
    if (trimmed.length > 0) out.push(trimmed);
  };
  for (const fragment of plain.split(BREAK_RE)) {
    let run: string[] = [];
    for (const raw of fragment.split(/\s+/)) {
      const word = raw.replace(EDGE_RE, '');
      if (word.length < 2 || !WORD_RE.test(word) || isBreaker(word)) {
        flush(run);
        run = [];
        continue;
      }
      run.push(word);
    }
    flush(run);
  }
  return out;
}

/**
 * Up to `max` keyphrases of a title and abstract (TeX source or plain text),
 * best first. Phrases that differ only in inflection ("neural network",
 * "neural networks") count as one; a phrase contained in a better one
 * ("network" after "neural network"), or containing one, is left out. A
 * single word said once, outside the title, only fills up a short list.
 */
export function keyphrases(title: string, abstract: string, max = MAX_KEYPHRASES): string[] {
  const titleRuns = runs(title);
  const all = [...titleRuns, ...runs(abstract)];
  const freq = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const run of all) {
    for (const w of run) {
      const s = stem(w);
      freq.set(s, (freq.get(s) ?? 0) + 1);
      degree.set(s, (degree.get(s) ?? 0) + Math.min(run.length, MAX_PHRASE_WORDS));
    }
  }

  const byKey = new Map<string, Candidate & { count: number }>();
  all.forEach((run, index) => {
    if (run.length > MAX_PHRASE_WORDS) return;
    if (run.length === 1 && (run[0] ?? '').length < 3) return;
    const stems = run.map(stem);
    const key = stems.join(' ');
    const seen = byKey.get(key);
    if (seen) seen.count += 1;
    else byKey.set(key, { words: run, stems, inTitle: index < titleRuns.length, at: index, count: 1 });
  });

  const scored = [...byKey.values()].map((c) => {
    const wordScore = c.stems.reduce((sum, s) => sum + (degree.get(s) ?? 0) / (freq.get(s) ?? 1), 0);
    // A phrase repeated in the abstract is more likely a topic than one said once.
    const score = wordScore * (1 + Math.log(c.count)) * (c.inTitle ? TITLE_BONUS : 1);
    const weak = c.words.length === 1 && c.count === 1 && !c.inTitle;
    return { c, score, weak };
  });
  scored.sort((a, b) => Number(a.weak) - Number(b.weak) || b.score - a.score || a.c.at - b.c.at);

  const chosen: Candidate[] = [];
  for (const { c } of scored) {
    if (chosen.length >= max) break;
    const covered = chosen.some((k) => c.stems.every((s) => k.stems.includes(s)) || k.stems.every((s) => c.stems.includes(s)));
    if (!covered) chosen.push(c);
  }
  return chosen.map((c) => c.words.map(surface).join(' '));
}
