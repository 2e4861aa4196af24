import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bertPreTokenize, wordPieceTokenizer } from './wordpiece.js';

const TOKENS = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'graph', 'network', '##s', 'un',
  '##believ', '##able', '##ably', 'cafe', '.', ',', '!', 'resume', 'play', '##ing',
  '中', '文', '(', ')', '-', "'", '$', 'data', '##set', 's',
];
const VOCAB = Object.fromEntries(TOKENS.map((t, i) => [t, i]));
const [CLS, SEP] = [2, 3];

function tokenizerJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((content) => ({ id: VOCAB[content], content, special: true, normalized: false })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [CLS], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [SEP], tokens: ['[SEP]'] } },
    },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: VOCAB },
    ...overrides,
  };
}

const tok = (overrides: Record<string, unknown> = {}, options: { maxLength?: number; doLowerCase?: boolean } = {}) =>
  wordPieceTokenizer(tokenizerJson(overrides), { file: '/m/tokenizer.json', ...options });

const ids = (text: string, t = tok()): number[] => t.encode(text).ids;

test('words map to ids between [CLS] and [SEP], with ## continuations', () => {
  assert.deepEqual(ids('The graph networks.'), [CLS, 5, 6, 7, 8, 14, SEP]);
  assert.deepEqual(tok().tokenize('unbelievably unbelievable playing datasets'), [
    'un', '##believ', '##ably', 'un', '##believ', '##able', 'play', '##ing', 'data', '##set', '##s',
  ]);
  assert.deepEqual(tok().encode('graph').typeIds, [0, 0, 0]);
});

test('a word with any piece missing from the vocabulary is one [UNK]', () => {
  assert.deepEqual(tok().tokenize('zebra playz graph'), ['[UNK]', '[UNK]', 'graph']);
  assert.deepEqual(ids('x'.repeat(101)), [CLS, 1, SEP]);
});

test('accents are stripped and text lowercased, as uncased BERT does', () => {
  assert.deepEqual(tok().tokenize('Café RÉSUMÉ'), ['cafe', 'resume']);
  // do_lower_case=false (tokenizer_config.json) keeps case and, with strip_accents unset, accents too.
  assert.deepEqual(tok({}, { doLowerCase: false }).tokenize('Café the'), ['[UNK]', 'the']);
});

test('punctuation splits words, ASCII symbols included', () => {
  assert.deepEqual(tok().tokenize("graph-network's (data)!$"), ['graph', '-', 'network', "'", 's', '(', 'data', ')', '!', '$']);
  assert.deepEqual(bertPreTokenize('a,b  c\u3002d'), ['a', ',', 'b', 'c', '\u3002', 'd']);
});

test('CJK characters become words, controls vanish and odd spaces separate', () => {
  assert.deepEqual(tok().tokenize('中文data'), ['中', '文', 'data']);
  assert.deepEqual(tok().tokenize('graph\u00a0network\u0000s\u200b\tthe'), ['graph', 'network', '##s', 'the']);
});

test('special tokens written in the text keep their ids; other brackets do not', () => {
  assert.deepEqual(ids('the [MASK] graph'), [CLS, 5, 4, 6, SEP]);
  assert.deepEqual(tok().tokenize('[mask]'), ['[UNK]', '[UNK]', '[UNK]']);
});

test('truncation keeps the special tokens and cuts the text at the end', () => {
  const t = tok({}, { maxLength: 5 });
  assert.deepEqual(ids('the graph networks of data', t), [CLS, 5, 6, 7, SEP]);
  assert.equal(t.maxLength, 5);
  // The file's own truncation applies when no length is given; 512 otherwise.
  assert.equal(tok({ truncation: { max_length: 7 } }).maxLength, 7);
  assert.equal(tok().maxLength, 512);
  assert.throws(() => tok({}, { maxLength: 2 }), /no room for text/);
});

test('BertProcessing gives the same ids as the equivalent template, and no post-processor adds none', () => {
  const bert = tok({ post_processor: { type: 'BertProcessing', sep: ['[SEP]', SEP], cls: ['[CLS]', CLS] } });
  assert.deepEqual(ids('the graph', bert), ids('the graph'));
  assert.deepEqual(ids('the graph', tok({ post_processor: null })), [5, 6]);
});

test('the pad id comes from the padding setting, the pad token, or [PAD]', () => {
  assert.equal(tok().padId, 0);
  assert.equal(tok({ padding: { pad_id: 7, pad_token: 'network' } }).padId, 7);
  assert.equal(wordPieceTokenizer(tokenizerJson(), { file: 'f', padToken: 'the' }).padId, 5);
});

test('tokenizers it cannot honour are refused with the file named', () => {
  assert.throws(() => tok({ model: { type: 'BPE', vocab: {}, merges: [] } }), /\/m\/tokenizer\.json: the tokenizer model is BPE; only WordPiece/);
  assert.throws(() => tok({ normalizer: { type: 'Precompiled', precompiled_charsmap: '' } }), /\/m\/tokenizer\.json: normalizer Precompiled is not supported/);
  assert.throws(() => tok({ pre_tokenizer: { type: 'Metaspace' } }), /pre_tokenizer Metaspace is not supported/);
  assert.throws(() => tok({ post_processor: { type: 'RobertaProcessing' } }), /post_processor RobertaProcessing is not supported/);
  assert.throws(() => tok({ model: { type: 'WordPiece', vocab: { a: 'x' } } }), /\/m\/tokenizer\.json: WordPiece model is malformed/);
  assert.throws(() => tok({ added_tokens: [], model: { type: 'WordPiece', vocab: { a: 0 } } }), /unknown token \[UNK\] is not in the vocabulary/);
  assert.throws(() => wordPieceTokenizer([1, 2], { file: 'x.json' }), /x\.json: tokenizer\.json is malformed/);
});

test('a Sequence normalizer of simple steps works like BertNormalizer for plain text', () => {
  const seq = tok({ normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] } });
  assert.deepEqual(ids('Café Graph', seq), ids('Café Graph'));
});

test('any text encodes to in-vocabulary ids within the maximum length', () => {
  const t = tok({}, { maxLength: 16 });
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
      const e = t.encode(text);
      assert.ok(e.ids.length >= 2 && e.ids.length <= 16);
      assert.equal(e.ids[0], CLS);
      assert.equal(e.ids.at(-1), SEP);
      assert.equal(e.typeIds.length, e.ids.length);
      for (const id of e.ids) assert.ok(Number.isInteger(id) && id >= 0 && id < TOKENS.length);
    }),
  );
});
