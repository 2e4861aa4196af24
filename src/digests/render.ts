/**
 * A digest message, HTML and plain text, from one model: what a recipient
 * reads is decided once (`digestModel`), then written twice. Everything in
 * the content is plain text frozen at build time; the HTML escapes all of it.
 *
 * The HTML is made for mail clients, not browsers: tables for layout, inline
 * styles only (many clients drop <style> blocks), no images or web fonts (no
 * remote resource is needed to read it), at most 600px wide, and colours that
 * stay legible when a client inverts them in dark mode.
 */
import { html, raw, type SafeHtml } from '../web/html.js';
import type { DigestContent, DigestPaper, DigestSelection } from './content.js';

export interface DigestLinks {
  /** The instance's base URL, without a trailing slash. */
  baseUrl: string;
  preferencesUrl: string;
  unsubscribeUrl: string;
}

export interface RenderedDigest {
  subject: string;
  html: string;
  text: string;
}

/** Authors named before "et al.". */
const AUTHORS_SHOWN = 3;

interface PaperModel {
  title: string;
  pageUrl: string;
  pdfUrl: string;
  authors: string;
  summary: string;
  upvotes: number;
  comments: number;
  categories: string;
  /** Why it is in the "For you" section. */
  why?: string;
}

interface SectionModel {
  heading: string;
  papers: PaperModel[];
}

/** What a recipient reads, independent of HTML or text. */
export interface DigestModel {
  subject: string;
  /** The line inbox lists show after the subject. */
  preheader: string;
  heading: string;
  period: string;
  homeUrl: string;
  sections: SectionModel[];
  why: string;
  preferencesUrl: string;
  unsubscribeUrl: string;
}

const DAY = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

