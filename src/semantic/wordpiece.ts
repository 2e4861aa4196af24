/**
 * A WordPiece tokenizer read from a Hugging Face `tokenizer.json`, as BERT,
 * MiniLM, BGE and E5 ship it, so the ONNX embedder (onnx.ts) needs no Python
 * and no network. It reproduces the `tokenizers` library's BertNormalizer,
 * BertPreTokenizer, WordPiece model and BERT post-processing; anything else in
 * the file is refused with an error naming it rather than tokenized subtly
 * wrong, because wrong ids still give vectors, just meaningless ones.
 */
import { z } from 'zod';

/** One tokenized text: ids with the special tokens, and their token type ids. Attention covers all of it. */
export interface Encoding {
  ids: number[];
  typeIds: number[];
}

export interface WordPieceTokenizer {
  /** Most tokens per text, special tokens included; longer texts are cut at the end. */
  readonly maxLength: number;
  readonly padId: number;
  /** The text's ids, truncated to maxLength. */
  encode(text: string): Encoding;
  /** The text's tokens (strings) without special tokens or truncation; for tests and debugging. */
  tokenize(text: string): string[];
}

export interface TokenizerOptions {
  /** The file the JSON came from, named in every error. */
  file: string;
  /** Most tokens per text; the tokenizer's own truncation setting, else 512. */
  maxLength?: number;
  /** `do_lower_case` from tokenizer_config.json: overrides the normalizer's lowercase (and accent stripping), as transformers does. */
  doLowerCase?: boolean;
  /** `pad_token` from special_tokens_map.json, when tokenizer.json has no padding setting. */
  padToken?: string;
}

const DEFAULT_MAX_LENGTH = 512;

const addedTokenSchema = z.object({ id: z.number().int().nonnegative(), content: z.string().min(1), special: z.boolean().optional() });

const tokenizerFileSchema = z.object({
  truncation: z.object({ max_length: z.number().int().positive() }).passthrough().nullable().optional(),
  padding: z.object({ pad_id: z.number().int().nonnegative().optional(), pad_token: z.string().optional() }).passthrough().nullable().optional(),
  added_tokens: z.array(addedTokenSchema).optional(),
  normalizer: z.unknown().optional(),
  pre_tokenizer: z.unknown().optional(),
  post_processor: z.unknown().optional(),
  model: z.object({ type: z.string().optional() }).passthrough(),
});

const wordPieceSchema = z.object({
  type: z.literal('WordPiece').optional(),
  unk_token: z.string().default('[UNK]'),
  continuing_subword_prefix: z.string().default('##'),
  max_input_chars_per_word: z.number().int().positive().default(100),
  vocab: z.record(z.string(), z.number().int().nonnegative()),
});

const typed = z.object({ type: z.string() }).passthrough();

const bertNormalizerSchema = z.object({
  clean_text: z.boolean().default(true),
  handle_chinese_chars: z.boolean().default(true),
  // null: strip accents exactly when lowercasing, as BERT's uncased models do.
  strip_accents: z.boolean().nullable().default(null),
  lowercase: z.boolean().default(true),
});

const templateProcessingSchema = z.object({
  single: z.array(
    z.union([
      z.object({ SpecialToken: z.object({ id: z.string(), type_id: z.number().int().nonnegative().default(0) }) }),
      z.object({ Sequence: z.object({ id: z.string(), type_id: z.number().int().nonnegative().default(0) }) }),
    ]),
  ),
  special_tokens: z.record(z.string(), z.object({ ids: z.array(z.number().int().nonnegative()) })).default({}),
});

const bertProcessingSchema = z.object({
  sep: z.tuple([z.string(), z.number().int().nonnegative()]),
  cls: z.tuple([z.string(), z.number().int().nonnegative()]),
});

class TokenizerError extends Error {}

function fail(file: string, message: string): never {
  throw new TokenizerError(`${file}: ${message}`);
}

