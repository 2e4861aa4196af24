/**
 * Collection pages: the public list `/collections`, my collections
 * `/collections/mine`, one collection `/collections/:id` with its BibTeX
 * (`.bib`) and RSS (`.rss`) exports, the owner's forms (edit, delete, add,
 * note, move, remove, import a .bib file), and "save to collection": a side
 * panel on paper pages and `/papers/:id/save`, which the Save link of cards
 * leads to (cards sit on cached pages, so they carry no one's collections).
 *
 * Paper ids in URLs are encoded as one segment (`hep-th%2F9901001`), so
 * old-style ids with their slash work; forms post them as fields.
 */
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { entriesByIds, type FeedEntry } from '../feeds/feed.js';
import { renderRss, type SyndicationItem } from '../feeds/syndication.js';
import { parseArxivId } from '../papers/arxiv-id.js';
import { bibtexText, toBibtex } from '../papers/citation.js';
import type { Paper } from '../papers/repository.js';
import {
  addPaper,
  collectionItems,
  collectionsHolding,
  collectionsOf,
  createCollection,
  deleteCollection,
  importBibtex,
  listPublicCollections,
  MAX_DESCRIPTION,
  MAX_NAME,
  MAX_NOTE,
  movePaper,
  paperIdsByArxivId,
  removePaper,
  setNote,
  updateCollection,
  visibleCollection,
  type Collection,
  type CollectionItem,
  type ImportReport,
  type Refusal,
} from '../people/collections.js';
import { csrfField, requireUser, requireWrite, safeNext, signedInId } from './auth.js';
import { authorList, paperPath } from './card.js';
import { sendError } from './errors.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import type { PaperPagePart, PaperPagePartLoader } from './paper-page.js';
import { notice, sendPrivatePage } from './private-page.js';
import { rateLimit } from './rate-limits.js';

/** The largest .bib file (upload or pasted text) an import reads. */
export const MAX_IMPORT_BYTES = 1024 * 1024;
const PUBLIC_PAGE_SIZE = 50;

/** Root-relative URL of a collection's page. */
export function collectionPath(id: number): string {
  return `/collections/${id}`;
}

/** A paper's URL segment under a collection: its id encoded as one segment. */
function paperSegment(arxivId: string): string {
  return encodeURIComponent(arxivId);
}

// --- form input ---

const nameField = z
  .string({ error: 'Give the collection a name.' })
  .trim()
  .min(1, 'Give the collection a name.')
  .max(MAX_NAME, `A name has at most ${MAX_NAME} characters.`);
const descriptionField = z.string().trim().max(MAX_DESCRIPTION, `A description has at most ${MAX_DESCRIPTION} characters.`).default('');
const noteField = z.string().trim().max(MAX_NOTE, `A note has at most ${MAX_NOTE} characters.`).default('');
const nextField = z.string().max(2000).optional();

const CollectionForm = z.object({ name: nameField, description: descriptionField, public: z.string().optional() });
const AddForm = z.object({ paper: z.string().max(300).default(''), note: noteField });
const SaveForm = z.object({
  paper: z.string().max(300).default(''),
  collection: z.string().regex(/^(new|\d{1,15})$/, 'Choose a collection.').default('new'),
  newName: z.string().trim().max(MAX_NAME, `A name has at most ${MAX_NAME} characters.`).default(''),
  note: noteField,
  next: nextField,
});
const NoteForm = z.object({ note: noteField });
const MoveForm = z.object({
  position: z
    .string()
    .regex(/^\s*\d{1,6}\s*$/, 'The position is a whole number from 1.')
    .transform(Number)
    .refine((n) => n >= 1, 'The position is a whole number from 1.'),
});
const QueryForm = z.object({ q: z.string().max(200).optional(), p: z.string().regex(/^\d{1,6}$/).optional() });

/** The form's fields as text, to re-show what was typed. */
function typed(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null) return {};
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'The form is not valid.';
}

/** The id in `/collections/:id`, `.bib` or `.rss`. */
function parseFile(file: string): { id: number; format: 'html' | 'bib' | 'rss' } | null {
  const m = /^(\d{1,15})(?:\.(bib|rss))?$/.exec(file);
  if (!m) return null;
  return { id: Number(m[1]), format: (m[2] as 'bib' | 'rss' | undefined) ?? 'html' };
}