function asDate(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

/** "Thu 3 Dec 2026" (en-GB puts a comma after the weekday; a subject reads better without). */
function shortDay(day: string): string {
  return DAY.format(asDate(day)).replace(',', '');
}

function authorLine(paper: DigestPaper): string {
  const names = paper.authors.slice(0, AUTHORS_SHOWN);
  if (names.length === 0) return '';
  const total = Math.max(paper.authorCount, paper.authors.length);
  if (total <= names.length) return names.join(', ');
  return `${names.join(', ')} et al. (${total} authors)`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function paperModel(paper: DigestPaper, baseUrl: string): PaperModel {
  return {
    title: paper.title,
    pageUrl: `${baseUrl}/papers/${paper.arxivId}`,
    pdfUrl: `https://arxiv.org/pdf/${paper.arxivId}`,
    authors: authorLine(paper),
    summary: paper.summary,
    upvotes: paper.upvotes,
    comments: paper.comments,
    categories: paper.categories.join(', '),
  };
}

/** Papers by index; an index outside the content (it never should be) is skipped rather than failing a send. */
function papersAt(content: DigestContent, indexes: readonly number[], baseUrl: string): PaperModel[] {
  const out: PaperModel[] = [];
  for (const i of indexes) {
    const paper = content.papers[i];
    if (paper !== undefined) out.push(paperModel(paper, baseUrl));
  }
  return out;
}

/** The subject of a digest: "Trending papers, Thu 3 Dec 2026" or "Trending papers, week of 23 Nov 2026". */
export function digestSubject(content: DigestContent): string {
  return content.cadence === 'weekly'
    ? `Trending papers, week of ${DATE.format(asDate(content.from))}`
    : `Trending papers, ${shortDay(content.to)}`;
}

/** The one model both parts are written from. */
export function digestModel(content: DigestContent, selection: DigestSelection, links: DigestLinks): DigestModel {
  const baseUrl = links.baseUrl.replace(/\/+$/, '');
  const sections: SectionModel[] = [];
  const trending = papersAt(content, selection.trending, baseUrl);
  if (trending.length > 0) sections.push({ heading: 'Trending', papers: trending });
  const keywords = papersAt(content, selection.keywords, baseUrl);
  if (keywords.length > 0) sections.push({ heading: 'Matching your keywords', papers: keywords });
  const forYou = (selection.forYou ?? []).map((pick) => ({ ...paperModel(pick.paper, baseUrl), why: pick.reason }));
  if (forYou.length > 0) sections.push({ heading: 'For you', papers: forYou });
  const first = trending[0] ?? keywords[0] ?? forYou[0];
  const count = trending.length + keywords.length + forYou.length;
  const period =
    content.cadence === 'weekly'
      ? `Papers featured ${DATE.format(asDate(content.from))} to ${DATE.format(asDate(content.to))}`
      : `Papers featured on ${shortDay(content.to)}`;
  return {
    subject: digestSubject(content),
    preheader: first === undefined ? period : `${plural(count, 'paper', 'papers')}, led by “${first.title}”`,
    heading: content.cadence === 'weekly' ? 'Your weekly trending papers' : 'Your daily trending papers',
    period,
    homeUrl: `${baseUrl}/`,
    sections,
    why: `You get this email because you subscribed to the ${content.cadence} digest of ${hostOf(baseUrl)} with this address and confirmed it.`,
    preferencesUrl: links.preferencesUrl,
    unsubscribeUrl: links.unsubscribeUrl,
  };
}

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

// Mid-tone colours on a white card: legible as they are, and still legible when a
// client's dark mode inverts or darkens the background.
const TEXT = '#1f2328';
const MUTED = '#57606a';
const LINK = '#0b57d0';
const RULE = '#d0d7de';
// Outlook on Windows ignores max-width: a fixed-width table only it sees keeps the column at 600px.
const MSO_OPEN = '<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->';
const MSO_CLOSE = '<!--[if mso]></td></tr></table><![endif]-->';
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";

function paperHtml(paper: PaperModel): SafeHtml {
  const meta = [paper.authors, paper.categories].filter((s) => s !== '').join(' · ');
  return html`<tr><td style="padding:14px 0;border-top:1px solid ${RULE};${raw(FONT)}">
<a href="${paper.pageUrl}" style="color:${LINK};font-size:17px;line-height:1.35;font-weight:bold;text-decoration:none;">${paper.title}</a>
${meta !== '' ? html`<div style="color:${MUTED};font-size:13px;line-height:1.5;padding-top:4px;">${meta}</div>` : ''}
${paper.why !== undefined && paper.why !== '' ? html`<div style="color:${MUTED};font-size:13px;line-height:1.5;padding-top:4px;font-style:italic;">Why: ${paper.why}</div>` : ''}
${paper.summary !== '' ? html`<div style="color:${TEXT};font-size:15px;line-height:1.5;padding-top:6px;">${paper.summary}</div>` : ''}
<div style="color:${MUTED};font-size:13px;line-height:1.5;padding-top:6px;"><a href="${paper.pageUrl}" style="color:${LINK};">Paper page</a> · <a href="${paper.pdfUrl}" style="color:${LINK};">PDF</a> · ${plural(paper.upvotes, 'upvote', 'upvotes')} · ${plural(paper.comments, 'comment', 'comments')}</div>
</td></tr>`;
}

function sectionHtml(section: SectionModel): SafeHtml {
  return html`<tr><td style="padding:22px 0 6px;${raw(FONT)}"><h2 style="margin:0;color:${TEXT};font-size:19px;line-height:1.3;">${section.heading}</h2></td></tr>
${section.papers.map(paperHtml)}`;
}

/** The HTML part. */
export function digestHtml(model: DigestModel): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>${model.subject}</title>
</head>
<body style="margin:0;padding:0;background-color:#f3f4f6;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;line-height:1px;color:#f3f4f6;opacity:0;">${model.preheader}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td align="center" style="padding:16px 8px;">
${raw(MSO_OPEN)}
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border:1px solid ${RULE};border-radius:6px;">
<tr><td style="padding:20px 24px 8px;${raw(FONT)}">
<a href="${model.homeUrl}" style="color:${LINK};font-size:14px;font-weight:bold;text-decoration:none;">Paperboy</a>
<h1 style="margin:8px 0 4px;color:${TEXT};font-size:22px;line-height:1.3;">${model.heading}</h1>
<div style="color:${MUTED};font-size:14px;line-height:1.5;">${model.period}</div>
</td></tr>
<tr><td style="padding:0 24px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
${model.sections.map(sectionHtml)}
</table>
</td></tr>
<tr><td style="padding:16px 24px 22px;border-top:1px solid ${RULE};color:${MUTED};font-size:12px;line-height:1.6;${raw(FONT)}">
<p style="margin:0 0 8px;">${model.why}</p>
<p style="margin:0;"><a href="${model.preferencesUrl}" style="color:${LINK};">Change preferences</a> · <a href="${model.unsubscribeUrl}" style="color:${LINK};">Unsubscribe</a></p>
</td></tr>
</table>
${raw(MSO_CLOSE)}
</td></tr>
</table>
</body>
</html>
`.value;
}

/** The plain-text part. */
export function digestText(model: DigestModel): string {
  const lines: string[] = [model.heading, model.period, ''];
  for (const section of model.sections) {
    lines.push(section.heading.toUpperCase(), '');
    section.papers.forEach((paper, i) => {
      lines.push(`${i + 1}. ${paper.title}`);
      const meta = [paper.authors, paper.categories].filter((s) => s !== '').join(' · ');
      if (meta !== '') lines.push(`   ${meta}`);
      if (paper.why !== undefined && paper.why !== '') lines.push(`   Why: ${paper.why}`);
      if (paper.summary !== '') lines.push(`   ${paper.summary}`);
      lines.push(`   ${plural(paper.upvotes, 'upvote', 'upvotes')} · ${plural(paper.comments, 'comment', 'comments')}`);
      lines.push(`   Paper page: ${paper.pageUrl}`, `   PDF: ${paper.pdfUrl}`, '');
    });
  }
  lines.push('--', model.why, `Change preferences: ${model.preferencesUrl}`, `Unsubscribe: ${model.unsubscribeUrl}`, '');
  return lines.join('\n');
}

/** A recipient's digest message: subject, HTML part and text part. Deterministic: the same input gives the same bytes. */
export function renderDigest(content: DigestContent, selection: DigestSelection, links: DigestLinks): RenderedDigest {
  const model = digestModel(content, selection, links);
  return { subject: model.subject, html: digestHtml(model), text: digestText(model) };
}
