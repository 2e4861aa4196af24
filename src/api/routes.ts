/**
 * The read-only JSON API under /api: the daily feed, papers by id, keyword
 * search and the full paper list, in the shapes of the Hugging Face papers API;
 * plus its OpenAPI document and a docs page generated from it.
 *
 * Each handler reads as: validate the query with its zod schema (a 400 lists
 * every problem), query, present, set cache headers, respond. ETags and
 * `If-None-Match` → 304 come from @fastify/etag on every response.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import type { Database } from '../db/connection.js';
import { entriesByIds, latestFeaturedDay, listFeatured, type FeedEntry } from '../feeds/feed.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { searchPapers } from '../search/search.js';
import { similarPapers } from '../semantic/similar.js';
import { html, type HtmlValue, type SafeHtml } from '../web/html.js';
import { layout } from '../web/layout.js';
import { sendError } from '../web/errors.js';
import { isFeatured, lastModified, presentDailyPaper, presentPaper, presentSearchResult } from './presenters.js';
import {
  DailyPapersQuery,
  EmptyQuery,
  OldStylePaperIdParams,
  PaperIdParams,
  PapersListQuery,
  SearchQuery,
  SimilarQuery,
  describeIssues,
  encodeCursor,
  knownKeys,
  openApiDocument,
  type PaperCursor,
} from './schemas.js';
import { rateLimit } from '../web/rate-limits.js';

/** Reads may be cached briefly by browsers and proxies; the ETag revalidates them. */
const CACHE_CONTROL = 'public, max-age=60';
// With no period and a submitter, every day is searched (`from`/`to` bound all days).
const ALL_DAYS = { from: '0000-01-01', to: '9999-12-31' };

const allowedKeys = new WeakMap<z.ZodType, string[]>();

/** Parses input with a schema, or answers 400 naming every problem and returns undefined. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): z.output<S> | undefined {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  let keys = allowedKeys.get(schema);
  if (keys === undefined) allowedKeys.set(schema, (keys = knownKeys(schema)));
  void sendError(req, reply, 400, describeIssues(parsed.error, keys));
  return undefined;
}

function cacheable(reply: FastifyReply, modified?: Date): void {
  reply.header('Cache-Control', CACHE_CONTROL);
  if (modified !== undefined) reply.header('Last-Modified', modified.toUTCString());
}

/** The raw query string parameters with some replaced, for `Link` URLs. */
function queryWith(req: FastifyRequest, changes: Record<string, string>): string {
  const params = new URLSearchParams();
  const raw = (req.query ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string' && !(key in changes)) params.set(key, value);
  for (const [key, value] of Object.entries(changes)) params.set(key, value);
  return params.toString();
}

interface KeyRow {
  id: number;
  announced_on: string | null;
}

/**
 * One page of the all-papers list as (id, announcement day), newest day first
 * and newest row first within a day, strictly after the cursor. Keyset
 * pagination on the (announced_on, id) index: each page costs the same however
 * deep it is, and papers added meanwhile cannot shift a later page. Papers
 * without an announcement day come last, by id.
 */
async function pageKeys(database: Database, cursor: PaperCursor | undefined, n: number): Promise<KeyRow[]> {
  const rows: KeyRow[] = [];
  if (cursor === undefined || cursor.announcedOn !== null) {
    let query = database.db
      .selectFrom('papers')
      .select(['id', 'announced_on'])
      .where('announced_on', 'is not', null)
      .orderBy('announced_on', 'desc')
      .orderBy('id', 'desc')
      .limit(n);
    if (cursor !== undefined && cursor.announcedOn !== null) {
      const after = cursor.announcedOn;
      query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('announced_on', 'id'), '<', tuple(after, cursor.id)));
    }
    rows.push(...(await query.execute()));
  }
  if (rows.length < n) {
    let query = database.db
      .selectFrom('papers')
      .select(['id', 'announced_on'])
      .where('announced_on', 'is', null)
      .orderBy('id', 'desc')
      .limit(n - rows.length);
    if (cursor !== undefined && cursor.announcedOn === null) query = query.where('id', '<', cursor.id);
    rows.push(...(await query.execute()));
  }
  return rows;
}

