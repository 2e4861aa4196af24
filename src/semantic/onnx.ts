/**
 * EMBEDDER=onnx:<dir>: a sentence-embedding model exported to ONNX the way
 * Hugging Face sentence-transformers models are (for example
 * all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2), run with
 * onnxruntime-node. Nothing is downloaded: the operator supplies the
 * directory, and every file read is named in the error when it is missing or
 * malformed.
 *
 * Files read from the directory:
 * - `model.onnx` (or `onnx/model.onnx`): inputs input_ids, attention_mask and,
 *   when declared, token_type_ids; output `sentence_embedding` (already
 *   pooled) or the token embeddings (`last_hidden_state`, `token_embeddings`,
 *   else the first 3-D output), pooled here.
 * - `tokenizer.json`: a WordPiece tokenizer (wordpiece.ts).
 * - optional `tokenizer_config.json` (model_max_length, do_lower_case),
 *   `special_tokens_map.json` (pad token), `sentence_bert_config.json`
 *   (max_seq_length), `config.json` (max_position_embeddings), `modules.json`
 *   and the Pooling module's `config.json` (default `1_Pooling/`; without one,
 *   mean pooling), `config_sentence_transformers.json` (prompts "query" and
 *   "document"/"passage").
 * - optional `paperboy.json`: {"queryPrefix": "query: ", "documentPrefix":
 *   "passage: "} for models that want their inputs marked (E5, BGE queries),
 *   and {"model": "onnx/model_quantized.onnx"} to pick another ONNX file.
 *
 * Vectors are always L2-normalised (the Embedder contract), so a Normalize
 * module changes nothing; other modules after pooling (Dense) are not in the
 * ONNX token-embedding graph and are refused unless the model outputs
 * `sentence_embedding`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { normalize, type EmbedKind, type Embedder } from './embedder.js';
import { wordPieceTokenizer, type Encoding, type WordPieceTokenizer } from './wordpiece.js';

/** The pooling modes sentence-transformers knows, in the order it concatenates them when several are on. */
export type PoolingMode = 'cls' | 'max' | 'mean' | 'mean_sqrt_len' | 'weightedmean' | 'lasttoken';

/** How the token embeddings become one vector, read from the model directory. */
export interface OnnxSettings {
  pooling: PoolingMode[];
  /** False when the prompt's tokens are left out of the pooling (include_prompt: false). */
  includePrompt: boolean;
  queryPrefix: string;
  documentPrefix: string;
  maxLength: number;
  /** sentence-transformers' own do_lower_case: the whole input, prompt included, is lowercased before tokenizing. */
  lowercaseInput: boolean;
}

const DEFAULT_MAX_LENGTH = 512;
// tokenizer_config.json says "no limit" with a huge sentinel (1e30) rather than leaving the key out.
const UNSET_MAX_LENGTH = 1_000_000;

class OnnxModelError extends Error {}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OnnxModelError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new OnnxModelError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function readOptionalJson<T>(file: string, schema: z.ZodType<T>): T | null {
  if (!existsSync(file)) return null;
  const result = schema.safeParse(readJson(file));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new OnnxModelError(`${file} is malformed${issue ? ` (${issue.path.join('.') || 'value'}: ${issue.message})` : ''}`);
  }
  return result.data;
}

const paperboySchema = z.object({
  queryPrefix: z.string().optional(),
  documentPrefix: z.string().optional(),
  model: z.string().min(1).optional(),
});
const poolingSchema = z.object({
  pooling_mode_cls_token: z.boolean().optional(),
  pooling_mode_mean_tokens: z.boolean().optional(),
  pooling_mode_max_tokens: z.boolean().optional(),
  pooling_mode_mean_sqrt_len_tokens: z.boolean().optional(),
  pooling_mode_weightedmean_tokens: z.boolean().optional(),
  pooling_mode_lasttoken: z.boolean().optional(),
  include_prompt: z.boolean().optional(),
});
const modulesSchema = z.array(z.object({ path: z.string(), type: z.string() }));
const tokenizerConfigSchema = z.object({
  model_max_length: z.number().optional(),
  do_lower_case: z.boolean().optional(),
  pad_token: z.union([z.string(), z.object({ content: z.string() })]).optional(),
});
const specialTokensSchema = z.object({ pad_token: z.union([z.string(), z.object({ content: z.string() })]).optional() });
const sentenceBertSchema = z.object({ max_seq_length: z.number().int().positive().optional(), do_lower_case: z.boolean().optional() });
const configSchema = z.object({ max_position_embeddings: z.number().int().positive().optional() });
const promptsSchema = z.object({ prompts: z.record(z.string(), z.string()).optional() });