function parseCollectionId(raw: string): number | null {
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

function viewerId(req: FastifyRequest): number | null {
  return req.auth?.viewer.id ?? null;
}


// --- BibTeX and RSS exports ---

/** A collection as BibTeX: each paper's entry, its note in `note` (before the journal reference), keys made unique. */
export function collectionBibtex(entries: readonly { paper: Paper; note: string }[]): string {
  const used = new Map<string, number>();
  return entries
    .map(({ paper, note }) => {
      let entry = toBibtex(paper);
      const key = /^@misc\{([^,]*),/.exec(entry)?.[1] ?? '';
      const seen = used.get(key) ?? 0;
      used.set(key, seen + 1);
      // Two papers of one first author, year and title word would share a key.
      // Function replacements: a `$` in a title or note must not act as a replacement pattern.
      if (seen > 0) entry = entry.replace(`@misc{${key},`, () => `@misc{${key}${String.fromCharCode(97 + ((seen - 1) % 26))}${seen > 26 ? seen : ''},`);
      const clean = bibtexText(note);
      if (clean === '') return entry;
      const existing = /^ {2}note = \{(.*)\},$/m.exec(entry);
      return existing
        ? entry.replace(existing[0], () => `  note = {${clean}; ${existing[1] ?? ''}},`)
        : entry.replace(/\n\}\n$/, () => `\n  note = {${clean}},\n}\n`);
    })
    .join('\n');
}

function rssOf(ctx: AppContext, collection: Collection, items: readonly CollectionItem[], entries: ReadonlyMap<number, FeedEntry>): string {
  const base = ctx.config.baseUrl;
  const feedItems: SyndicationItem[] = items.flatMap((item) => {
    const paper = entries.get(item.paperId)?.paper;
    if (paper === undefined) return [];
    const added = new Date(item.addedAt);
    const url = `${base}${paperPath(paper.arxivId)}`;
    return [
      {
        id: url,
        url,
        title: paper.titleText,
        summary: item.note === '' ? paper.abstractText : `Note: ${item.note}\n\n${paper.abstractText}`,
        authors: paper.authors.map((a) => a.name),
        categories: paper.categories,
        published: added,
        updated: added,
      },
    ];
  });
  return renderRss({
    title: `${collection.name} · a collection by ${collection.owner}`,
    description: collection.description === '' ? `Papers ${collection.owner} collected on Paperboy.` : collection.description,
    selfUrl: `${base}${collectionPath(collection.id)}.rss`,
    htmlUrl: `${base}${collectionPath(collection.id)}`,
    id: `${base}${collectionPath(collection.id)}`,
    updated: new Date(collection.updatedAt),
    items: feedItems,
  });
}

// --- pieces of pages ---

function visibility(collection: { isPublic: boolean }): SafeHtml {
  return collection.isPublic ? html`<span class="badge">public</span>` : html`<span class="badge private">private</span>`;
}

function collectionList(collections: readonly Collection[], showOwner: boolean): SafeHtml {
  if (collections.length === 0) return html`<p class="muted">No collections yet.</p>`;
  return html`<ul class="collection-list">${collections.map(
    (c) => html`<li><a href="${collectionPath(c.id)}">${c.name}</a> ${visibility(c)}
<span class="muted small">${c.paperCount} ${c.paperCount === 1 ? 'paper' : 'papers'}${showOwner ? html` · by <a href="/u/${c.owner}">${c.owner}</a>` : ''} · changed <time datetime="${c.updatedAt}">${c.updatedAt.slice(0, 10)}</time></span>
${c.description === '' ? '' : html`<p class="small">${c.description}</p>`}</li>`,
  )}</ul>`;
}

interface CollectionFormValues {
  name?: string;
  description?: string;
  public?: boolean;
}

function collectionFields(prefix: string, values: CollectionFormValues): SafeHtml {
  return html`<p><label for="${prefix}-name">Name</label>
<input id="${prefix}-name" name="name" required maxlength="${MAX_NAME}" value="${values.name ?? ''}"></p>
<p><label for="${prefix}-description">Description <span class="muted small">(optional)</span></label>
<textarea id="${prefix}-description" name="description" rows="3" maxlength="${MAX_DESCRIPTION}">${values.description ?? ''}</textarea></p>
<p><input type="checkbox" id="${prefix}-public" name="public" value="on"${values.public === true ? html` checked` : ''}>
<label for="${prefix}-public">Public: anyone can see it and its papers</label></p>`;
}

interface SaveFormValues {
  collection?: string;
  newName?: string;
  note?: string;
}

/** The "save to collection" form for one paper: pick a collection (or name a new one) and add a note. */
function saveForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, paper: Paper, mine: readonly Collection[], next: string, prefix: string, values: SaveFormValues = {}): SafeHtml {
  const chosen = values.collection ?? (mine[0] === undefined ? 'new' : String(mine[0].id));
  return html`<form method="post" action="/collections/save" class="save-form">
${csrfField(ctx, req, reply)}
<input type="hidden" name="paper" value="${paper.arxivId}">
<input type="hidden" name="next" value="${next}">
<p><label for="${prefix}-collection">Collection</label>
<select id="${prefix}-collection" name="collection">
${mine.map((c) => html`<option value="${c.id}"${chosen === String(c.id) ? html` selected` : ''}>${c.name}</option>`)}
<option value="new"${chosen === 'new' ? html` selected` : ''}>A new collection…</option>
</select></p>
<p><label for="${prefix}-new">Name of the new collection <span class="muted small">(when "A new collection")</span></label>
<input id="${prefix}-new" name="newName" maxlength="${MAX_NAME}" value="${values.newName ?? ''}"></p>
<p><label for="${prefix}-note">Note <span class="muted small">(optional)</span></label>
<textarea id="${prefix}-note" name="note" rows="2" maxlength="${MAX_NOTE}">${values.note ?? ''}</textarea></p>
<p><button type="submit">Save to collection</button></p>
</form>`;
}