export function apiRoutes(ctx: AppContext): FastifyPluginAsync {
  const { database, config } = ctx;
  let openApiText: string | undefined;
  let docsPage: string | undefined;
  const openApi = (): string => (openApiText ??= JSON.stringify(openApiDocument(config.baseUrl)));

  /** Answers with one paper (by any notation of its id) or a 404. */
  async function sendPaper(text: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const parsed = parseArxivId(text);
    if (parsed === null) return sendError(req, reply, 400, `Invalid request: "${text}" is not an arXiv id.`);
    const row = await database.db.selectFrom('papers').select('id').where('arxiv_id', '=', parsed.id).executeTakeFirst();
    const entry = row === undefined ? undefined : (await entriesByIds(database, [row.id]))[0];
    if (entry === undefined) return sendError(req, reply, 404, `No paper ${parsed.id} in this instance.`);
    cacheable(reply, lastModified([entry]));
    return reply.send(presentPaper(entry.paper, entry.featured));
  }

  async function sendSimilar(text: string, q: SimilarQuery, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const parsed = parseArxivId(text);
    if (parsed === null) return sendError(req, reply, 400, `Invalid request: "${text}" is not an arXiv id.`);
    const row = await database.db.selectFrom('papers').select('id').where('arxiv_id', '=', parsed.id).executeTakeFirst();
    if (row === undefined) return sendError(req, reply, 404, `No paper ${parsed.id} in this instance.`);
    const similar = await similarPapers(ctx, row.id, q.limit, q.sort);
    if (!similar.available) return sendError(req, reply, 409, `No similar papers yet: ${similar.reason}.`);
    const entries = new Map((await entriesByIds(database, similar.papers.map((p) => p.paperId))).map((e) => [e.paper.id, e]));
    cacheable(reply);
    return reply.send(
      similar.papers.flatMap((p) => {
        const entry = entries.get(p.paperId);
        return entry === undefined ? [] : [{ ...presentSearchResult(entry), similarity: Math.round(p.similarity * 10_000) / 10_000 }];
      }),
    );
  }

  return async (app) => {
    app.get('/daily_papers', async (req, reply) => {
      const q = validate(DailyPapersQuery, req.query, req, reply);
      if (q === undefined) return reply;
      const period = q.date ?? q.week ?? q.month;
      let range: { from: string; to: string } | undefined = period ?? (q.submitter !== undefined ? ALL_DAYS : undefined);
      if (range === undefined) {
        const day = await latestFeaturedDay(database, q.category);
        if (day !== null) range = { from: day, to: day };
      }
      let entries: FeedEntry[] = [];
      let total = 0;
      if (range !== undefined) {
        ({ entries, total } = await listFeatured(database, {
          ...range,
          categories: q.category,
          submitter: q.submitter,
          sort: q.sort === 'publishedAt' ? 'newest' : 'trending',
          limit: q.limit,
          offset: q.p * q.limit,
        }));
      }
      cacheable(reply, lastModified(entries));
      reply.header('X-Total-Count', String(total));
      if ((q.p + 1) * q.limit < total) {
        const next = `${config.baseUrl}/api/daily_papers?${queryWith(req, { p: String(q.p + 1) })}`;
        reply.header('Link', `<${next}>; rel="next"`);
      }
      return reply.send(entries.filter(isFeatured).map(presentDailyPaper));
    });

    app.get('/papers', async (req, reply) => {
      const q = validate(PapersListQuery, req.query, req, reply);
      if (q === undefined) return reply;
      // One extra row says whether there is a next page without a count.
      const keys = await pageKeys(database, q.cursor, q.limit + 1);
      const page = keys.slice(0, q.limit);
      const entries = await entriesByIds(
        database,
        page.map((k) => k.id),
      );
      const last = page.at(-1);
      if (keys.length > q.limit && last !== undefined) {
        const cursor = encodeCursor({ announcedOn: last.announced_on, id: last.id });
        reply.header('Link', `<${config.baseUrl}/api/papers?${queryWith(req, { cursor })}>; rel="next"`);
      }
      cacheable(reply, lastModified(entries));
      return reply.send(entries.map((e) => presentPaper(e.paper, e.featured)));
    });

    app.get('/papers/search', { config: rateLimit(ctx.config, 'apiSearch') }, async (req, reply) => {
      const q = validate(SearchQuery, req.query, req, reply);
      if (q === undefined) return reply;
      const result = await searchPapers(ctx, q.q, {
        limit: q.limit,
        ...(q.mode !== undefined ? { mode: q.mode } : {}),
        ...(q.category !== undefined ? { categories: q.category } : {}),
        snippets: false,
      });
      if (result.problem !== undefined) return sendError(req, reply, 400, `Invalid request: q: ${result.problem}.`);
      reply.header('x-search-mode', result.mode);
      const entries = await entriesByIds(
        database,
        result.hits.map((h) => h.paperId),
      );
      cacheable(reply);
      return reply.send(entries.map(presentSearchResult));
    });

    app.get('/papers/:id/similar', async (req, reply) => {
      const params = validate(PaperIdParams, req.params, req, reply);
      if (params === undefined) return reply;
      const q = validate(SimilarQuery, req.query, req, reply);
      if (q === undefined) return reply;
      return sendSimilar(params.id, q, req, reply);
    });

    app.get('/papers/:archive/:number/similar', async (req, reply) => {
      const params = validate(OldStylePaperIdParams, req.params, req, reply);
      if (params === undefined) return reply;
      const q = validate(SimilarQuery, req.query, req, reply);
      if (q === undefined) return reply;
      return sendSimilar(`${params.archive}/${params.number}`, q, req, reply);
    });

    app.get('/papers/:id', async (req, reply) => {
      const params = validate(PaperIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      return sendPaper(params.id, req, reply);
    });

    app.get('/papers/:archive/:number', async (req, reply) => {
      const params = validate(OldStylePaperIdParams, req.params, req, reply);
      if (params === undefined || validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      return sendPaper(`${params.archive}/${params.number}`, req, reply);
    });

    app.get('/openapi.json', async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      cacheable(reply);
      return reply.type('application/json; charset=utf-8').send(openApi());
    });

    app.get('/docs', async (req, reply) => {
      if (validate(EmptyQuery, req.query, req, reply) === undefined) return reply;
      docsPage ??= renderDocs(JSON.parse(openApi()) as unknown, config.baseUrl);
      cacheable(reply);
      return reply.type('text/html; charset=utf-8').send(docsPage);
    });
  };
}

// --- the docs page, rendered from the OpenAPI document ---

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const field = (o: Json, key: string): Json => (isJson(o[key]) ? (o[key] as Json) : {});
const text = (o: Json, key: string): string => (typeof o[key] === 'string' ? (o[key] as string) : '');
const list = (o: Json, key: string): unknown[] => (Array.isArray(o[key]) ? (o[key] as unknown[]) : []);

const REF_PREFIX = '#/components/schemas/';

/** Description text with its `backtick` spans as code. */
function prose(value: string): HtmlValue[] {
  return value.split('`').map((part, i) => (i % 2 === 1 ? html`<code>${part}</code>` : part));
}

/** A one-line type of a JSON schema: `string (date-time)`, `User | null`, `"a" | "b"`, `Author[]`. */
function typeLabel(schema: Json): HtmlValue {
  const ref = text(schema, '$ref');
  if (ref.startsWith(REF_PREFIX)) {
    const name = ref.slice(REF_PREFIX.length);
    return html`<a href="#schema-${name}">${name}</a>`;
  }
  const anyOf = list(schema, 'anyOf').filter(isJson);
  if (anyOf.length > 0) return join(anyOf.map(typeLabel), ' | ');
  if ('const' in schema) return JSON.stringify(schema.const);
  const values = list(schema, 'enum');
  if (values.length > 0) return values.map((v) => JSON.stringify(v)).join(' | ');
  const type = schema.type;
  const format = text(schema, 'format');
  const named = (t: string): string => (t === 'string' && format !== '' ? `string (${format})` : t);
  if (Array.isArray(type)) return type.map(String).map(named).join(' | ');
  if (type === 'array') return html`${typeLabel(field(schema, 'items'))}[]`;
  if (typeof type === 'string') return named(type);
  return 'any';
}

function join(values: HtmlValue[], separator: string): HtmlValue[] {
  return values.flatMap((v, i) => (i === 0 ? [v] : [separator, v]));
}

/** The fields of an object schema, one per line, `?` marking optional ones. */
function shape(schema: Json, indent = '  '): HtmlValue {
  const properties = field(schema, 'properties');
  const required = new Set(list(schema, 'required').map(String));
  const lines = Object.entries(properties)
    .filter((entry): entry is [string, Json] => isJson(entry[1]))
    .map(([name, prop]) => {
      const nested = prop.type === 'object' && isJson(prop.properties) ? html`{\n${shape(prop, `${indent}  `)}${indent}}` : typeLabel(prop);
      const note = text(prop, 'description');
      return html`${indent}${name}${required.has(name) ? '' : '?'}: ${nested}${note === '' ? '' : html`  <span class="muted">// ${prose(note)}</span>`}\n`;
    });
  return lines;
}

const METHODS = ['get', 'post', 'patch', 'delete'] as const;

/** The success status an operation documents: 200, 201 for creations, 202 for accepted work, 204 for no content. */
function successStatus(operation: Json): string {
  const responses = field(operation, 'responses');
  return ['200', '201', '202', '204'].find((status) => status in responses) ?? '200';
}

function responseShape(operation: Json): HtmlValue {
  const ok = field(field(operation, 'responses'), successStatus(operation));
  const content = field(ok, 'content');
  const json = field(field(content, 'application/json'), 'schema');
  if (Object.keys(json).length === 0) return Object.keys(content).join(', ') || 'empty';
  return typeLabel(json);
}

/**
 * The bearer value an operation's example shows: the webhook's shared secret,
 * a personal token, or none for an operation anyone may call (an empty
 * security requirement).
 */
function exampleBearer(operation: Json): string | undefined {
  const schemes = list(operation, 'security').flatMap((requirement) => (isJson(requirement) ? Object.keys(requirement) : []));
  if (schemes.includes('mailWebhookSecret')) return 'MAIL_WEBHOOK_SECRET';
  return schemes.length > 0 ? 'token' : undefined;
}

/** A curl command line for an operation: its method, its credential, a JSON body from the schema's examples. */
function exampleRequest(baseUrl: string, method: string, path: string, bearer: string | undefined, body: Json): SafeHtml {
  const fields = Object.entries(field(body, 'properties')).map(([name, prop]) => [name, isJson(prop) ? list(prop, 'examples')[0] : undefined]);
  return html`curl${method === 'get' ? '' : ` -X ${method.toUpperCase()}`} '${baseUrl}${path}'${
    bearer === undefined ? '' : html` -H 'Authorization: Bearer &lt;${bearer}&gt;'`
  }${fields.length === 0 ? '' : html` -H 'Content-Type: application/json' -d '${JSON.stringify(Object.fromEntries(fields))}'`}`;
}

function renderDocs(document: unknown, baseUrl: string): string {
  const doc = isJson(document) ? document : {};
  const paths = field(doc, 'paths');
  const schemas = field(field(doc, 'components'), 'schemas');
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => isJson(item) && isJson(item[method])).map((method) => ({ path, method, op: field(item as Json, method) })),
  );

  const endpoint = ({ path, method, op }: { path: string; method: string; op: Json }): SafeHtml => {
    const id = text(op, 'operationId');
    const parameters = list(op, 'parameters').filter(isJson);
    const responses = field(op, 'responses');
    const ok = successStatus(op);
    const headers = Object.entries(field(field(responses, ok), 'headers'));
    const example = text(op, 'x-example-request');
    const body = field(field(field(field(op, 'requestBody'), 'content'), 'application/json'), 'schema');
    return html`<section class="panel" id="${id}" aria-labelledby="${id}-title">
<h2 id="${id}-title"><code>${method.toUpperCase()} ${path}</code></h2>
<p><strong>${text(op, 'summary')}.</strong> ${prose(text(op, 'description'))}</p>
${
  parameters.length === 0
    ? html`<p class="muted small">No parameters.</p>`
    : html`<h3>Parameters</h3>
<dl class="facts">
${parameters.map((p) => {
  const schema = field(p, 'schema');
  const def = 'default' in schema ? html` · default <code>${JSON.stringify(schema.default)}</code>` : '';
  const example = list(schema, 'examples')[0];
  const eg = typeof example === 'string' ? html` · e.g. <code>${example}</code>` : '';
  const note = text(p, 'description');
  return html`<dt><code>${text(p, 'name')}</code></dt><dd>${text(p, 'in')} · <code>${typeLabel(schema)}</code> · ${p.required === true ? 'required' : 'optional'}${def}${eg}${note === '' ? '' : html`<br>${prose(note)}`}</dd>\n`;
})}
</dl>`
}
${Object.keys(body).length === 0 ? '' : html`<h3>Request body</h3>\n<pre><code>{\n${shape(body)}}</code></pre>`}
<h3>Example request</h3>
<pre><code>${exampleRequest(baseUrl, method, example, exampleBearer(op), body)}</code></pre>
<h3>Response</h3>
<p><code>${ok}</code>: <code>${responseShape(op)}</code></p>
${headers.length === 0 ? '' : html`<dl class="facts">${headers.map(([name, h]) => html`<dt><code>${name}</code></dt><dd>${isJson(h) ? prose(text(h, 'description')) : ''}</dd>`)}</dl>`}
<p class="small">${Object.entries(responses)
      .filter(([status]) => status !== ok)
      .map(([status, r]) => html`<code>${status}</code> ${isJson(r) ? text(r, 'description') : ''} `)}</p>
</section>`;
  };

  const body = html`<h1>Paperboy API</h1>
<p>${text(field(doc, 'info'), 'description')}</p>
<p>Every endpoint answers JSON; errors are <code>{"error": code, "message": text}</code> with the HTTP status.
The machine-readable description is <a href="/api/openapi.json"><code>/api/openapi.json</code></a> (OpenAPI ${text(doc, 'openapi')}).</p>
<nav aria-label="Endpoints"><ul>
${operations.map(({ path, method, op }) => html`<li><a href="#${text(op, 'operationId')}"><code>${method.toUpperCase()} ${path}</code></a>: ${text(op, 'summary')}</li>\n`)}
</ul></nav>
${operations.map(endpoint)}
<h2>Schemas</h2>
${Object.entries(schemas)
  .filter((entry): entry is [string, Json] => isJson(entry[1]))
  .map(
    ([name, schema]) => html`<section id="schema-${name}" aria-labelledby="schema-${name}-title">
<h3 id="schema-${name}-title">${name}</h3>
<p class="small">${prose(text(schema, 'description'))}</p>
<pre><code>{\n${shape(schema)}}</code></pre>
</section>\n`,
  )}`;
  return layout({ title: 'API · Paperboy', description: 'The Paperboy JSON API', section: 'api' }, body).value;
}