const tokenContent = (t: string | { content: string } | undefined): string | undefined => (typeof t === 'object' ? t.content : t);

function poolingModes(p: z.infer<typeof poolingSchema>, file: string): PoolingMode[] {
  const modes: PoolingMode[] = [];
  if (p.pooling_mode_cls_token) modes.push('cls');
  if (p.pooling_mode_max_tokens) modes.push('max');
  if (p.pooling_mode_mean_tokens) modes.push('mean');
  if (p.pooling_mode_mean_sqrt_len_tokens) modes.push('mean_sqrt_len');
  if (p.pooling_mode_weightedmean_tokens) modes.push('weightedmean');
  if (p.pooling_mode_lasttoken) modes.push('lasttoken');
  if (modes.length === 0) throw new OnnxModelError(`${file} turns on no pooling mode`);
  return modes;
}

const MODULE_TYPES = new Set(['Transformer', 'Pooling', 'Normalize']);

interface ModelFiles {
  model: string;
  tokenizer: string;
}

function locateFiles(dir: string, modelOverride: string | undefined): ModelFiles {
  const candidates = modelOverride !== undefined ? [join(dir, modelOverride)] : [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')];
  const model = candidates.find((f) => existsSync(f));
  if (model === undefined) throw new OnnxModelError(`no ONNX model in ${dir}: expected ${candidates.join(' or ')}`);
  const tokenizerCandidates = [join(dir, 'tokenizer.json'), join(dirname(model), 'tokenizer.json')];
  const tokenizer = tokenizerCandidates.find((f) => existsSync(f));
  if (tokenizer === undefined) throw new OnnxModelError(`no tokenizer in ${dir}: expected ${join(dir, 'tokenizer.json')}`);
  return { model, tokenizer };
}

/** Reads the directory's settings and tokenizer; throws an Error naming the file at fault. Exported for tests. */
export function loadOnnxDirectory(dir: string): { files: ModelFiles; settings: OnnxSettings; tokenizer: WordPieceTokenizer; sentenceEmbeddingRequired: string | null } {
  if (!existsSync(dir)) throw new OnnxModelError(`the ONNX model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new OnnxModelError(`${dir} is not a directory (EMBEDDER=onnx: wants a model directory)`);
  const paperboy = readOptionalJson(join(dir, 'paperboy.json'), paperboySchema) ?? {};
  const files = locateFiles(dir, paperboy.model);

  const modules = readOptionalJson(join(dir, 'modules.json'), modulesSchema);
  let poolingDir = join(dir, '1_Pooling');
  let sentenceEmbeddingRequired: string | null = null;
  for (const m of modules ?? []) {
    const kind = m.type.split('.').pop() ?? m.type;
    if (kind === 'Pooling') poolingDir = join(dir, m.path);
    else if (!MODULE_TYPES.has(kind)) sentenceEmbeddingRequired ??= `${join(dir, 'modules.json')} lists ${m.type} (${m.path})`;
  }
  const poolingFile = join(poolingDir, 'config.json');
  const pooling = readOptionalJson(poolingFile, poolingSchema);

  const tokenizerConfig = readOptionalJson(join(dir, 'tokenizer_config.json'), tokenizerConfigSchema);
  const specialTokens = readOptionalJson(join(dir, 'special_tokens_map.json'), specialTokensSchema);
  const sentenceBert = readOptionalJson(join(dir, 'sentence_bert_config.json'), sentenceBertSchema);
  const modelConfig = readOptionalJson(join(dir, 'config.json'), configSchema);
  const prompts = readOptionalJson(join(dir, 'config_sentence_transformers.json'), promptsSchema)?.prompts ?? {};
  const tokenizerJson = readJson(files.tokenizer);

  // sentence-transformers truncates at max_seq_length, which is often below what the tokenizer allows.
  const tokenizerMax = tokenizerConfig?.model_max_length;
  let maxLength =
    sentenceBert?.max_seq_length ??
    (tokenizerJson !== null && typeof tokenizerJson === 'object' && 'truncation' in tokenizerJson
      ? z.object({ max_length: z.number().int().positive() }).safeParse(tokenizerJson.truncation).data?.max_length
      : undefined) ??
    (tokenizerMax !== undefined && tokenizerMax < UNSET_MAX_LENGTH ? Math.floor(tokenizerMax) : undefined) ??
    DEFAULT_MAX_LENGTH;
  if (modelConfig?.max_position_embeddings !== undefined) maxLength = Math.min(maxLength, modelConfig.max_position_embeddings);

  const tokenizer = wordPieceTokenizer(tokenizerJson, {
    file: files.tokenizer,
    maxLength,
    doLowerCase: tokenizerConfig?.do_lower_case,
    padToken: tokenContent(specialTokens?.pad_token) ?? tokenContent(tokenizerConfig?.pad_token),
  });
  const settings: OnnxSettings = {
    pooling: pooling === null ? ['mean'] : poolingModes(pooling, poolingFile),
    includePrompt: pooling?.include_prompt ?? true,
    queryPrefix: paperboy.queryPrefix ?? prompts.query ?? '',
    documentPrefix: paperboy.documentPrefix ?? prompts.document ?? prompts.passage ?? '',
    maxLength: tokenizer.maxLength,
    lowercaseInput: sentenceBert?.do_lower_case === true,
  };
  return { files, settings, tokenizer, sentenceEmbeddingRequired };
}

async function hashFiles(paths: readonly string[], extra: string): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  }
  hash.update(extra);
  return hash.digest('hex').slice(0, 16);
}

/** Where the vectors come from in the model's outputs. */
interface OutputChoice {
  name: string;
  pooled: boolean;
  /** The vector length the metadata promises, or null when it is symbolic. */
  width: number | null;
}

function chooseOutput(session: ort.InferenceSession): OutputChoice {
  const meta = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const shapeOf = (name: string): readonly (number | string)[] | null => {
    const m = meta.get(name);
    return m !== undefined && m.isTensor && m.shape.length > 0 ? m.shape : null;
  };
  const widthOf = (shape: readonly (number | string)[] | null): number | null => {
    const last = shape?.[shape.length - 1];
    return typeof last === 'number' && last > 0 ? last : null;
  };
  if (session.outputNames.includes('sentence_embedding') && (shapeOf('sentence_embedding')?.length ?? 2) === 2) {
    return { name: 'sentence_embedding', pooled: true, width: widthOf(shapeOf('sentence_embedding')) };
  }
  const tokenOutput =
    ['last_hidden_state', 'token_embeddings'].find((n) => session.outputNames.includes(n)) ??
    session.outputNames.find((n) => shapeOf(n)?.length === 3) ??
    session.outputNames[0];
  if (tokenOutput === undefined) throw new OnnxModelError('the ONNX model has no outputs');
  return { name: tokenOutput, pooled: false, width: widthOf(shapeOf(tokenOutput)) };
}

function float32(tensor: ort.Tensor, output: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    // Half-precision exports: widen once here rather than teach the pooling about halves.
    const half = tensor.data as Uint16Array;
    const out = new Float32Array(half.length);
    for (let i = 0; i < half.length; i++) out[i] = halfToFloat(half[i] ?? 0);
    return out;
  }
  throw new OnnxModelError(`the ONNX model's output ${output} is ${tensor.type}, not float32 or float16`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Pools row `b` of token embeddings [batch, seq, hidden] over the tokens its mask keeps,
 * exactly as sentence-transformers' Pooling module does; several modes are concatenated.
 */
export function poolTokens(hidden: Float32Array, seq: number, width: number, b: number, mask: ArrayLike<number>, modes: readonly PoolingMode[]): Float32Array {
  const out = new Float32Array(width * modes.length);
  const base = b * seq * width;
  let count = 0;
  let weightTotal = 0;
  let lastKept = 0;
  const sum = new Float32Array(width);
  const weighted = new Float32Array(width);
  const max = new Float32Array(width).fill(Number.NEGATIVE_INFINITY);
  for (let t = 0; t < seq; t++) {
    if (!mask[t]) continue;
    count++;
    lastKept = t;
    // weightedmean weighs the t-th position by t+1, as sentence-transformers does.
    weightTotal += t + 1;
    const row = base + t * width;
    for (let i = 0; i < width; i++) {
      const x = hidden[row + i] ?? 0;
      sum[i] = (sum[i] ?? 0) + x;
      weighted[i] = (weighted[i] ?? 0) + (t + 1) * x;
      if (x > (max[i] ?? 0)) max[i] = x;
    }
  }
  const n = Math.max(count, 1e-9);
  modes.forEach((mode, m) => {
    const offset = m * width;
    for (let i = 0; i < width; i++) {
      let v: number;
      switch (mode) {
        case 'cls':
          v = hidden[base + i] ?? 0;
          break;
        case 'max':
          v = count > 0 ? (max[i] ?? 0) : 0;
          break;
        case 'mean':
          v = (sum[i] ?? 0) / n;
          break;
        case 'mean_sqrt_len':
          v = (sum[i] ?? 0) / Math.sqrt(n);
          break;
        case 'weightedmean':
          v = (weighted[i] ?? 0) / Math.max(weightTotal, 1e-9);
          break;
        case 'lasttoken':
          v = hidden[base + lastKept * width + i] ?? 0;
          break;
      }
      out[offset + i] = v;
    }
  });
  return out;
}

/** Loads the model directory and gives an Embedder; rejects with an Error naming the file at fault. */
export async function onnxEmbedder(config: { dir: string; batchSize: number }): Promise<Embedder> {
  const { files, settings, tokenizer, sentenceEmbeddingRequired } = loadOnnxDirectory(config.dir);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.model, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  } catch (err) {
    throw new OnnxModelError(`cannot load the ONNX model ${files.model}: ${(err as Error).message}`);
  }
  const inputTypes = new Map(session.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : null]));
  for (const required of ['input_ids', 'attention_mask']) {
    if (!session.inputNames.includes(required)) {
      throw new OnnxModelError(`the ONNX model ${files.model} has no ${required} input (it has ${session.inputNames.join(', ')})`);
    }
  }
  for (const name of session.inputNames) {
    if (name !== 'input_ids' && name !== 'attention_mask' && name !== 'token_type_ids') {
      throw new OnnxModelError(`the ONNX model ${files.model} wants an input ${name} that a sentence-embedding model does not have`);
    }
  }
  const output = chooseOutput(session);
  if (!output.pooled && sentenceEmbeddingRequired !== null) {
    throw new OnnxModelError(`${sentenceEmbeddingRequired}, which ${files.model} does not contain: export the model with its sentence_embedding output`);
  }
  const batchSize = Math.max(1, config.batchSize);

  const prompts: Record<EmbedKind, { prefix: string; tokens: number }> = {
    query: promptOf(settings.queryPrefix),
    document: promptOf(settings.documentPrefix),
  };
  function promptOf(prefix: string): { prefix: string; tokens: number } {
    // Like sentence-transformers: the prompt's tokens, [CLS] included, leave the pooling when include_prompt is false.
    if (prefix === '' || settings.includePrompt) return { prefix, tokens: 0 };
    return { prefix, tokens: tokenizer.encode(prefix).ids.length - 1 };
  }

  const tensorOf = (name: string, values: number[], batch: number, seq: number): ort.Tensor =>
    inputTypes.get(name) === 'int32'
      ? new ort.Tensor('int32', Int32Array.from(values), [batch, seq])
      : new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), [batch, seq]);

  async function runBatch(encodings: readonly Encoding[], promptTokens: number): Promise<Float32Array[]> {
    const seq = Math.max(...encodings.map((e) => e.ids.length));
    const batch = encodings.length;
    const ids: number[] = [];
    const mask: number[] = [];
    const types: number[] = [];
    for (const e of encodings) {
      for (let t = 0; t < seq; t++) {
        const real = t < e.ids.length;
        ids.push(real ? (e.ids[t] ?? tokenizer.padId) : tokenizer.padId);
        mask.push(real ? 1 : 0);
        types.push(real ? (e.typeIds[t] ?? 0) : 0);
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: tensorOf('input_ids', ids, batch, seq),
      attention_mask: tensorOf('attention_mask', mask, batch, seq),
    };
    if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = tensorOf('token_type_ids', types, batch, seq);
    const results = await session.run(feeds, [output.name]);
    const tensor = results[output.name];
    if (tensor === undefined) throw new OnnxModelError(`the ONNX model gave no ${output.name} output`);
    const data = float32(tensor, output.name);
    const dims = tensor.dims;
    const vectors: Float32Array[] = [];
    if (dims.length === 2 && dims[0] === batch) {
      const width = dims[1] ?? 0;
      for (let b = 0; b < batch; b++) vectors.push(data.slice(b * width, (b + 1) * width));
    } else if (dims.length === 3 && dims[0] === batch && dims[1] === seq) {
      const width = dims[2] ?? 0;
      for (let b = 0; b < batch; b++) {
        const rowMask = mask.slice(b * seq, (b + 1) * seq);
        for (let t = 0; t < Math.min(promptTokens, seq); t++) rowMask[t] = 0;
        vectors.push(poolTokens(data, seq, width, b, rowMask, settings.pooling));
      }
    } else {
      throw new OnnxModelError(`the ONNX model's output ${output.name} has shape [${dims.join(', ')}], expected [${batch}, ${seq}, hidden] or [${batch}, dimensions]`);
    }
    for (const v of vectors) {
      for (const x of v) if (!Number.isFinite(x)) throw new OnnxModelError(`the ONNX model's output ${output.name} is not finite`);
      normalize(v);
    }
    return vectors;
  }

  async function embed(texts: readonly string[], kind: EmbedKind, signal?: AbortSignal): Promise<Float32Array[]> {
    const prompt = prompts[kind];
    const encodings = texts.map((t) => tokenizer.encode(settings.lowercaseInput ? (prompt.prefix + t).toLowerCase() : prompt.prefix + t));
    // Batches of similar lengths waste less work on padding; results go back in input order.
    const order = encodings.map((_, i) => i).sort((a, b) => (encodings[a]?.ids.length ?? 0) - (encodings[b]?.ids.length ?? 0));
    const out = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += batchSize) {
      signal?.throwIfAborted();
      const slice = order.slice(start, start + batchSize);
      const vectors = await runBatch(
        slice.map((i) => encodings[i]!),
        prompt.tokens,
      );
      slice.forEach((i, k) => (out[i] = vectors[k]!));
    }
    return out;
  }

  let dimensions = output.width === null ? null : output.pooled ? output.width : output.width * settings.pooling.length;
  if (dimensions === null) dimensions = (await embed(['dimensions probe'], 'document'))[0]?.length ?? 0;
  if (dimensions <= 0) throw new OnnxModelError(`the ONNX model ${files.model} gives empty vectors`);
  const dims = dimensions;

  const externalData = [`${files.model}_data`, `${files.model}.data`].filter((f) => existsSync(f));
  // The settings change the vectors as much as the weights do, so they are part of what identifies the model.
  const fingerprint = `onnx:${await hashFiles([files.model, ...externalData, files.tokenizer], JSON.stringify({ ...settings, output: output.name }))}`;

  return {
    name: `onnx:${config.dir}`,
    fingerprint,
    dimensions: dims,
    async embed(texts, kind, signal) {
      const vectors = await embed(texts, kind, signal);
      for (const v of vectors) {
        if (v.length !== dims) throw new OnnxModelError(`the ONNX model gave a vector of ${v.length} numbers, expected ${dims}`);
      }
      return vectors;
    },
  };
}
