import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { DatabaseLocation } from './db/connection.js';
import type { LogFormat } from './log.js';
import { parseCategoryList } from './papers/taxonomy.js';
import { DEFAULT_TRAINING_PAIRS } from './semantic/builtin.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const urlString = z.url({ protocol: /^https?$/ });

const perMinute = (fallback: number) => z.coerce.number().int().min(1).max(1_000_000).default(fallback);

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY lists. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IPv4 or IPv6 address, optionally with a prefix length that fits its family. */
function isAddressOrCidr(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Which proxies' X-Forwarded-For to believe. Unset (the default) trusts none:
 * the client address is the TCP peer, so a client cannot pick its own address
 * and escape every rate limit. `true` trusts any proxy, a number that many
 * hops, a list the given addresses or CIDRs.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): boolean | number | string[] => {
    const value = (v ?? '').trim();
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    const list = value.split(/[\s,]+/).filter(Boolean);
    for (const entry of list) {
      if (!isAddressOrCidr(entry)) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not an address, a CIDR, a hop count, true or false` });
      }
    }
    return list;
  });

const DAY_MS = 86_400_000;

/** Every setting Paperboy reads from the environment, with its default. */
const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PAPERBOY_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .optional()
      .refine((v) => v === undefined || v === '' || /^postgres(ql)?:\/\/[^\s]+$/.test(v), {
        message: 'must be a postgres:// or postgresql:// URL (unset it for the embedded SQLite database)',
      }),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    BASE_URL: urlString.optional(),
    SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    MAIL_FROM: z.string().default('Paperboy <paperboy@localhost>'),
    ARXIV_CATEGORIES: z
      .string()
      .default('cs.AI,cs.CL,cs.CV,cs.LG,stat.ML')
      .superRefine((list, ctx) => {
        for (const unknown of parseCategoryList(list).unknown) {
          ctx.addIssue({ code: 'custom', message: `unknown arXiv category or archive "${unknown}"` });
        }
      }),
    EMBEDDER: z
      .string()
      .default('builtin')
      .refine((v) => v === 'builtin' || /^onnx:.+/.test(v) || /^openai:https?:\/\/[^\s]+$/.test(v), {
        message: 'must be builtin, onnx:/path/to/model-dir or openai:http(s)://host[:port] (an OpenAI-compatible server)',
      }),
    EMBEDDER_MODEL: z.string().min(1).optional(),
    EMBEDDER_API_KEY: z.string().min(1).optional(),
    EMBEDDER_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(64),
    EMBEDDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    EMBEDDER_TRAINING_PAIRS: z.coerce.number().int().min(0).max(10_000_000).default(DEFAULT_TRAINING_PAIRS),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
    METRICS_ENABLED: booleanFlag.default(false),
    HARVEST_ENABLED: booleanFlag.default(true),
    HARVEST_HOUR_UTC: z.coerce.number().int().min(0).max(23).default(3),
    ARXIV_OAI_URL: urlString.default('https://oaipmh.arxiv.org/oai'),
    ARXIV_API_URL: urlString.default('https://export.arxiv.org/api/query'),
    ARXIV_LISTING_URL: urlString.default('https://rss.arxiv.org/atom'),
    ARXIV_MIN_INTERVAL_MS: z.coerce.number().int().min(0).default(3000),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    TRUST_PROXY: trustProxy,
    RATE_LIMIT_SEARCH_PAGE: perMinute(120),
    RATE_LIMIT_API_SEARCH: perMinute(60),
    RATE_LIMIT_SEARCH_FEED: perMinute(30),
    RATE_LIMIT_ARXIV_FETCH: perMinute(10),
    RATE_LIMIT_AUTH: perMinute(10),
    RATE_LIMIT_WRITE: perMinute(60),
    RATE_LIMIT_SUBMIT: perMinute(5),
    RATE_LIMIT_TOKEN: perMinute(600),
    SESSION_IDLE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    SESSION_MAX_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    SUBMISSION_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
    RATE_LIMIT_SUBSCRIBE: perMinute(10),
    MAIL_REPLY_TO: z.string().min(3).optional(),
    DIGEST_FROM: z.string().min(3).optional(),
    DIGEST_REPLY_TO: z.string().min(3).optional(),
    DIGEST_ENABLED: booleanFlag.default(true),
    DIGEST_HOUR: z.coerce.number().int().min(0).max(23).default(8),
    DIGEST_TIMEZONE: z
      .string()
      .default('UTC')
      .refine((tz) => isTimeZone(tz), { message: 'must be an IANA time zone such as UTC or Europe/Berlin' }),
    DIGEST_WEEKLY_DAY: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']).default('mon'),
    DIGEST_UNCERTAIN: z.enum(['resend', 'hold']).default('resend'),
    DIGEST_SEND_RATE: z.coerce.number().int().min(1).max(100_000).default(1_000),
    DKIM_DOMAIN: z.string().min(1).optional(),
    DKIM_SELECTOR: z.string().min(1).optional(),
    DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    MAIL_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    SOFT_BOUNCE_LIMIT: z.coerce.number().int().min(1).max(100).default(3),
    WEBHOOK_ALLOW_PRIVATE: booleanFlag.default(false),
  });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The day digests go out weekly, as in `DIGEST_WEEKLY_DAY`. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A route's limit: at most `max` requests per client per `timeWindow` milliseconds. */
export interface RateLimit {
  max: number;
  timeWindow: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  dataDir: string;
  /** The embedded SQLite file, used unless `database` is a server. */
  databaseFile: string;
  /** The database the instance runs on: the embedded SQLite file, or PostgreSQL when DATABASE_URL is set. */
  database: DatabaseLocation;
  host: string;
  port: number;
  baseUrl: string;
  secretKey: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Categories to harvest and auto-feature, archives expanded to their categories. */
  arxivCategories: string[];
  /** How papers and queries become vectors (docs/decisions/013-semantic-search.md). */
  embedder: EmbedderConfig;
  logLevel: string;
  /** `auto`: readable text when stderr is a terminal, JSON lines otherwise. */
  logFormat: LogFormat;
  /** Whether /metrics answers (Prometheus text format); 404 otherwise. */
  metricsEnabled: boolean;
  harvest: { enabled: boolean; hourUtc: number };
  arxiv: { oaiUrl: string; apiUrl: string; listingUrl: string; minIntervalMs: number };
  workerConcurrency: number;
  /** Fastify's trustProxy: false (no proxy), true, a hop count, or addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** Per-route limits, per client; see docs/rate-limits.md. */
  rateLimits: {
    searchPage: RateLimit;
    apiSearch: RateLimit;
    searchFeed: RateLimit;
    arxivFetch: RateLimit;
    /** Sign-up, sign-in, emailed links and password resets, per client address. */
    auth: RateLimit;
    /** Upvotes, comments and other writes, per user. */
    write: RateLimit;
    /** Paper submissions, per user. */
    submit: RateLimit;
    /** Subscription requests, per client address (each address also gets at most one confirmation email per 10 minutes). */
    subscribe: RateLimit;
  };
  /** The limit of a request made with a personal API token, per token, on every limited read route. */
  tokenRateLimit: RateLimit;
  /** A session ends after this long without a request, and this long after sign-in in any case. */
  sessions: { idleMs: number; maxMs: number };
  /** Papers can be submitted to the daily feed this long after their first version. */
  submissionMaxAgeDays: number;
  /** Reply-To of transactional mail (confirmations, sign-in links, notifications). */
  mailReplyTo: string | undefined;
  /** Email digests: their sender, schedule and delivery policy (docs/decisions/011-email-digests.md). */
  digest: {
    /** From of digests; by default MAIL_FROM's address with the local part `digest`. */
    from: string;
    replyTo: string | undefined;
    /** Whether the scheduler creates runs (`paperboy digest run` works either way). */
    enabled: boolean;
    /** Local hour, in `timeZone`, at which runs are created. */
    hour: number;
    timeZone: string;
    weeklyDay: Weekday;
    /** What to do with a message whose send was interrupted (it may or may not have gone out). */
    uncertain: 'resend' | 'hold';
    /** Most digest messages a worker sends per second. */
    sendRatePerSecond: number;
  };
  /** DKIM signing of every message, when configured. */
  dkim: { domainName: string; keySelector: string; privateKeyFile: string } | undefined;
  /** Shared secret of the bounce and complaint webhook; the webhook answers 404 without it. */
  mailWebhookSecret: string | undefined;
  /** Soft bounces within 30 days that suppress an address. */
  softBounceLimit: number;
  /**
   * Whether saved-search webhooks may call loopback, private and link-local
   * addresses (WEBHOOK_ALLOW_PRIVATE, default false: they would let users
   * probe the operator's network). For LAN-only instances and tests.
   */
  webhookAllowPrivate: boolean;
}

/** The EMBEDDER setting: the built-in model, an ONNX model directory, or an OpenAI-compatible server. */
export type EmbedderConfig =
  | { kind: 'builtin'; trainingPairs: number }
  | { kind: 'onnx'; dir: string; batchSize: number }
  | { kind: 'openai'; url: string; model: string | undefined; apiKey: string | undefined; batchSize: number; timeoutMs: number };

function embedderConfig(
  value: string,
  e: {
    EMBEDDER_MODEL?: string | undefined;
    EMBEDDER_API_KEY?: string | undefined;
    EMBEDDER_BATCH_SIZE: number;
    EMBEDDER_TIMEOUT_MS: number;
    EMBEDDER_TRAINING_PAIRS: number;
  },
): EmbedderConfig {
  if (value.startsWith('onnx:')) return { kind: 'onnx', dir: resolve(value.slice('onnx:'.length)), batchSize: e.EMBEDDER_BATCH_SIZE };
  if (value.startsWith('openai:')) {
    return {
      kind: 'openai',
      url: value.slice('openai:'.length).replace(/\/+$/, ''),
      model: e.EMBEDDER_MODEL,
      apiKey: e.EMBEDDER_API_KEY,
      batchSize: e.EMBEDDER_BATCH_SIZE,
      timeoutMs: e.EMBEDDER_TIMEOUT_MS,
    };
  }
  return { kind: 'builtin', trainingPairs: e.EMBEDDER_TRAINING_PAIRS };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment once, listing every problem at once. Values are never
 * echoed back, so a misplaced secret does not end up in a log.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
  if (env.NODE_ENV === 'production' && !env.SECRET_KEY) problems.push('SECRET_KEY: is required when NODE_ENV=production');
  const dkimSet = [env.DKIM_DOMAIN, env.DKIM_SELECTOR, env.DKIM_PRIVATE_KEY_FILE].filter((v) => v !== undefined && v !== '');
  if (dkimSet.length !== 0 && dkimSet.length !== 3) {
    problems.push('DKIM_DOMAIN: DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE are set together or not at all');
  }
  if (env.DKIM_PRIVATE_KEY_FILE && !existsSync(env.DKIM_PRIVATE_KEY_FILE)) problems.push('DKIM_PRIVATE_KEY_FILE: no such file');
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const dataDir = resolve(e.PAPERBOY_DATA_DIR);
  const databaseFile = resolve(dataDir, 'paperboy.db');
  const databaseUrl = e.DATABASE_URL === undefined || e.DATABASE_URL === '' ? undefined : e.DATABASE_URL;
  return {
    env: e.NODE_ENV,
    dataDir,
    databaseFile,
    database: databaseUrl === undefined ? { engine: 'sqlite', file: databaseFile } : { engine: 'postgres', url: databaseUrl },
    host: e.HOST,
    port: e.PORT,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    secretKey: e.SECRET_KEY,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    arxivCategories: parseCategoryList(e.ARXIV_CATEGORIES).categories,
    embedder: embedderConfig(e.EMBEDDER, e),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    metricsEnabled: e.METRICS_ENABLED,
    harvest: { enabled: e.HARVEST_ENABLED, hourUtc: e.HARVEST_HOUR_UTC },
    arxiv: {
      oaiUrl: e.ARXIV_OAI_URL,
      apiUrl: e.ARXIV_API_URL,
      listingUrl: e.ARXIV_LISTING_URL,
      minIntervalMs: e.ARXIV_MIN_INTERVAL_MS,
    },
    workerConcurrency: e.WORKER_CONCURRENCY,
    trustProxy: e.TRUST_PROXY,
    rateLimits: {
      searchPage: { max: e.RATE_LIMIT_SEARCH_PAGE, timeWindow: 60_000 },
      apiSearch: { max: e.RATE_LIMIT_API_SEARCH, timeWindow: 60_000 },
      searchFeed: { max: e.RATE_LIMIT_SEARCH_FEED, timeWindow: 60_000 },
      arxivFetch: { max: e.RATE_LIMIT_ARXIV_FETCH, timeWindow: 60_000 },
      auth: { max: e.RATE_LIMIT_AUTH, timeWindow: 60_000 },
      write: { max: e.RATE_LIMIT_WRITE, timeWindow: 60_000 },
      submit: { max: e.RATE_LIMIT_SUBMIT, timeWindow: 60_000 },
      subscribe: { max: e.RATE_LIMIT_SUBSCRIBE, timeWindow: 60_000 },
    },
    tokenRateLimit: { max: e.RATE_LIMIT_TOKEN, timeWindow: 60_000 },
    sessions: { idleMs: e.SESSION_IDLE_DAYS * DAY_MS, maxMs: e.SESSION_MAX_DAYS * DAY_MS },
    submissionMaxAgeDays: e.SUBMISSION_MAX_AGE_DAYS,
    mailReplyTo: e.MAIL_REPLY_TO,
    digest: {
      from: e.DIGEST_FROM ?? digestSender(e.MAIL_FROM),
      replyTo: e.DIGEST_REPLY_TO,
      enabled: e.DIGEST_ENABLED,
      hour: e.DIGEST_HOUR,
      timeZone: e.DIGEST_TIMEZONE,
      weeklyDay: e.DIGEST_WEEKLY_DAY,
      uncertain: e.DIGEST_UNCERTAIN,
      sendRatePerSecond: e.DIGEST_SEND_RATE,
    },
    dkim:
      e.DKIM_DOMAIN !== undefined && e.DKIM_SELECTOR !== undefined && e.DKIM_PRIVATE_KEY_FILE !== undefined
        ? { domainName: e.DKIM_DOMAIN, keySelector: e.DKIM_SELECTOR, privateKeyFile: resolve(e.DKIM_PRIVATE_KEY_FILE) }
        : undefined,
    mailWebhookSecret: e.MAIL_WEBHOOK_SECRET,
    softBounceLimit: e.SOFT_BOUNCE_LIMIT,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
  };
}

/**
 * Digests come from their own address, so that filters and reputation tell
 * them apart from sign-in links: `Paperboy <paperboy@example.org>` gives
 * `Paperboy digest <digest@example.org>`.
 */
export function digestSender(mailFrom: string): string {
  const angled = /^(.*)<([^<>\s]+)>\s*$/.exec(mailFrom);
  const address = (angled?.[2] ?? mailFrom).trim();
  const domain = /^[^@\s]+@([^@\s]+)$/.exec(address)?.[1];
  if (domain === undefined) return mailFrom;
  const name = (angled?.[1] ?? '').trim().replace(/^"(.*)"$/, '$1').trim() || 'Paperboy';
  return `${name} digest <digest@${domain}>`;
}

/** Loads `.env` from the working directory into process.env (existing variables win). */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
