/**
 * Comment Markdown: what people may write in a comment and the HTML it
 * becomes.
 *
 * The subset: paragraphs and line breaks, emphasis, strikethrough, inline code
 * and code blocks, lists, blockquotes, rules, links (http, https and mailto
 * only, `rel="nofollow ugc noopener"`), bare URLs, and @mentions of existing
 * users. Raw HTML is shown as text, images become links to the image, headings
 * stay plain text (a comment has no sections), TeX math (`$…$`, `$$…$$`,
 * `\(…\)`, `\[…\]`) is kept verbatim, untouched by emphasis, for the page's
 * KaTeX.
 *
 * Two layers, so one mistake is not enough for a script to get through:
 * markdown-it with raw HTML switched off and a link allow-list produces the
 * markup, then sanitize-html keeps only the tags, attributes, classes and URL
 * schemes listed below.
 *
 * Comments are stored as Markdown and rendered when shown, not stored as HTML:
 * a tightened rule or a fixed sanitiser then applies to every old comment at
 * once, and mentions link only to accounts that exist when the page is shown.
 * Rendering costs tens of microseconds a comment, little next to a page.
 */
import markdownit, { type Env, type StateInline, type Token } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { escapeHtml } from '../web/html.js';

/** Link schemes a comment may use. */
const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;
const LINK_REL = 'nofollow ugc noopener';
/** `@name` where name is a possible username (src/accounts/users.ts USERNAME_RE). */
const MENTION = /^@([A-Za-z0-9][A-Za-z0-9_-]{2,29})(?![A-Za-z0-9_-])/;
/** Characters that may stand before an `@` that starts a mention (not an email address or a path). */
const MENTION_BEFORE = /[\s([{"'>*_~,;!?]/;

interface RenderEnv extends Env {
  /** Lower-cased usernames that exist: only these mentions become links. */
  knownUsers?: ReadonlySet<string>;
}

/** The end (exclusive) of `close` searched from `from`, skipping backslash-escaped characters; -1 if absent. */
function findClose(src: string, from: number, max: number, close: string): number {
  for (let i = from; i <= max - close.length; i++) {
    if (src[i] === '\\' && close !== '\\)' && close !== '\\]') {
      i++;
      continue;
    }
    if (src.startsWith(close, i)) return i + close.length;
  }
  return -1;
}

/**
 * TeX kept as text. For single dollars the pandoc rule applies (no space just
 * inside the delimiters, no digit right after the closing one), so "costs $5
 * and $10" stays prose.
 */
function mathRule(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state;
  let end = -1;
  if (src.startsWith('$$', pos)) {
    end = findClose(src, pos + 2, posMax, '$$');
    if (end === pos + 4) end = -1;
  } else if (src[pos] === '$') {
    end = findClose(src, pos + 1, posMax, '$');
    const inner = end === -1 ? '' : src.slice(pos + 1, end - 1);
    if (inner === '' || /^\s|\s$/.test(inner) || /^\d/.test(src.slice(end, end + 1))) end = -1;
  } else if (src.startsWith('\\(', pos)) {
    end = findClose(src, pos + 2, posMax, '\\)');
  } else if (src.startsWith('\\[', pos)) {
    end = findClose(src, pos + 2, posMax, '\\]');
  }
  if (end === -1) return false;
  if (!silent) state.push('math', '', 0).content = src.slice(pos, end);
  state.pos = end;
  return true;
}

function mentionRule(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  // Never inside a link's text: a mention is a link itself.
  if (src[pos] !== '@' || state.linkLevel > 0) return false;
  if (pos > 0 && !MENTION_BEFORE.test(src[pos - 1] ?? '')) return false;
  const match = MENTION.exec(src.slice(pos, pos + 32));
  if (match === null || match[1] === undefined) return false;
  if (!silent) {
    const token = state.push('mention', '', 0);
    token.content = match[1];
  }
  state.pos += match[0].length;
  return true;
}

function createParser() {
  const md = markdownit('default', { html: false, linkify: true, breaks: true, typographer: false, maxNesting: 20 });
  md.disable(['heading', 'lheading', 'table', 'image', 'html_block', 'html_inline']);
  md.validateLink = (url) => SAFE_URL.test(url.trim());
  // Before `escape`, so `\(` opens math instead of being an escaped bracket.
  md.inline.ruler.before('escape', 'math', mathRule);
  md.inline.ruler.after('text', 'mention', mentionRule);

  const renderToken = md.renderer.renderToken.bind(md.renderer);
  md.renderer.rules.link_open = (tokens, idx, options) => {
    tokens[idx]?.attrSet('rel', LINK_REL);
    return renderToken(tokens, idx, options);
  };
  md.renderer.rules.math = (tokens, idx) => `<span class="tex">${escapeHtml(tokens[idx]?.content ?? '')}</span>`;
  md.renderer.rules.mention = (tokens, idx, _options, env) => {
    const name = tokens[idx]?.content ?? '';
    const known = (env as RenderEnv | undefined)?.knownUsers;
    if (known?.has(name.toLowerCase()) !== true) return escapeHtml(`@${name}`);
    return `<a class="mention" href="/u/${encodeURIComponent(name)}">@${escapeHtml(name)}</a>`;
  };
  return md;
}

const parser = createParser();

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'em', 'strong', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'hr', 'a', 'span'],
  allowedAttributes: { a: ['href', 'rel', 'class'], ol: ['start'], span: ['class'] },
  allowedClasses: { a: ['mention'], span: ['tex'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // Every link, whatever produced it, is marked as user content.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: LINK_REL }) },
};

/** The safe HTML of a comment's Markdown; `knownUsers` (lower-cased) are the names mentions link to. */
export function renderCommentMarkdown(body: string, knownUsers: ReadonlySet<string> = new Set()): string {
  const env: RenderEnv = { knownUsers };
  return sanitizeHtml(parser.render(body, env), SANITIZE);
}

function collectMentions(tokens: readonly Token[], into: Map<string, string>): void {
  for (const token of tokens) {
    if (token.type === 'mention' && !into.has(token.content.toLowerCase())) into.set(token.content.toLowerCase(), token.content);
    if (token.children !== null) collectMentions(token.children, into);
  }
}

/** The usernames a comment mentions (not those in code or link text), each once, as written. */
export function mentionsIn(body: string): string[] {
  const found = new Map<string, string>();
  collectMentions(parser.parse(body, {}), found);
  return [...found.values()];
}
