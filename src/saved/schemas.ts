/**
 * Saved searches in the JSON API: input and output schemas and the
 * endpoints for the OpenAPI document (src/api/schemas.ts lists them). Kept
 * apart from that file, which imports this one, so nothing here may import
 * it at run time (types only).
 */
import { z } from 'zod';
import type { Endpoint } from '../api/schemas.js';
import { MAX_CATEGORIES, MAX_NAME, MAX_QUERY, MAX_SAVED_SEARCHES } from './repository.js';
import { MAX_WEBHOOK_URL } from './webhook-url.js';

const Empty = z.strictObject({});
const dateTime = z.string().meta({ format: 'date-time', examples: ['2026-12-04T10:15:00.000Z'] });
const mode = z.enum(['keyword', 'semantic', 'hybrid'], { error: 'must be keyword, semantic or hybrid' });
const name = z.string({ error: 'must be a string' }).max(MAX_NAME, `must be at most ${MAX_NAME} characters`);
const webhookUrl = z.string({ error: 'must be a URL or null' }).max(MAX_WEBHOOK_URL, `must be at most ${MAX_WEBHOOK_URL} characters`).nullable();

/** `/api/saved-searches/{id}`. */
export const SavedSearchIdParams = z.strictObject({
  id: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a saved search number')
    .transform(Number)
    .describe('Saved search id.'),
});

/** `POST /api/saved-searches`. */
export const NewSavedSearchBody = z
  .strictObject({
    name: name.optional().describe(`At most ${MAX_NAME} characters; default: the query.`),
    query: z.string({ error: 'is required: what to search for' }).max(MAX_QUERY, `must be at most ${MAX_QUERY} characters`).describe('Search-box syntax.'),
    mode: mode.optional().describe('Default hybrid.'),
    categories: z.array(z.string().max(40)).max(MAX_CATEGORIES, `at most ${MAX_CATEGORIES}`).optional().describe('Categories or archives; a paper matches with any of them.'),
    featuredOnly: z.boolean({ error: 'must be true or false' }).optional(),
    emailAlert: z.boolean({ error: 'must be true or false' }).optional().describe('Email new matches (confirmed addresses only).'),
    webhookUrl: webhookUrl.optional().describe('http(s) URL to POST new matches to (Slack-compatible JSON, signed).'),
  })
  .describe('A search to save.');

/** `PATCH /api/saved-searches/{id}`. */
export const SavedSearchPatchBody = z
  .strictObject({
    name: name.optional(),
    emailAlert: z.boolean({ error: 'must be true or false' }).optional(),
    webhookUrl: webhookUrl.optional().describe('null or "" removes the webhook.'),
    rotateFeedToken: z.literal(true, { error: 'must be true' }).optional().describe('A new secret feed address; the old one stops working.'),
    rotateWebhookSecret: z.literal(true, { error: 'must be true' }).optional().describe('A new signing secret.'),
  })
  .describe('What to change; the query and filters stay (save another search instead).');

/** `GET /api/saved-searches/{id}/matches`. */
export const SavedMatchesQuery = z.strictObject({
  limit: z.preprocess((v) => (typeof v === 'string' && /^\d{1,4}$/.test(v) ? Number(v) : v), z.number({ error: 'must be a whole number' }).int().min(1).max(100).default(25)),
  before: z.string().max(200).optional().describe('The `next` of the previous page.'),
});

export const SavedSearchJson = z
  .object({
    id: z.number().int(),
    name: z.string(),
    query: z.string(),
    mode,
    categories: z.array(z.string()),
    featuredOnly: z.boolean(),
    emailAlert: z.boolean(),
    webhookUrl: z.string().nullable(),
    webhookSecret: z.string().nullable().describe('Signs each webhook call (HMAC-SHA256); null without a webhook.'),
    feeds: z.object({ rss: z.string(), atom: z.string() }).describe('Secret feed addresses: anyone holding one can read the matches.'),
    matchCount: z.number().int(),
    newCount: z.number().int().describe('Matches since you last marked the search seen.'),
    lastCheckedAt: dateTime.nullable(),
    lastSeenAt: dateTime.nullable(),
    createdAt: dateTime,
    url: z.string(),
  })
  .describe('A saved search of yours.');
export type SavedSearchJson = z.infer<typeof SavedSearchJson>;

