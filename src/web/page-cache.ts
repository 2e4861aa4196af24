/**
 * A cache of rendered public pages. A feed page is 50 cards (about 130 kB of
 * HTML); rendering, hashing and encoding it cost about 8 ms of CPU, which
 * capped the daily feed at about 130 requests/s on one core. Served from here it costs
 * about 0.2 ms.
 *
 * An entry is valid while the database is unchanged and for at most `ttlMs`
 * (pages such as trending depend on the clock). "Unchanged" is the database's
 * data version (src/db/change-counter.ts), which any process's commit moves,
 * so several web processes never serve a page older than the last write.
 * Only anonymous, public pages may be cached here.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { dataVersion } from '../db/change-counter.js';
import type { Database } from '../db/connection.js';
import type {} from './auth.js';

interface Entry {
  body: Buffer;
  gzip: Buffer | undefined;
  etag: string;
  type: string;
  version: string;
  expires: number;
}

export interface PageCacheOptions {
  maxEntries: number;
  ttlMs: number;
}

// Vary on the cookie too: a browser that has just signed in must not reuse the
// anonymous copy it cached (the session cookie changes its Cookie header).
const CACHE_CONTROL = 'public, max-age=60';

export class PageCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly database: Database,
    private readonly options: PageCacheOptions = { maxEntries: 300, ttlMs: 60_000 },
  ) {}

  /** Sends the cached page for this request's URL if it is still valid; returns whether it did. */
  async trySend(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    // A signed-in person's page carries their name and forms: never shared, never served to them from here.
    if (req.auth !== null) return false;
    const entry = this.entries.get(req.url);
    if (entry === undefined) return false;
    if (entry.version !== (await dataVersion(this.database)) || entry.expires <= Date.now()) {
      this.entries.delete(req.url);
      return false;
    }
    // Re-insert to keep the map in least-recently-used order.
    this.entries.delete(req.url);
    this.entries.set(req.url, entry);
    this.send(req, reply, entry);
    return true;
  }

  /**
   * Sends a freshly rendered page and keeps it for the next requests of the
   * same URL. `version` must be read before rendering (see `snapshot`), so a
   * write during rendering invalidates the entry instead of hiding behind it.
   */
  store(req: FastifyRequest, reply: FastifyReply, version: string, html: string, type = 'text/html; charset=utf-8'): FastifyReply {
    if (req.auth !== null) return reply.type(type).header('cache-control', 'private, no-cache').send(html);
    const body = Buffer.from(html, 'utf8');
    const entry: Entry = {
      body,
      gzip: undefined,
      etag: `W/"${createHash('sha1').update(body).digest('base64url')}"`,
      type,
      version,
      expires: Date.now() + this.options.ttlMs,
    };
    this.entries.set(req.url, entry);
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return this.send(req, reply, entry);
  }

  /** The database version to pass to `store`, read before rendering. */
  snapshot(): Promise<string> {
    return dataVersion(this.database);
  }

  private send(req: FastifyRequest, reply: FastifyReply, entry: Entry): FastifyReply {
    reply.type(entry.type).header('cache-control', CACHE_CONTROL).header('vary', 'accept-encoding, cookie').header('etag', entry.etag);
    const accepts = req.headers['accept-encoding'];
    if (typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
      entry.gzip ??= gzipSync(entry.body);
      return reply.header('content-encoding', 'gzip').send(entry.gzip);
    }
    return reply.send(entry.body);
  }
}
