/**
 * EMBEDDER=openai:<url>: an OpenAI-compatible `/v1/embeddings` server, such as
 * llama.cpp's server, vLLM, text-embeddings-inference, Ollama's /v1 or OpenAI
 * itself. Texts go in batches of EMBEDDER_BATCH_SIZE, each request with its
 * own timeout; network errors, timeouts, 429 and 5xx are retried with
 * exponential backoff and jitter (429 honours Retry-After), other answers fail
 * at once with the server's message. Every response is checked before use: a
 * server that sends the wrong number of vectors must not shift papers onto
 * each other's vectors. The API key goes in the Authorization header and
 * nowhere else: never in an error or a log line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { normalize, type Embedder } from './embedder.js';

export interface OpenAIEmbedderConfig {
  /** The server's base URL (`http://127.0.0.1:8080` or `.../v1`); `/v1/embeddings` is added as needed. */
  url: string;
  /** Sent as `model`; left out when unset (single-model servers ignore it). */
  model?: string | undefined;
  apiKey?: string | undefined;
  batchSize: number;
  /** Per request, retries each get their own. */
  timeoutMs: number;
}

export interface OpenAIEmbedderOptions {
  fetch?: typeof fetch;
  /** Retries after the first attempt of each request (default 4). */
  retries?: number;
  /** The first retry waits about this long, each later one twice as long (default 500 ms). */
  retryBaseMs?: number;
  /** No wait is longer than this, Retry-After included (default 30 s). */
  maxRetryDelayMs?: number;
}

const DEFAULT_RETRIES = 4;
const DEFAULT_RETRY_BASE_MS = 500;
const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
const MAX_ERROR_TEXT = 300;

const responseSchema = z.object({
  data: z.array(
    z.object({
      // Some servers leave index out; then the array order is the input order.
      index: z.number().int().nonnegative().optional(),
      embedding: z.array(z.number()),
    }),
  ),
  model: z.string().optional(),
});

/** The embeddings endpoint for a base URL: `/v1` is not doubled, and a full `/embeddings` URL is kept. */
export function embeddingsEndpoint(url: string): string {
  const base = url.replace(/\/+$/, '');
  if (/\/embeddings$/.test(base)) return base;
  if (/\/v1$/.test(base)) return `${base}/embeddings`;
  return `${base}/v1/embeddings`;
}