export const SavedMatchJson = z
  .object({
    paper: z.object({ id: z.string(), title: z.string(), authors: z.string(), url: z.string() }),
    matchedAt: dateTime,
    score: z.number(),
    new: z.boolean().describe('Found since you last marked the search seen.'),
  })
  .describe('A paper that newly matched a saved search.');
export type SavedMatchJson = z.infer<typeof SavedMatchJson>;

export const SavedMatchesPage = z
  .object({ items: z.array(SavedMatchJson), next: z.string().nullable().describe('Pass as `before` for the next page; null at the end.') })
  .describe('A page of matches, newest first.');
export type SavedMatchesPage = z.infer<typeof SavedMatchesPage>;

/** The saved-search endpoints of the OpenAPI document. */
export function savedSearchEndpoints(): Endpoint[] {
  const signIn = 'Sign in (a session) or send `Authorization: Bearer <token>`.';
  const write = 'Sign in (a session with its CSRF token in `x-csrf-token`) or send `Authorization: Bearer <token>` with a write-scope token.';
  const noStore = { 'Cache-Control': '`private, no-store`.' };
  const notYours = { 404: "No such saved search, or another person's (never revealed)." };
  return [
    {
      path: '/api/saved-searches',
      summary: 'Your saved searches',
      description: `Your saved searches with their match counts, oldest first. ${signIn}`,
      query: Empty,
      response: { component: 'SavedSearch', array: true },
      headers: noStore,
      errors: [400, 401],
      auth: 'user',
      example: '/api/saved-searches',
    },
    {
      method: 'post',
      path: '/api/saved-searches',
      summary: 'Save a search',
      description:
        `Saves a search (any query, mode and filters). A check job runs it against new papers every 15 minutes; new matches ` +
        `appear in \`/matches\`, the feeds, the optional email alert and the optional webhook. At most ${MAX_SAVED_SEARCHES} per person (else 409). ` +
        `Webhook URLs must be http(s) and, unless the instance sets WEBHOOK_ALLOW_PRIVATE, not loopback, private or link-local. ${write}`,
      query: Empty,
      body: NewSavedSearchBody,
      response: { component: 'SavedSearch', array: false, status: 201 },
      headers: { Location: 'The saved search in this API.', ...noStore },
      errors: [400, 401, 403, 409, 429],
      auth: 'write',
      example: '/api/saved-searches',
    },
    {
      path: '/api/saved-searches/{id}',
      summary: 'One saved search',
      description: `One of your saved searches, with its webhook secret. ${signIn}`,
      query: Empty,
      params: SavedSearchIdParams,
      response: { component: 'SavedSearch', array: false },
      headers: noStore,
      errors: [400, 401, 404],
      errorNotes: notYours,
      auth: 'user',
      example: '/api/saved-searches/1',
    },
    {
      method: 'patch',
      path: '/api/saved-searches/{id}',
      summary: 'Change a saved search',
      description: `Renames it, turns its email alert on or off, sets or removes its webhook, or rotates its feed address or webhook secret. ${write}`,
      query: Empty,
      params: SavedSearchIdParams,
      body: SavedSearchPatchBody,
      response: { component: 'SavedSearch', array: false },
      headers: noStore,
      errors: [400, 401, 403, 404, 429],
      errorNotes: notYours,
      auth: 'write',
      example: '/api/saved-searches/1',
    },
    {
      method: 'delete',
      path: '/api/saved-searches/{id}',
      summary: 'Delete a saved search',
      description: `Deletes it with its matches and webhook deliveries. ${write}`,
      query: Empty,
      params: SavedSearchIdParams,
      response: 'empty',
      errors: [400, 401, 403, 404, 429],
      errorNotes: notYours,
      auth: 'write',
      example: '/api/saved-searches/1',
    },
    {
      path: '/api/saved-searches/{id}/matches',
      summary: 'New matches of a saved search',
      description: `Papers that newly matched, newest first; keyset pagination with \`before\`. ${signIn}`,
      query: SavedMatchesQuery,
      params: SavedSearchIdParams,
      response: { component: 'SavedMatchesPage', array: false },
      headers: noStore,
      errors: [400, 401, 404],
      errorNotes: notYours,
      auth: 'user',
      example: '/api/saved-searches/1/matches?limit=10',
    },
  ];
}
