import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../config.js';

/**
 * The one way Paperboy talks to arXiv. arXiv asks every client of its legacy
 * APIs (export.arxiv.org API, OAI-PMH) for "no more than one request every
 * three seconds, single connection at a time", and answers overload with
 * `503` + `Retry-After`. Breaking the rule gets the machine's address blocked,
 * so the rule lives here and not in each caller.
 */

/** The smallest logger the client needs; pino's Logger fits. */
export interface HttpLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ArxivHttpOptions {
  /** Minimum time between the starts of two requests (arXiv: 3000 ms). */
  minIntervalMs: number;
  /** Sent as User-Agent, so arXiv's operators can tell who is calling. */
  userAgent: string;
  /** Per attempt, including reading the body. */
  timeoutMs?: number;
  /** Attempts for 5xx answers, timeouts and dropped connections. */
  maxAttempts?: number;
  /** Attempts when the host cannot be resolved or refuses connections. */
  connectAttempts?: number;
  /** First backoff delay; doubled per attempt, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Delay before retrying a connection-level failure. */
  connectRetryDelayMs?: number;
  /** Upper bound on a server-requested `Retry-After` wait. */
  maxRetryAfterMs?: number;
  /** How many `Retry-After` waits one request may go through. */
  maxRetryAfterWaits?: number;
  fetch?: typeof fetch;
  log?: HttpLog;
}

/** A fetched response: status, headers and the whole body as text. */
export interface ArxivResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

/** Anything that went wrong talking to arXiv; worth retrying later. */
export class ArxivError extends Error {
  override name = 'ArxivError';
}

/** The host could not be resolved or connected to: most likely this machine is offline. */
export class ArxivUnreachableError extends ArxivError {
  override name = 'ArxivUnreachableError';
  constructor(
    readonly host: string,
    readonly url: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** arXiv kept failing (5xx, timeouts, dropped connections) after every retry. */
export class ArxivHttpError extends ArxivError {
  override name = 'ArxivHttpError';
  constructor(
    readonly url: string,
    /** The last HTTP status, or null when no response arrived. */
    readonly status: number | null,
    message: string,
  ) {
    super(message);
  }
}

const CONNECT_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

const DEFAULTS = {
  timeoutMs: 60_000,
  maxAttempts: 5,
  connectAttempts: 2,
  backoffMs: 5_000,
  maxBackoffMs: 120_000,
  connectRetryDelayMs: 1_000,
  maxRetryAfterMs: 10 * 60_000,
  maxRetryAfterWaits: 10,
};

type Failure =
  | { kind: 'connect'; code: string; detail: string }
  | { kind: 'network'; detail: string }
  | { kind: 'timeout'; detail: string };

/** Classifies what fetch threw; undici hides the socket error in `cause`. */
function classify(err: unknown): Failure {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return { kind: 'timeout', detail: 'request timed out' };
  }
  const codes: string[] = [];
  let detail = err instanceof Error ? err.message : String(err);
  const visit = (e: unknown, depth: number): void => {
    if (depth > 4 || typeof e !== 'object' || e === null) return;
    if ('code' in e && typeof e.code === 'string') codes.push(e.code);
    if (e instanceof Error && depth > 0) detail = e.message;
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1);
    if ('cause' in e) visit(e.cause, depth + 1);
  };
  visit(err, 0);
  const connect = codes.find((c) => CONNECT_CODES.has(c));
  if (connect) return { kind: 'connect', code: connect, detail };
  // fetch refuses the ports of the Fetch standard's block list (1, 7, 9, 25, …)
  // without opening a socket; retrying cannot help.
  if (detail === 'bad port') return { kind: 'connect', code: 'BAD_PORT', detail };
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT') || codes.includes('UND_ERR_HEADERS_TIMEOUT')) {
    return { kind: 'timeout', detail };
  }
  return { kind: 'network', detail: codes[0] ? `${codes[0]}: ${detail}` : detail };
}

function unreachableMessage(host: string, code: string): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach ${host}: this machine seems to be offline (DNS lookup failed)`;
    case 'ECONNREFUSED':
      return `cannot reach ${host}: this machine seems to be offline (connection refused)`;
    case 'BAD_PORT':
      return `cannot reach ${host}: fetch never connects to that port (it is on the Fetch standard's list of blocked ports)`;
    default:
      return `cannot reach ${host}: this machine seems to be offline (${code})`;
  }
}

/** Milliseconds a `Retry-After` header asks for (delta-seconds or HTTP date), or null. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * A polite HTTP client: requests from one instance run one at a time, their
 * starts at least `minIntervalMs` apart, with retries and backoff.
 */
export class ArxivHttpClient {
  private readonly opts: Required<Omit<ArxivHttpOptions, 'log'>> & { log: HttpLog | undefined };
  private chain: Promise<unknown> = Promise.resolve();
  /** performance.now() before which no request may start. */
  private nextStartAt = 0;

  constructor(options: ArxivHttpOptions) {
    this.opts = {
      minIntervalMs: options.minIntervalMs,
      userAgent: options.userAgent,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
      connectAttempts: options.connectAttempts ?? DEFAULTS.connectAttempts,
      backoffMs: options.backoffMs ?? DEFAULTS.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      connectRetryDelayMs: options.connectRetryDelayMs ?? DEFAULTS.connectRetryDelayMs,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
      maxRetryAfterWaits: options.maxRetryAfterWaits ?? DEFAULTS.maxRetryAfterWaits,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      log: options.log,
    };
  }

