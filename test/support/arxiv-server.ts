import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * A local stand-in for arXiv, serving the recorded responses of the shared
 * data folder: OAI-PMH `ListRecords` paged from the real hepcrawl records, the
 * API's recorded `/api/query` answers, and an announcement feed fixture.
 * Every request is logged so tests can check what was asked and when.
 */

/** One request the server received. */
export interface RecordedRequest {
  path: string;
  params: Record<string, string>;
  /** performance.now() when the request arrived. */
  at: number;
  userAgent: string | undefined;
}

/** A scripted answer. */
export interface FixtureResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

/** One real OAI record, verbatim, as it appears in the shared files. */
export interface OaiFixtureRecord {
  /** `oai:arXiv.org:1412.8323` */
  identifier: string;
  /** `1412.8323` */
  arxivId: string;
  xml: string;
}

export interface ArxivServerOptions {
  /** The shared data folder (`../shared/data`). */
  sharedData: string;
  /** Records per OAI page (default 2). */
  oaiPageSize?: number;
  /** Delay before each OAI page, so a test can kill a harvester between pages. */
  oaiDelayMs?: number;
  /** API `search_query` rewrites, e.g. `{ 'cat:cs.LG': 'testing' }` to page a recorded search as a category. */
  apiAliases?: Record<string, string>;
  /** File served for every announcement-feed request under `/atom/…` or `/rss/…`. */
  listingFile?: string;
  /** Answers first, when it returns something: for scripted failures. */
  handle?: (req: RecordedRequest) => FixtureResponse | undefined;
}

export interface ArxivFixtureServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  oaiUrl: string;
  apiUrl: string;
  listingUrl: string;
  requests: RecordedRequest[];
  /** The distinct real records the OAI endpoint serves, in order. */
  oaiRecords: OaiFixtureRecord[];
  /** arXiv ids per OAI page. */
  oaiPages: string[][];
  /** Answer `noRecordsMatch` to every new ListRecords request. */
  setNoRecords(on: boolean): void;
  /** Makes every resumption token handed out so far unknown (`badResumptionToken`). */
  expireTokens(): void;
  /** OAI ListRecords requests only. */
  oaiRequests(): RecordedRequest[];
  close(): Promise<void>;
}

const OAI_ROOT =
  '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Every distinct `<record>` of the hepcrawl OAI files, first occurrence wins, in file-name order. */
export function loadOaiRecords(sharedData: string): OaiFixtureRecord[] {
  const dir = join(sharedData, 'arxiv', 'oai-pmh', 'hepcrawl');
  const seen = new Set<string>();
  const out: OaiFixtureRecord[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.xml')).sort()) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const m of text.matchAll(/<record>[\s\S]*?<\/record>/g)) {
      const identifier = /<identifier>\s*([^<\s]+)\s*<\/identifier>/.exec(m[0])?.[1];
      if (identifier === undefined || seen.has(identifier)) continue;
      seen.add(identifier);
      out.push({ identifier, arxivId: identifier.replace(/^oai:arXiv\.org:/, ''), xml: m[0] });
    }
  }
  return out;
}

interface ApiRecording {
  params: URLSearchParams;
  status: number;
  file: string;
}

function loadApiRecordings(sharedData: string): ApiRecording[] {
  const base = join(sharedData, 'arxiv', 'api-atom', 'arxiv.py-2026');
  const out: ApiRecording[] = [];
  for (const name of readdirSync(join(base, 'raw-json')).filter((f) => f.endsWith('.json')).sort()) {
    const meta = JSON.parse(readFileSync(join(base, 'raw-json', name), 'utf8')) as { url: string; status_code: number };
    // The xml/ twin holds the body as the original bytes; the JSON copy was mangled through latin-1.
    const file = join(base, 'xml', name.replace(/\.json$/, '.xml'));
    if (!existsSync(file)) continue;
    out.push({ params: new URL(meta.url).searchParams, status: meta.status_code, file });
  }
  return out;
}

const idSet = (list: string, stripVersions: boolean): string =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (stripVersions ? s.replace(/v\d+$/, '') : s))
    .sort()
    .join(',');

function findApiRecording(recordings: ApiRecording[], params: Record<string, string>, aliases: Record<string, string>): ApiRecording | undefined {
  const idList = params['id_list'] ?? '';
  const query = params['search_query'] ?? '';
  const searched = aliases[query] ?? query;
  const start = params['start'] ?? '0';
  const max = params['max_results'] ?? '10';
  if (idList !== '') {
    const candidates = recordings.filter((r) => (r.params.get('id_list') ?? '') !== '');
    // An exact match first; otherwise the same ids regardless of version
    // (a lookup of 2104.12255 is answered by the recording of 2104.12255v1).
    return (
      candidates.find((r) => idSet(r.params.get('id_list') ?? '', false) === idSet(idList, false)) ??
      candidates.find((r) => idSet(r.params.get('id_list') ?? '', true) === idSet(idList, true))
    );
  }
  return recordings.find(
    (r) =>
      (r.params.get('id_list') ?? '') === '' &&
      r.params.get('search_query') === searched &&
      r.params.get('start') === start &&
      r.params.get('max_results') === max,
  );
}