function parse<T>(file: string, what: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(file, `${what} is malformed${issue ? ` (${issue.path.join('.') || 'value'}: ${issue.message})` : ''}`);
  }
  return result.data;
}

// Control characters are removed and every other Unicode space becomes ' ', as BertNormalizer's clean_text does;
// tab, newline and carriage return count as spaces, not controls.
const CONTROL = /[\p{C}]/u;
const WHITESPACE = /[\t\n\r\p{White_Space}]/u;
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;
const PUNCTUATION = /\p{P}/u;
const NONSPACING_MARKS = /\p{Mn}/gu;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

// Printable ASCII needs no cleaning, and most of a paper is printable ASCII.
const PLAIN_ASCII = /^[\t\n\r\x20-\x7e]*$/;

function cleanText(text: string): string {
  if (PLAIN_ASCII.test(text)) return text.replace(/[\t\n\r]/g, ' ');
  let out = '';
  for (const c of text) {
    if (c === '\0' || c === '\ufffd') continue;
    if (c === '\t' || c === '\n' || c === '\r') out += ' ';
    else if (CONTROL.test(c)) continue;
    else out += WHITESPACE.test(c) ? ' ' : c;
  }
  return out;
}

function spaceCjk(text: string): string {
  if (PLAIN_ASCII.test(text)) return text;
  let out = '';
  for (const c of text) out += isCjk(c.codePointAt(0) ?? 0) ? ` ${c} ` : c;
  return out;
}

function stripAccents(text: string): string {
  return text.normalize('NFD').replace(NONSPACING_MARKS, '');
}

// `tokenizers` lowercases character by character, so a final capital sigma becomes σ, not the ς JS would choose.
function lowercase(text: string): string {
  if (!text.includes('Σ')) return text.toLowerCase();
  let out = '';
  for (const c of text) out += c.toLowerCase();
  return out;
}

type Normalize = (text: string) => string;

function buildNormalizer(file: string, spec: unknown, doLowerCase: boolean | undefined): Normalize {
  if (spec === null || spec === undefined) return (s) => s;
  const { type } = parse(file, 'normalizer', typed, spec);
  switch (type) {
    case 'BertNormalizer': {
      const n = parse(file, 'BertNormalizer', bertNormalizerSchema, spec);
      const lower = doLowerCase ?? n.lowercase;
      // An explicit do_lower_case also decides accents unless the normalizer pins them, as BertTokenizerFast does.
      const strip = n.strip_accents ?? lower;
      return (s) => {
        if (n.clean_text) s = cleanText(s);
        if (n.handle_chinese_chars) s = spaceCjk(s);
        if (strip) s = stripAccents(s);
        if (lower) s = lowercase(s);
        return s;
      };
    }
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      return (s) => s.replace(NONSPACING_MARKS, '');
    case 'NFD':
    case 'NFKD':
    case 'NFC':
    case 'NFKC':
      return (s) => s.normalize(type);
    case 'Strip': {
      const n = parse(file, 'Strip', z.object({ strip_left: z.boolean().default(true), strip_right: z.boolean().default(true) }), spec);
      return (s) => (n.strip_left && n.strip_right ? s.trim() : n.strip_left ? s.trimStart() : n.strip_right ? s.trimEnd() : s);
    }
    case 'Sequence': {
      const { normalizers } = parse(file, 'Sequence normalizer', z.object({ normalizers: z.array(z.unknown()) }), spec);
      const steps = normalizers.map((n) => buildNormalizer(file, n, doLowerCase));
      return (s) => steps.reduce((acc, step) => step(acc), s);
    }
    default:
      return fail(file, `normalizer ${type} is not supported (supported: BertNormalizer, Lowercase, StripAccents, NFD, NFKD, NFC, NFKC, Strip, Sequence)`);
  }
}

type PreTokenize = (text: string) => string[];

