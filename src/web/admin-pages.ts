/**
 * Admin pages. /admin/outbox lists the mail the instance sent or, without
 * SMTP, would have sent: on a first-run instance it is how an admin reads a
 * confirmation link. Admins only; never cached.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { sendPrivatePage } from './private-page.js';

const PAGE = 50;
const OutboxQuery = z.object({ before: z.coerce.number().int().positive().optional() });

export function adminRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/admin/outbox', { config: { minRole: 'admin' } }, async (req, reply) => {
      const query = OutboxQuery.safeParse(req.query ?? {});
      const before = query.success ? query.data.before : undefined;
      let select = ctx.database.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(PAGE + 1);
      if (before !== undefined) select = select.where('id', '<', before);
      const rows = await select.execute();
      const shown = rows.slice(0, PAGE);
      const last = shown.at(-1);
      const delivery = ctx.config.smtpUrl === undefined ? 'SMTP_URL is not set: mail stays here and nobody receives it.' : 'Mail is sent over SMTP; this is the delivery log.';
      const body = html`<h1>Outbox</h1>
<p class="muted">${delivery}</p>
${
  shown.length === 0
    ? html`<p>No mail yet.</p>`
    : html`<ol class="outbox plain-list">${shown.map(
        (m) => html`<li id="mail-${m.id}"><details>
<summary><strong>${m.subject}</strong> to ${m.recipient} · ${m.kind} · ${m.created_at.slice(0, 19).replace('T', ' ')} UTC ·
${m.sent_at ? 'sent' : m.error ? html`<span class="error">failed: ${m.error}</span>` : 'not sent'}</summary>
<pre class="mail-body">${m.text_body}</pre>
</details></li>`,
      )}</ol>`
}
${rows.length > PAGE && last ? html`<p><a href="/admin/outbox?before=${last.id}">Older mail</a></p>` : ''}`;
      return sendPrivatePage(reply, 200, layout({ title: 'Outbox · Paperboy' }, body));
    });
  };
}