function oaiError(code: string, message: string, request: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${OAI_ROOT}\n<responseDate>${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}</responseDate>\n${request}\n<error code="${code}">${escapeXml(message)}</error>\n</OAI-PMH>\n`;
}

/** Starts the fixture server on 127.0.0.1 and an ephemeral port. */
export async function startArxivServer(options: ArxivServerOptions): Promise<ArxivFixtureServer> {
  const pageSize = options.oaiPageSize ?? 2;
  const oaiRecords = loadOaiRecords(options.sharedData);
  const pages: OaiFixtureRecord[][] = [];
  for (let i = 0; i < oaiRecords.length; i += pageSize) pages.push(oaiRecords.slice(i, i + pageSize));
  const recordings = loadApiRecordings(options.sharedData);
  const requests: RecordedRequest[] = [];
  let generation = 1;
  let noRecords = false;

  const oai = (req: RecordedRequest, base: string): FixtureResponse => {
    const p = req.params;
    const attrs = Object.entries(p)
      .map(([k, v]) => `${k}="${escapeXml(v)}"`)
      .join(' ');
    const request = `<request ${attrs}>${escapeXml(base)}</request>`;
    if (p['verb'] !== 'ListRecords') return { status: 200, body: oaiError('badVerb', 'only ListRecords is recorded', request) };
    let page = 0;
    if (p['resumptionToken'] !== undefined) {
      if (Object.keys(p).length !== 2) {
        return { status: 200, body: oaiError('badArgument', 'resumptionToken is an exclusive argument', request) };
      }
      const m = /^fx-g(\d+)-p(\d+)$/.exec(p['resumptionToken']);
      if (m === null || Number(m[1]) !== generation || Number(m[2]) >= pages.length) {
        return { status: 200, body: oaiError('badResumptionToken', 'The value of the resumptionToken argument is invalid or expired.', request) };
      }
      page = Number(m[2]);
    } else {
      if (p['metadataPrefix'] !== 'arXiv' && p['metadataPrefix'] !== 'arXivRaw') {
        return { status: 200, body: oaiError('cannotDisseminateFormat', `unknown format ${p['metadataPrefix'] ?? ''}`, request) };
      }
      if (noRecords || pages.length === 0) {
        return { status: 200, body: oaiError('noRecordsMatch', 'No records match the request.', request) };
      }
    }
    const records = pages[page] ?? [];
    const last = page === pages.length - 1;
    const cursor = page * pageSize;
    const token = last
      ? `<resumptionToken cursor="${cursor}" completeListSize="${oaiRecords.length}"/>`
      : `<resumptionToken cursor="${cursor}" completeListSize="${oaiRecords.length}">fx-g${generation}-p${page + 1}</resumptionToken>`;
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n${OAI_ROOT}\n` +
      `<responseDate>${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}</responseDate>\n${request}\n<ListRecords>\n` +
      records.map((r) => r.xml).join('\n') +
      `\n${token}\n</ListRecords>\n</OAI-PMH>\n`;
    return { status: 200, body, headers: { 'content-type': 'text/xml; charset=utf-8' }, delayMs: options.oaiDelayMs };
  };

  const api = (req: RecordedRequest): FixtureResponse => {
    const rec = findApiRecording(recordings, req.params, options.apiAliases ?? {});
    if (rec === undefined) return { status: 404, body: `no recording for ${JSON.stringify(req.params)}` };
    return { status: rec.status, body: readFileSync(rec.file, 'utf8'), headers: { 'content-type': 'application/atom+xml; charset=utf-8' } };
  };

  const listing = (): FixtureResponse => {
    if (options.listingFile === undefined) return { status: 404, body: 'no listing fixture configured' };
    return { status: 200, body: readFileSync(options.listingFile, 'utf8'), headers: { 'content-type': 'application/atom+xml; charset=utf-8' } };
  };

  let base = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    const recorded: RecordedRequest = {
      path: url.pathname,
      params: Object.fromEntries(url.searchParams),
      at: performance.now(),
      userAgent: req.headers['user-agent'],
    };
    requests.push(recorded);
    const answer =
      options.handle?.(recorded) ??
      (url.pathname === '/oai'
        ? oai(recorded, `${base}/oai`)
        : url.pathname === '/api/query'
          ? api(recorded)
          : /^\/(atom|rss)\//.test(url.pathname)
            ? listing()
            : { status: 404, body: 'not found' });
    const send = (): void => {
      if (res.destroyed) return;
      res.writeHead(answer.status, { 'content-type': 'text/xml; charset=utf-8', ...answer.headers });
      res.end(answer.body);
    };
    if (answer.delayMs !== undefined && answer.delayMs > 0) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    oaiUrl: `${base}/oai`,
    apiUrl: `${base}/api/query`,
    listingUrl: `${base}/atom`,
    requests,
    oaiRecords,
    oaiPages: pages.map((p) => p.map((r) => r.arxivId)),
    setNoRecords(on) {
      noRecords = on;
    },
    expireTokens() {
      generation += 1;
    },
    oaiRequests: () => requests.filter((r) => r.path === '/oai' && r.params['verb'] === 'ListRecords'),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