function holdingLine(mine: readonly Collection[], holding: ReadonlySet<number>): SafeHtml {
  const held = mine.filter((c) => holding.has(c.id));
  return held.length === 0
    ? html`<p class="small muted">In none of your collections.</p>`
    : html`<p class="small">In your collections: ${held.map((c, i) => html`${i > 0 ? ', ' : ''}<a href="${collectionPath(c.id)}">${c.name}</a>`)}</p>`;
}

/** The paper page's "Collections" panel: where the viewer keeps the paper, and the form to save it. */
export const collectionsPart: PaperPagePartLoader = async (ctx, req, reply, paper): Promise<PaperPagePart> => {
  const auth = req.auth;
  const heading = html`<h2 id="collections-h">Collections</h2>`;
  if (auth?.via !== 'session') {
    return {
      etag: 'collections:anonymous',
      side: html`<section class="panel" aria-labelledby="collections-h">${heading}
<p class="small"><a href="/login?next=${encodeURIComponent(paperPath(paper.arxivId))}">Log in to save this paper to a collection</a>.</p></section>`,
    };
  }
  const [mine, holding] = await Promise.all([collectionsOf(ctx.database, auth.viewer.id), collectionsHolding(ctx.database, auth.viewer.id, paper.id)]);
  const state = mine.map((c) => `${c.id}:${c.updatedAt}:${holding.has(c.id) ? 1 : 0}`).join(',');
  return {
    etag: `collections:${auth.viewer.id}:${createHash('sha1').update(state).digest('base64url')}`,
    side: html`<section class="panel" aria-labelledby="collections-h">${heading}
${holdingLine(mine, holding)}
${saveForm(ctx, req, reply, paper, mine, `${paperPath(paper.arxivId)}#collections-h`, 'side')}
</section>`,
  };
};

// --- pages ---

async function showPublicList(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const query = QueryForm.safeParse(req.query ?? {});
  if (!query.success) return sendError(req, reply, 400, 'Invalid request: q is at most 200 characters and p a page number.');
  const q = query.data.q ?? '';
  const page = Number(query.data.p ?? '0');
  const { collections, more } = await listPublicCollections(ctx.database, { q, limit: PUBLIC_PAGE_SIZE, offset: page * PUBLIC_PAGE_SIZE });
  const link = (p: number): string => `/collections?${new URLSearchParams({ ...(q === '' ? {} : { q }), p: String(p) }).toString()}`;
  const body = html`<h1>Collections</h1>
<p>Reading lists people on this instance made public.${req.auth === null ? '' : html` <a href="/collections/mine">Your collections</a>.`}</p>
<form method="get" action="/collections" class="inline-form" role="search">
<label for="collections-q">Find collections</label> <input id="collections-q" name="q" type="search" maxlength="200" value="${q}">
<button type="submit">Search</button></form>
${q === '' ? '' : html`<p class="small muted">Collections whose name or description contains "${q}".</p>`}
${collectionList(collections, true)}
<nav class="pager" aria-label="Pages">${page > 0 ? html`<a href="${link(page - 1)}">Newer</a> ` : ''}${more ? html`<a href="${link(page + 1)}">Older</a>` : ''}</nav>`;
  return sendPrivatePage(reply, 200, layout({ title: 'Collections · Paperboy' }, body));
}

async function showMine(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, status = 200, error?: string, values: CollectionFormValues = {}): Promise<FastifyReply> {
  const mine = await collectionsOf(ctx.database, signedInId(req));
  const body = html`<h1>Your collections</h1>
${error === undefined ? '' : notice(error, 'alert')}
${collectionList(mine, false)}
<section aria-labelledby="new-collection-h"><h2 id="new-collection-h">New collection</h2>
<form method="post" action="/collections">
${csrfField(ctx, req, reply)}
${collectionFields('new', values)}
<p><button type="submit">Create collection</button></p>
</form></section>
<p><a href="/collections">Public collections of everyone</a></p>`;
  return sendPrivatePage(reply, status, layout({ title: 'Your collections · Paperboy' }, body));
}

interface PageState {
  status?: number;
  error?: string;
  edit?: CollectionFormValues;
  add?: { paper?: string; note?: string };
  report?: ImportReport;
}

function importReport(report: ImportReport): SafeHtml {
  const list = (entries: readonly { key: string | null; line: number }[], why?: (i: number) => string): SafeHtml =>
    html`<ul>${entries.map((e, i) => html`<li><code>${e.key ?? '(no key)'}</code> (line ${e.line})${why ? `: ${why(i)}` : ''}</li>`)}</ul>`;
  return html`<section class="panel import-report" aria-labelledby="import-report-h" role="status"><h2 id="import-report-h">Import result</h2>
<p>${report.matched.length} added, ${report.alreadyPresent.length} already in the collection, ${report.unmatched.length} not matched.</p>
${report.matched.length > 0 ? html`<h3>Added</h3>${list(report.matched, (i) => `arXiv:${report.matched[i]?.arxivId ?? ''}`)}` : ''}
${report.alreadyPresent.length > 0 ? html`<h3>Already in the collection</h3>${list(report.alreadyPresent)}` : ''}
${report.unmatched.length > 0 ? html`<h3>Not matched</h3>${list(report.unmatched, (i) => report.unmatched[i]?.reason ?? '')}` : ''}
</section>`;
}

function itemControls(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, collection: Collection, item: CollectionItem, count: number): SafeHtml {
  const base = `${collectionPath(collection.id)}/papers/${paperSegment(item.arxivId)}`;
  const csrf = csrfField(ctx, req, reply);
  const n = item.position;
  const hidden = html`<span class="visually-hidden"> ${item.title}</span>`;
  const move = (to: number, label: string): SafeHtml =>
    html`<form method="post" action="${base}/move" class="inline-form">${csrf}<input type="hidden" name="position" value="${to}"><button type="submit" class="secondary">${label}${hidden}</button></form>`;
  return html`<div class="collection-controls">
<details><summary>Edit note<span class="visually-hidden"> of ${item.title}</span></summary>
<form method="post" action="${base}">${csrf}
<p><label for="note-${n}">Note</label> <textarea id="note-${n}" name="note" rows="3" maxlength="${MAX_NOTE}">${item.note}</textarea></p>
<p><button type="submit">Save note</button></p></form></details>
${n > 1 ? move(n - 1, 'Move up') : ''}
${n < count ? move(n + 1, 'Move down') : ''}
<form method="post" action="${base}/move" class="inline-form">${csrf}<label for="pos-${n}">Position</label> <input id="pos-${n}" name="position" type="number" min="1" max="${count}" value="${n}" size="4"> <button type="submit" class="secondary">Move${hidden}</button></form>
<form method="post" action="${base}/remove" class="inline-form">${csrf}<button type="submit" class="secondary">Remove${hidden}</button></form>
</div>`;
}

async function showCollection(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, collection: Collection, state: PageState = {}): Promise<FastifyReply> {
  const owner = collection.ownerId === viewerId(req) && req.auth?.via === 'session';
  const items = await collectionItems(ctx.database, collection.id);
  const entries = new Map((await entriesByIds(ctx.database, items.map((i) => i.paperId))).map((e) => [e.paper.id, e]));
  const path = collectionPath(collection.id);
  const csrf = owner ? csrfField(ctx, req, reply) : html``;
  const body = html`<article class="collection" aria-labelledby="collection-title">
<header>
<h1 id="collection-title">${collection.name}</h1>
<p class="meta">${visibility(collection)} <span>by <a href="/u/${collection.owner}">${collection.owner}</a></span>
<span>${items.length} ${items.length === 1 ? 'paper' : 'papers'}</span>
<span>changed <time datetime="${collection.updatedAt}">${collection.updatedAt.slice(0, 10)}</time></span></p>
${collection.description === '' ? '' : html`<p class="collection-description">${collection.description}</p>`}
<p class="cite-links"><a class="button secondary" href="${path}.bib" download>Export BibTeX (.bib)</a> <a class="button secondary" href="${path}.rss">RSS feed</a></p>
</header>
${state.error === undefined ? '' : notice(state.error, 'alert')}
${state.report === undefined ? '' : importReport(state.report)}
${
  items.length === 0
    ? html`<p class="muted">No papers in this collection yet.</p>`
    : html`<ol class="collection-items">${items.map((item) => {
        const paper = entries.get(item.paperId)?.paper;
        return html`<li id="paper-${item.position}" class="collection-item">
<h2 class="tex"><a href="${paperPath(item.arxivId)}">${paper?.title ?? item.title}</a></h2>
${paper === undefined ? '' : html`<p class="authors">${authorList(paper)}</p>`}
<p class="meta small"><span>arXiv:${item.arxivId}</span> <span>added <time datetime="${item.addedAt}">${item.addedAt.slice(0, 10)}</time></span></p>
${item.note === '' ? '' : html`<p class="collection-note">${item.note}</p>`}
${owner ? itemControls(ctx, req, reply, collection, item, items.length) : ''}
</li>`;
      })}</ol>`
}
${
  owner
    ? html`<section aria-labelledby="add-h"><h2 id="add-h">Add a paper</h2>
<form method="post" action="${path}/papers">${csrf}
<p><label for="add-paper">arXiv id or URL</label> <input id="add-paper" name="paper" required maxlength="300" value="${state.add?.paper ?? ''}"></p>
<p><label for="add-note">Note <span class="muted small">(optional)</span></label> <textarea id="add-note" name="note" rows="2" maxlength="${MAX_NOTE}">${state.add?.note ?? ''}</textarea></p>
<p><button type="submit">Add paper</button></p></form></section>
<section aria-labelledby="import-h"><h2 id="import-h">Import a BibTeX file</h2>
<p class="small">Entries are matched to papers of this instance by arXiv id (eprint, arXiv URLs, "arXiv:…" in journal or note), else by DOI. At most 1 MB.</p>
<form method="post" action="${path}/import" enctype="multipart/form-data">${csrf}
<p><label for="import-file">.bib file</label> <input id="import-file" name="file" type="file" accept=".bib,text/x-bibtex,application/x-bibtex,text/plain"></p>
<p><label for="import-text">or BibTeX text</label> <textarea id="import-text" name="bibtex" rows="4"></textarea></p>
<p><button type="submit">Import</button></p></form></section>
<section aria-labelledby="edit-h"><h2 id="edit-h">Edit collection</h2>
<form method="post" action="${path}">${csrf}
${collectionFields('edit', state.edit ?? { name: collection.name, description: collection.description, public: collection.isPublic })}
<p><button type="submit">Save changes</button></p></form>
<form method="post" action="${path}/delete">${csrf}<p><button type="submit" class="secondary">Delete this collection</button> <span class="small muted">The papers stay on Paperboy; only the list goes.</span></p></form>
</section>`
    : ''
}
</article>`;
  const alternates = collection.isPublic ? [{ title: `${collection.name} (RSS)`, href: `${path}.rss`, type: 'application/rss+xml' as const }] : [];
  return sendPrivatePage(reply, state.status ?? 200, layout({ title: `${collection.name} · Paperboy`, alternates, math: true }, body));
}

async function showFile(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, file: string): Promise<FastifyReply> {
  const parsed = parseFile(file);
  if (parsed === null) return sendError(req, reply, 404, `Nothing at /collections/${file.slice(0, 80)}.`);
  const collection = await visibleCollection(ctx.database, viewerId(req), parsed.id);
  if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${parsed.id}.`);
  if (parsed.format === 'html') return showCollection(ctx, req, reply, collection);
  const items = await collectionItems(ctx.database, collection.id);
  const entries = new Map((await entriesByIds(ctx.database, items.map((i) => i.paperId))).map((e) => [e.paper.id, e]));
  // A private collection's export is its owner's alone: no cache may keep it.
  reply.header('cache-control', collection.isPublic ? 'no-cache' : 'private, no-store');
  if (parsed.format === 'rss') return reply.type('application/rss+xml; charset=utf-8').send(rssOf(ctx, collection, items, entries));
  const papers = items.flatMap((i) => {
    const paper = entries.get(i.paperId)?.paper;
    return paper === undefined ? [] : [{ paper, note: i.note }];
  });
  return reply
    .type('application/x-bibtex; charset=utf-8')
    .header('content-disposition', `attachment; filename="collection-${collection.id}.bib"`)
    .send(collectionBibtex(papers));
}