/** BertPreTokenizer: split on whitespace, and make each punctuation character a word of its own. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let word = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code > 0x20 && code < 0x7f && !ASCII_PUNCTUATION.test(c)) {
      word += c;
    } else if (WHITESPACE.test(c)) {
      if (word) words.push(word);
      word = '';
    } else if (ASCII_PUNCTUATION.test(c) || PUNCTUATION.test(c)) {
      if (word) words.push(word);
      words.push(c);
      word = '';
    } else {
      word += c;
    }
  }
  if (word) words.push(word);
  return words;
}

function buildPreTokenizer(file: string, spec: unknown): PreTokenize {
  // WordPiece without a pre-tokenizer would see the whole text as one word: BERT's splitting is the only sane default.
  if (spec === null || spec === undefined) return bertPreTokenize;
  const { type } = parse(file, 'pre_tokenizer', typed, spec);
  switch (type) {
    case 'BertPreTokenizer':
      return bertPreTokenize;
    case 'WhitespaceSplit':
      return (s) => s.split(/[\t\n\r\p{White_Space}]+/u).filter((w) => w !== '');
    case 'Whitespace':
      return (s) => s.match(/\w+|[^\w\s]+/gu) ?? [];
    case 'Sequence': {
      const { pretokenizers } = parse(file, 'Sequence pre_tokenizer', z.object({ pretokenizers: z.array(z.unknown()) }), spec);
      const steps = pretokenizers.map((p) => buildPreTokenizer(file, p));
      return (s) => steps.reduce<string[]>((words, step) => words.flatMap(step), [s]);
    }
    default:
      return fail(file, `pre_tokenizer ${type} is not supported (supported: BertPreTokenizer, Whitespace, WhitespaceSplit, Sequence)`);
  }
}

interface Template {
  prefix: number[];
  prefixTypes: number[];
  suffix: number[];
  suffixTypes: number[];
  sequenceType: number;
}

function buildTemplate(file: string, spec: unknown): Template {
  const template: Template = { prefix: [], prefixTypes: [], suffix: [], suffixTypes: [], sequenceType: 0 };
  if (spec === null || spec === undefined) return template;
  const { type } = parse(file, 'post_processor', typed, spec);
  if (type === 'BertProcessing') {
    const p = parse(file, 'BertProcessing', bertProcessingSchema, spec);
    return { prefix: [p.cls[1]], prefixTypes: [0], suffix: [p.sep[1]], suffixTypes: [0], sequenceType: 0 };
  }
  if (type === 'TemplateProcessing') {
    const p = parse(file, 'TemplateProcessing', templateProcessingSchema, spec);
    let seenSequence = false;
    for (const piece of p.single) {
      if ('Sequence' in piece) {
        seenSequence = true;
        template.sequenceType = piece.Sequence.type_id;
        continue;
      }
      const special = p.special_tokens[piece.SpecialToken.id];
      if (special === undefined) fail(file, `post_processor names special token ${piece.SpecialToken.id} but does not define it`);
      const ids = seenSequence ? template.suffix : template.prefix;
      const types = seenSequence ? template.suffixTypes : template.prefixTypes;
      for (const id of special.ids) {
        ids.push(id);
        types.push(piece.SpecialToken.type_id);
      }
    }
    if (!seenSequence) fail(file, 'post_processor template has no sequence');
    return template;
  }
  return fail(file, `post_processor ${type} is not supported (supported: TemplateProcessing, BertProcessing)`);
}

/** Where special tokens written literally in the text are, so they map to their own ids as in `tokenizers`. */
function addedTokenSplitter(tokens: readonly { id: number; content: string }[]): ((text: string) => (string | number)[]) | null {
  if (tokens.length === 0) return null;
  const ids = new Map(tokens.map((t) => [t.content, t.id]));
  const alternatives = [...ids.keys()].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(alternatives.join('|'), 'g');
  return (text) => {
    const parts: (string | number)[] = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > last) parts.push(text.slice(last, match.index));
      parts.push(ids.get(match[0]) ?? 0);
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  };
}

const WORD_CACHE_MAX = 50_000;