  /**
   * GETs `url` and returns the response whatever its status, except that 5xx,
   * 429 and network failures are retried; throws `ArxivUnreachableError` when
   * the host cannot be reached and `ArxivHttpError` when retries run out.
   */
  get(url: string | URL, init: { accept?: string; signal?: AbortSignal } = {}): Promise<ArxivResponse> {
    const run = this.chain.then(() => this.attempts(new URL(url), init));
    // The next request waits for this one, success or failure.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async attempts(url: URL, init: { accept?: string; signal?: AbortSignal }): Promise<ArxivResponse> {
    const o = this.opts;
    let failures = 0;
    let connectFailures = 0;
    let retryAfterWaits = 0;
    let lastProblem = '';
    let lastStatus: number | null = null;
    for (;;) {
      const slotBefore = await this.waitTurn(init.signal);
      let response: ArxivResponse;
      try {
        response = await this.once(url, init);
      } catch (err) {
        if (init.signal?.aborted) throw err;
        const failure = classify(err);
        if (failure.kind === 'connect') {
          // Nothing reached arXiv, so this attempt does not count against
          // its rate: the retry (or the next caller) need not wait for it.
          this.nextStartAt = slotBefore;
          connectFailures += 1;
          if (connectFailures >= o.connectAttempts || failure.code === 'BAD_PORT') {
            throw new ArxivUnreachableError(url.host, url.href, failure.code, unreachableMessage(url.host, failure.code));
          }
          o.log?.debug({ url: url.href, code: failure.code }, 'arXiv unreachable, retrying once');
          await delay(o.connectRetryDelayMs, undefined, { signal: init.signal });
          continue;
        }
        failures += 1;
        lastStatus = null;
        lastProblem = failure.detail;
        if (failures >= o.maxAttempts) {
          throw new ArxivHttpError(url.href, null, `${url.host} failed ${failures} times (${lastProblem}); giving up for now`);
        }
        await this.backoff(failures, url, lastProblem, init.signal);
        continue;
      }

      const { status } = response;
      if (status === 503 || status === 429) {
        const asked = parseRetryAfter(response.headers.get('retry-after'));
        if (asked !== null && retryAfterWaits < o.maxRetryAfterWaits) {
          retryAfterWaits += 1;
          const wait = Math.min(asked, o.maxRetryAfterMs);
          o.log?.warn({ url: url.href, status, retryAfterMs: asked, waitMs: wait }, 'arXiv asked us to retry later');
          // The pause counts from now and also pushes back every other
          // request from this client: arXiv asked the caller, not the URL.
          this.nextStartAt = Math.max(this.nextStartAt, performance.now() + wait);
          continue;
        }
      }
      if (status >= 500 || status === 429) {
        failures += 1;
        lastStatus = status;
        lastProblem = `HTTP ${status}`;
        if (failures >= o.maxAttempts) {
          throw new ArxivHttpError(url.href, lastStatus, `${url.host} answered ${lastProblem} ${failures} times; giving up for now`);
        }
        await this.backoff(failures, url, lastProblem, init.signal);
        continue;
      }
      return response;
    }
  }

  private async once(url: URL, init: { accept?: string; signal?: AbortSignal }): Promise<ArxivResponse> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
    const res = await this.opts.fetch(url, {
      headers: { 'user-agent': this.opts.userAgent, accept: init.accept ?? 'application/xml, text/xml, */*' },
      signal,
      redirect: 'follow',
    });
    const body = await res.text();
    return { url: res.url || url.href, status: res.status, headers: res.headers, body };
  }

  /**
   * Waits until this client may start its next request, then claims the slot;
   * returns the slot as it was, so a request that never left can give it back.
   */
  private async waitTurn(signal: AbortSignal | undefined): Promise<number> {
    // Timers may fire a fraction of a millisecond early; wait until the slot
    // has really come, on the monotonic clock, so the spacing is never short.
    for (let wait = this.nextStartAt - performance.now(); wait > 0; wait = this.nextStartAt - performance.now()) {
      await delay(Math.ceil(wait), undefined, { signal });
    }
    const before = this.nextStartAt;
    this.nextStartAt = performance.now() + this.opts.minIntervalMs;
    return before;
  }

  private async backoff(failures: number, url: URL, problem: string, signal: AbortSignal | undefined): Promise<void> {
    const o = this.opts;
    const base = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** (failures - 1));
    // Jitter of up to +25% keeps several instances from retrying in lockstep.
    const wait = Math.round(base * (1 + Math.random() * 0.25));
    o.log?.warn({ url: url.href, problem, attempt: failures, waitMs: wait }, 'arXiv request failed, backing off');
    await delay(wait, undefined, { signal });
  }
}

/** The User-Agent Paperboy sends: product, version and where the instance lives. */
export function userAgentFor(config: Pick<Config, 'baseUrl'>): string {
  return `Paperboy/0.1 (+${config.baseUrl})`;
}

const shared = new Map<string, ArxivHttpClient>();

/**
 * The process-wide client for `config`. arXiv's rule is per caller across all
 * its APIs, so the harvester, the API lookups and the listing fetcher of one
 * process share a single queue instead of each keeping their own pace.
 */
export function sharedArxivHttp(config: Pick<Config, 'baseUrl' | 'arxiv'>, log?: HttpLog): ArxivHttpClient {
  const key = `${config.arxiv.minIntervalMs}|${config.baseUrl}`;
  let client = shared.get(key);
  if (client === undefined) {
    client = new ArxivHttpClient({ minIntervalMs: config.arxiv.minIntervalMs, userAgent: userAgentFor(config), log });
    shared.set(key, client);
  }
  return client;
}
