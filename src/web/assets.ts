/**
 * Static assets: our stylesheet and script plus KaTeX from its npm package, so
 * math renders with no CDN. Read once when the app is built, served from memory
 * with a content hash in the URL and an immutable cache lifetime.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../public');
const KATEX_DIR = dirname(createRequire(import.meta.url).resolve('katex'));

function load(file: string): Asset {
  const body = readFileSync(file);
  return {
    body,
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    hash: createHash('sha256').update(body).digest('hex').slice(0, 12),
  };
}

/** Every servable asset by URL path below /static/. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(PUBLIC_DIR)) assets.set(name, load(join(PUBLIC_DIR, name)));
  assets.set('katex/katex.min.css', load(join(KATEX_DIR, 'katex.min.css')));
  assets.set('katex/katex.min.js', load(join(KATEX_DIR, 'katex.min.js')));
  assets.set('katex/auto-render.min.js', load(join(KATEX_DIR, 'contrib/auto-render.min.js')));
  // The stylesheet lists woff2 first; every browser that runs KaTeX reads it.
  for (const font of readdirSync(join(KATEX_DIR, 'fonts')).filter((f) => f.endsWith('.woff2'))) {
    assets.set(`katex/fonts/${font}`, load(join(KATEX_DIR, 'fonts', font)));
  }
  return assets;
}

let cached: Map<string, Asset> | undefined;
function assets(): Map<string, Asset> {
  cached ??= loadAssets();
  return cached;
}

/** The URL of an asset, versioned by its content so it can be cached forever. */
export function assetUrl(name: string): string {
  const asset = assets().get(name);
  if (asset === undefined) throw new Error(`unknown asset ${name}`);
  return `/static/${name}?v=${asset.hash}`;
}

export const assetRoutes: FastifyPluginAsync = async (app) => {
  assets();
  app.get<{ Params: { '*': string } }>('/static/*', async (req, reply) => {
    const asset = assets().get(req.params['*']);
    if (asset === undefined) return reply.callNotFound();
    return reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('etag', `"${asset.hash}"`)
      .send(asset.body);
  });
};