/** Builds the tokenizer from a parsed tokenizer.json; throws an Error naming `options.file` on anything it cannot honour. */
export function wordPieceTokenizer(json: unknown, options: TokenizerOptions): WordPieceTokenizer {
  const { file } = options;
  const spec = parse(file, 'tokenizer.json', tokenizerFileSchema, json);
  const modelType = spec.model.type ?? ('vocab' in spec.model && 'continuing_subword_prefix' in spec.model ? 'WordPiece' : 'unknown');
  if (modelType !== 'WordPiece') {
    fail(file, `the tokenizer model is ${modelType}; only WordPiece tokenizers (BERT, MiniLM, BGE, E5 and the like) are supported`);
  }
  const model = parse(file, 'WordPiece model', wordPieceSchema, spec.model);
  const vocab = new Map(Object.entries(model.vocab));
  for (const t of spec.added_tokens ?? []) if (!vocab.has(t.content)) vocab.set(t.content, t.id);
  const unkId = vocab.get(model.unk_token);
  if (unkId === undefined) fail(file, `the unknown token ${model.unk_token} is not in the vocabulary`);

  const normalize = buildNormalizer(file, spec.normalizer, options.doLowerCase);
  const preTokenize = buildPreTokenizer(file, spec.pre_tokenizer);
  const template = buildTemplate(file, spec.post_processor);
  const splitAdded = addedTokenSplitter(spec.added_tokens ?? []);
  const maxLength = options.maxLength ?? spec.truncation?.max_length ?? DEFAULT_MAX_LENGTH;
  const specials = template.prefix.length + template.suffix.length;
  if (maxLength <= specials) fail(file, `a maximum length of ${maxLength} leaves no room for text`);
  const padToken = spec.padding?.pad_token ?? options.padToken ?? '[PAD]';
  const padId = spec.padding?.pad_id ?? vocab.get(padToken) ?? 0;
  const prefix = model.continuing_subword_prefix;
  const cache = new Map<string, number[]>();

  // Greedy longest-match-first; a word with any piece missing from the vocabulary becomes one unknown token.
  function wordIds(word: string): number[] {
    const cached = cache.get(word);
    if (cached !== undefined) return cached;
    const chars = Array.from(word);
    let ids: number[] = [];
    if (chars.length > model.max_input_chars_per_word) ids = [unkId!];
    else {
      let start = 0;
      while (start < chars.length) {
        let end = chars.length;
        let found: number | undefined;
        while (start < end) {
          const piece = chars.slice(start, end).join('');
          found = vocab.get(start > 0 ? prefix + piece : piece);
          if (found !== undefined) break;
          end--;
        }
        if (found === undefined) {
          ids = [unkId!];
          break;
        }
        ids.push(found);
        start = end;
      }
    }
    if (cache.size >= WORD_CACHE_MAX) cache.clear();
    cache.set(word, ids);
    return ids;
  }

  // Stops once `budget` ids are there: the rest would be truncated anyway, and abstracts run long.
  function textIds(text: string, budget: number): number[] {
    const out: number[] = [];
    const parts = splitAdded ? splitAdded(text) : [text];
    for (const part of parts) {
      if (out.length >= budget) break;
      if (typeof part === 'number') {
        out.push(part);
        continue;
      }
      for (const word of preTokenize(normalize(part))) {
        for (const id of wordIds(word)) out.push(id);
        if (out.length >= budget) break;
      }
    }
    if (out.length > budget) out.length = budget;
    return out;
  }

  const idToToken = new Map([...vocab].map(([token, id]) => [id, token]));

  return {
    maxLength,
    padId,
    encode(text) {
      const body = textIds(text, maxLength - specials);
      return {
        ids: [...template.prefix, ...body, ...template.suffix],
        typeIds: [...template.prefixTypes, ...body.map(() => template.sequenceType), ...template.suffixTypes],
      };
    },
    tokenize(text) {
      return textIds(text, Number.POSITIVE_INFINITY).map((id) => idToToken.get(id) ?? model.unk_token);
    },
  };
}
