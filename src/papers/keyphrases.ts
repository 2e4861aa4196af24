/**
 * Keyphrases of a paper, RAKE-style (Rose et al., 2010): candidate phrases are
 * the runs of content words between stop words and punctuation; each word
 * scores degree / frequency, a phrase the sum of its words. Pure and
 * deterministic, like the summariser it is shown with.
 */
import { isStopWord, stem } from './summary.js';

/** The most keyphrases returned. */
export const MAX_KEYPHRASES = 8;
// Longer runs are clauses ("sparse linear system solver performance analysis"), not keyphrases.
const MAX_PHRASE_WORDS = 4;
// Words of the title are the author's own choice of keywords.
const TITLE_BONUS = 1.5;

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

/** The runs of content words in a text, split at punctuation, stop words and non-words. */
function runs(text: string): string[][] {
  const out: string[][] = [];
  for (const fragment of text.split(BREAK_RE)) {
    let run: string[] = [];
    for (const raw of fragment.split(/\s+/)) {
      const word = raw.replace(EDGE_RE, '');
      if (word.length < 2 || !WORD_RE.test(word) || isStopWord(word)) {
        if (run.length > 0) out.push(run);
        run = [];
        continue;
      }
      run.push(word);
    }
    if (run.length > 0) out.push(run);
  }
  return out;
}

/**
 * Up to `max` keyphrases of a title and abstract (plain text, TeX stripped),
 * best first. Phrases that differ only in inflection ("neural network",
 * "neural networks") count as one; a phrase whose words all appear in a
 * better one ("network" after "neural network") is left out.
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
    return { c, score };
  });
  scored.sort((a, b) => b.score - a.score || a.c.at - b.c.at);

  const chosen: Candidate[] = [];
  for (const { c } of scored) {
    if (chosen.length >= max) break;
    const covered = chosen.some((k) => c.stems.every((s) => k.stems.includes(s)));
    if (!covered) chosen.push(c);
  }
  return chosen.map((c) => c.words.map(surface).join(' '));
}