/** The URL as it may appear in messages: without any user:password it carries. */
function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Creates the embedder after asking the server for one vector, which tells its dimensions. */
export async function openaiEmbedder(config: OpenAIEmbedderConfig, options: OpenAIEmbedderOptions = {}): Promise<Embedder> {
  const doFetch = options.fetch ?? fetch;
  const retries = Math.max(0, options.retries ?? DEFAULT_RETRIES);
  const retryBase = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const maxDelay = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  const endpoint = embeddingsEndpoint(config.url);
  const shown = displayUrl(endpoint);
  const batchSize = Math.max(1, config.batchSize);
  const redact = (text: string): string => (config.apiKey ? text.split(config.apiKey).join('[redacted]') : text);

  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;

  async function serverMessage(response: Response): Promise<string> {
    const text = await response.text().catch(() => '');
    let message = text;
    try {
      const body = JSON.parse(text) as unknown;
      const parsed = z
        .object({ error: z.union([z.string(), z.object({ message: z.string() }).passthrough()]).optional(), message: z.string().optional(), detail: z.string().optional() })
        .safeParse(body);
      if (parsed.success) {
        const e = parsed.data.error;
        message = (typeof e === 'string' ? e : e?.message) ?? parsed.data.message ?? parsed.data.detail ?? text;
      }
    } catch {
      // Not JSON: the text itself is the message.
    }
    message = redact(message.trim()).slice(0, MAX_ERROR_TEXT);
    return message === '' ? '(no message)' : message;
  }

  /** One request, no retries; RetryableError for what another attempt may fix. */
  async function attempt(input: readonly string[], dimensions: number | null, signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const body: { model?: string; input: readonly string[] } = { input };
    if (config.model !== undefined) body.model = config.model;
    // What a failed fetch or body read means: the caller's abort stays an abort; a timeout or a broken connection is worth another try.
    const failure = (err: unknown): unknown => {
      if (signal?.aborted) return signal.reason;
      if (timeout.aborted) return new RetryableError(`no answer within ${config.timeoutMs} ms`);
      // fetch rejects with a TypeError for refused connections, resets and DNS failures; the cause says which.
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return new RetryableError(redact(`${err instanceof Error ? err.message : String(err)}${cause}`));
    };
    let response: Response;
    try {
      response = await doFetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: combined });
    } catch (err) {
      throw failure(err);
    }
    if (response.status === 429 || response.status >= 500) {
      const wait = response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : null;
      throw new RetryableError(`${response.status} ${response.statusText}: ${await serverMessage(response)}`, wait);
    }
    if (!response.ok) {
      throw new Error(`embedding server ${shown} answered ${response.status} ${response.statusText}: ${await serverMessage(response)}`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw failure(err);
    }
    return parseResponse(text, input.length, dimensions);
  }

  function parseResponse(text: string, expected: number, dimensions: number | null): Float32Array[] {
    const malformed = (why: string): Error => new Error(`embedding server ${shown} sent a malformed response: ${why}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw malformed('not JSON');
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw malformed(issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unexpected shape');
    }
    const { data } = parsed.data;
    if (data.length !== expected) throw malformed(`${data.length} embeddings for ${expected} inputs`);
    const withIndex = data.filter((d) => d.index !== undefined).length;
    if (withIndex !== 0 && withIndex !== data.length) throw malformed('some embeddings have an index and some do not');
    const out = new Array<Float32Array | undefined>(expected).fill(undefined);
    data.forEach((d, position) => {
      const index = d.index ?? position;
      if (index >= expected) throw malformed(`index ${index} out of range for ${expected} inputs`);
      if (out[index] !== undefined) throw malformed(`index ${index} appears twice`);
      const width = dimensions ?? data[0]?.embedding.length ?? 0;
      if (d.embedding.length === 0) throw malformed('an empty embedding');
      if (d.embedding.length !== width) throw malformed(`an embedding of ${d.embedding.length} numbers, expected ${width}`);
      const vector = Float32Array.from(d.embedding);
      // A number JSON allows can still overflow a 32-bit float.
      for (const x of vector) if (!Number.isFinite(x)) throw malformed('a number that is not finite in 32 bits');
      out[index] = normalize(vector);
    });
    return out as Float32Array[];
  }

  async function request(input: readonly string[], dimensions: number | null, signal: AbortSignal | undefined): Promise<Float32Array[]> {
    let lastError: RetryableError | null = null;
    for (let n = 0; n <= retries; n++) {
      if (lastError !== null) {
        // Exponential backoff with jitter (between half and all of the step), so clients that failed together do not retry together.
        const step = retryBase * 2 ** (n - 1);
        const backoff = step / 2 + Math.random() * (step / 2);
        const wait = Math.min(maxDelay, Math.max(backoff, lastError.retryAfterMs ?? 0));
        try {
          await sleep(wait, undefined, signal ? { signal } : undefined);
        } catch (err) {
          throw signal?.aborted ? signal.reason : err;
        }
      }
      try {
        return await attempt(input, dimensions, signal);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        lastError = err;
      }
    }
    throw new Error(`embedding server ${shown} failed ${retries + 1} times; last: ${lastError?.message ?? 'unknown error'}`);
  }

  async function embedAll(texts: readonly string[], dimensions: number | null, signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      signal?.throwIfAborted();
      out.push(...(await request(texts.slice(start, start + batchSize), dimensions, signal)));
    }
    return out;
  }

  const [probe] = await embedAll(['dimensions probe'], null);
  const dimensions = probe?.length ?? 0;
  return {
    name: `openai:${config.url}`,
    fingerprint: `openai:${config.url}#${config.model ?? ''}:${dimensions}`,
    dimensions,
    embed: (texts, _kind, signal) => embedAll(texts, dimensions, signal),
  };
}
