/**
 * Instance settings admins change without a restart, stored in
 * `instance_settings` (JSON values) and read through one cache: every web
 * process re-reads them at most `TTL_MS` after they were last read, so
 * processes agree within seconds, and a change made here is seen at once by
 * the process that made it.
 */
import { z } from 'zod';
import type { Viewer } from '../accounts/users.js';
import type { Database } from '../db/connection.js';
import { recordModeration } from './log.js';

const TTL_MS = 5_000;

/** Every setting: its validation, default and what the admin page says about it. */
export const SETTINGS = {
  registrations: {
    schema: z.enum(['open', 'closed'], { error: 'must be "open" or "closed"' }),
    fallback: 'open',
    label: 'Registrations',
    help: 'Closed: nobody can sign up on the site (admins still create accounts with paperboy user create).',
  },
  submissions: {
    schema: z.enum(['open', 'closed'], { error: 'must be "open" or "closed"' }),
    fallback: 'open',
    label: 'Paper submissions',
    help: 'Closed: people cannot submit papers to the daily feed.',
  },
  comment_min_account_age_hours: {
    schema: z.coerce
      .number({ error: 'must be a whole number of hours' })
      .int('must be a whole number of hours')
      .min(0, 'must be at least 0')
      .max(720, 'must be at most 720 (30 days)'),
    fallback: 0,
    label: 'Hours before a new account may comment',
    help: '0 to 720. New accounts wait this long before commenting, against drive-by spam.',
  },
} as const;
export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export interface InstanceSettings {
  registrations: 'open' | 'closed';
  submissions: 'open' | 'closed';
  commentMinAccountAgeHours: number;
}

/** The settings a form or API body changes, already validated. */
export const SettingsChange = z.strictObject({
  registrations: SETTINGS.registrations.schema.optional(),
  submissions: SETTINGS.submissions.schema.optional(),
  comment_min_account_age_hours: SETTINGS.comment_min_account_age_hours.schema.optional(),
});
export type SettingsChange = z.infer<typeof SettingsChange>;

const cache = new WeakMap<Database, { value: InstanceSettings; expires: number }>();

function stored<K extends SettingKey>(key: K, raw: string | undefined): z.infer<(typeof SETTINGS)[K]['schema']> {
  const setting = SETTINGS[key];
  if (raw !== undefined) {
    try {
      const parsed = setting.schema.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data as z.infer<(typeof SETTINGS)[K]['schema']>;
    } catch {
      // A value that is not JSON is as good as unset: the default applies.
    }
  }
  return setting.fallback as z.infer<(typeof SETTINGS)[K]['schema']>;
}

/** The instance's settings, from the cache when it is fresh. */
export async function instanceSettings(database: Database): Promise<InstanceSettings> {
  const hit = cache.get(database);
  if (hit !== undefined && hit.expires > Date.now()) return hit.value;
  const rows = await database.db.selectFrom('instance_settings').select(['key', 'value']).execute();
  const byKey = new Map(rows.map((r) => [r.key, r.value]));
  const value: InstanceSettings = {
    registrations: stored('registrations', byKey.get('registrations')),
    submissions: stored('submissions', byKey.get('submissions')),
    commentMinAccountAgeHours: stored('comment_min_account_age_hours', byKey.get('comment_min_account_age_hours')),
  };
  cache.set(database, { value, expires: Date.now() + TTL_MS });
  return value;
}

/** The stored value of every setting by key, as the admin page and API show them. */
export function settingValues(settings: InstanceSettings): Record<SettingKey, string | number> {
  return {
    registrations: settings.registrations,
    submissions: settings.submissions,
    comment_min_account_age_hours: settings.commentMinAccountAgeHours,
  };
}

/**
 * Stores the settings in `change` that differ from the current ones, each
 * logged as `change_setting` in the same transaction; returns the keys changed.
 */
export async function changeSettings(database: Database, actor: Viewer, change: SettingsChange, reason: string): Promise<SettingKey[]> {
  const current = settingValues(await instanceSettingsFresh(database));
  const changed = SETTING_KEYS.filter((key) => change[key] !== undefined && change[key] !== current[key]);
  if (changed.length === 0) return [];
  const now = new Date().toISOString();
  await database.db.transaction().execute(async (trx) => {
    for (const key of changed) {
      const value = JSON.stringify(change[key]);
      await trx
        .insertInto('instance_settings')
        .values({ key, value, updated_at: now, updated_by: actor.id })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now, updated_by: actor.id }))
        .execute();
      await recordModeration(trx, actor, {
        action: 'change_setting',
        subject: { kind: 'setting', id: key, label: `${key}: ${String(current[key])} → ${String(change[key])}` },
        reason,
      });
    }
  });
  cache.delete(database);
  return changed;
}

/** The settings read now, bypassing the cache (before a change). */
async function instanceSettingsFresh(database: Database): Promise<InstanceSettings> {
  cache.delete(database);
  return instanceSettings(database);
}