/** Answers a refusal: a missing or foreign collection with an error page, anything else with the page and the message. */
async function refused(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number, refusal: Refusal, state: PageState = {}): Promise<FastifyReply> {
  if (refusal.status === 404 || refusal.status === 403) return sendError(req, reply, refusal.status, refusal.message);
  const collection = await visibleCollection(ctx.database, viewerId(req), id);
  if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${id}.`);
  return showCollection(ctx, req, reply, collection, { ...state, status: refusal.status, error: refusal.message });
}

async function paperIdFor(ctx: AppContext, raw: string): Promise<{ paperId: number; arxivId: string } | string> {
  const id = parseArxivId(raw)?.id;
  if (id === undefined) return `"${raw.slice(0, 80)}" is not an arXiv id (they look like 2106.09685 or hep-th/9901001).`;
  const found = (await paperIdsByArxivId(ctx.database, [id])).get(id);
  return found === undefined ? `There is no paper ${id} in this Paperboy instance.` : { paperId: found, arxivId: id };
}

async function showSavePage(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, raw: string, status = 200, error?: string, values: SaveFormValues = {}): Promise<FastifyReply> {
  const id = parseArxivId(raw)?.id;
  const entry = id === undefined ? undefined : (await entriesByIds(ctx.database, [...(await paperIdsByArxivId(ctx.database, [id])).values()]))[0];
  if (entry === undefined) return sendError(req, reply, 404, `There is no paper ${raw.slice(0, 80)} in this Paperboy instance.`);
  const paper = entry.paper;
  const [mine, holding] = await Promise.all([collectionsOf(ctx.database, signedInId(req)), collectionsHolding(ctx.database, signedInId(req), paper.id)]);
  const body = html`<h1>Save to a collection</h1>
${error === undefined ? '' : notice(error, 'alert')}
<p class="tex"><a href="${paperPath(paper.arxivId)}">${paper.title}</a></p>
<p class="authors small">${authorList(paper)}</p>
${holdingLine(mine, holding)}
${saveForm(ctx, req, reply, paper, mine, paperPath(paper.arxivId), 'save', values)}`;
  return sendPrivatePage(reply, status, layout({ title: `Save ${paper.titleText} · Paperboy`, math: true }, body));
}

// --- actions ---

async function create(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const values = typed(req.body);
  const form = CollectionForm.safeParse(req.body ?? {});
  const shown = { name: values.name, description: values.description, public: values.public === 'on' };
  if (!form.success) return showMine(ctx, req, reply, 400, firstMessage(form.error), shown);
  const made = await createCollection(ctx.database, signedInId(req), { name: form.data.name, description: form.data.description, isPublic: form.data.public === 'on' });
  if (!made.ok) return showMine(ctx, req, reply, made.status, made.message, shown);
  return reply.redirect(collectionPath(made.value.id), 303);
}

async function update(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number): Promise<FastifyReply> {
  const values = typed(req.body);
  const form = CollectionForm.safeParse(req.body ?? {});
  const edit = { name: values.name, description: values.description, public: values.public === 'on' };
  if (!form.success) return refused(ctx, req, reply, id, { ok: false, status: 400, message: firstMessage(form.error) }, { edit });
  const done = await updateCollection(ctx.database, signedInId(req), id, { name: form.data.name, description: form.data.description, isPublic: form.data.public === 'on' });
  if (!done.ok) return refused(ctx, req, reply, id, done, { edit });
  return reply.redirect(collectionPath(id), 303);
}

async function remove(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number): Promise<FastifyReply> {
  const done = await deleteCollection(ctx.database, signedInId(req), id);
  if (!done.ok) return sendError(req, reply, done.status, done.message);
  return reply.redirect('/collections/mine', 303);
}

async function add(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number): Promise<FastifyReply> {
  const values = typed(req.body);
  const form = AddForm.safeParse(req.body ?? {});
  const state = { add: { paper: values.paper, note: values.note } };
  if (!form.success) return refused(ctx, req, reply, id, { ok: false, status: 400, message: firstMessage(form.error) }, state);
  const paper = await paperIdFor(ctx, form.data.paper);
  if (typeof paper === 'string') return refused(ctx, req, reply, id, { ok: false, status: 422, message: paper }, state);
  const done = await addPaper(ctx.database, signedInId(req), id, paper.paperId, { note: form.data.note });
  if (!done.ok) return refused(ctx, req, reply, id, done, state);
  return reply.redirect(collectionPath(id), 303);
}

async function save(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const values = typed(req.body);
  const form = SaveForm.safeParse(req.body ?? {});
  const shown = { collection: values.collection, newName: values.newName, note: values.note };
  const again = (status: number, message: string) => showSavePage(ctx, req, reply, values.paper ?? '', status, message, shown);
  if (!form.success) return again(400, firstMessage(form.error));
  const paper = await paperIdFor(ctx, form.data.paper);
  if (typeof paper === 'string') return sendError(req, reply, 404, paper);
  let id: number;
  if (form.data.collection === 'new') {
    if (form.data.newName === '') return again(400, 'Give the new collection a name.');
    const made = await createCollection(ctx.database, signedInId(req), { name: form.data.newName });
    if (!made.ok) return again(made.status, made.message);
    id = made.value.id;
  } else id = Number(form.data.collection);
  const done = await addPaper(ctx.database, signedInId(req), id, paper.paperId, { note: form.data.note });
  if (!done.ok) return done.status === 404 || done.status === 403 ? sendError(req, reply, done.status, done.message) : again(done.status, done.message);
  return reply.redirect(form.data.next === undefined ? collectionPath(id) : safeNext(form.data.next), 303);
}

type ItemAction = 'note' | 'move' | 'remove';

async function itemAction(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number, rawPaper: string, action: ItemAction): Promise<FastifyReply> {
  const paper = await paperIdFor(ctx, rawPaper);
  if (typeof paper === 'string') return sendError(req, reply, 404, paper);
  const userId = signedInId(req);
  let done;
  if (action === 'remove') done = await removePaper(ctx.database, userId, id, paper.paperId);
  else if (action === 'note') {
    const form = NoteForm.safeParse(req.body ?? {});
    if (!form.success) return refused(ctx, req, reply, id, { ok: false, status: 400, message: firstMessage(form.error) });
    done = await setNote(ctx.database, userId, id, paper.paperId, form.data.note);
  } else {
    const form = MoveForm.safeParse(req.body ?? {});
    if (!form.success) return refused(ctx, req, reply, id, { ok: false, status: 400, message: firstMessage(form.error) });
    done = await movePaper(ctx.database, userId, id, paper.paperId, form.data.position);
  }
  if (!done.ok) return refused(ctx, req, reply, id, done);
  return reply.redirect(collectionPath(id), 303);
}

/** The BibTeX of an import form: the uploaded file and the pasted text, either or both. */
function importText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { file, bibtex } = body as Record<string, unknown>;
  const parts = [Buffer.isBuffer(file) ? file.toString('utf8') : typeof file === 'string' ? file : '', typeof bibtex === 'string' ? bibtex : ''];
  return parts.filter((p) => p.trim() !== '').join('\n');
}

async function importForm(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number): Promise<FastifyReply> {
  const text = importText(req.body);
  if (text === '') return refused(ctx, req, reply, id, { ok: false, status: 400, message: 'Choose a .bib file or paste BibTeX to import.' });
  if (Buffer.byteLength(text) > MAX_IMPORT_BYTES) return refused(ctx, req, reply, id, { ok: false, status: 422, message: 'The BibTeX is over 1 MB: split it into smaller files.' });
  const done = await importBibtex(ctx.database, signedInId(req), id, text);
  if (!done.ok) return refused(ctx, req, reply, id, done);
  const collection = await visibleCollection(ctx.database, signedInId(req), id);
  if (collection === undefined) return sendError(req, reply, 404, `There is no collection ${id}.`);
  return showCollection(ctx, req, reply, collection, { report: done.value });
}

/** Wraps a handler of `/collections/:id/...`: a non-numeric id is a 404. */
function withId(handler: (ctx: AppContext, req: FastifyRequest, reply: FastifyReply, id: number) => Promise<FastifyReply>, ctx: AppContext) {
  return (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<FastifyReply> | FastifyReply => {
    const id = parseCollectionId(req.params.id);
    return id === null ? sendError(req, reply, 404, `There is no collection ${req.params.id.slice(0, 80)}.`) : handler(ctx, req, reply, id);
  };
}

/** Registers the collection pages and form actions, and the save page of papers. */
export function collectionRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // Only these routes read multipart forms (the import's file upload).
    await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: MAX_IMPORT_BYTES, fieldSize: MAX_IMPORT_BYTES, files: 1, fields: 10 } });
    const write = { config: rateLimit(ctx.config, 'write'), preHandler: requireWrite(ctx) };
    const signedIn = { preHandler: requireUser };

    app.get('/collections', (req, reply) => showPublicList(ctx, req, reply));
    app.get('/collections/mine', signedIn, (req, reply) => showMine(ctx, req, reply));
    app.post('/collections', write, (req, reply) => create(ctx, req, reply));
    app.post('/collections/save', write, (req, reply) => save(ctx, req, reply));
    app.get<{ Params: { file: string } }>('/collections/:file', (req, reply) => showFile(ctx, req, reply, req.params.file));
    app.post<{ Params: { id: string } }>('/collections/:id', write, withId(update, ctx));
    app.post<{ Params: { id: string } }>('/collections/:id/delete', write, withId(remove, ctx));
    app.post<{ Params: { id: string } }>('/collections/:id/papers', write, withId(add, ctx));
    app.post<{ Params: { id: string } }>('/collections/:id/import', write, withId(importForm, ctx));
    const actions: [string, ItemAction][] = [
      ['', 'note'],
      ['/move', 'move'],
      ['/remove', 'remove'],
    ];
    for (const [suffix, action] of actions) {
      app.post<{ Params: { id: string; paper: string } }>(`/collections/:id/papers/:paper${suffix}`, write, (req, reply) => {
        const id = parseCollectionId(req.params.id);
        return id === null ? sendError(req, reply, 404, `There is no collection ${req.params.id.slice(0, 80)}.`) : itemAction(ctx, req, reply, id, req.params.paper, action);
      });
    }
    app.get<{ Params: { id: string } }>('/papers/:id/save', signedIn, (req, reply) => showSavePage(ctx, req, reply, req.params.id));
    app.get<{ Params: { archive: string; num: string } }>('/papers/:archive/:num/save', signedIn, (req, reply) =>
      showSavePage(ctx, req, reply, `${req.params.archive}/${req.params.num}`),
    );
  };
}
