/**
 * Only src/db/ talks to a database driver: everything else goes through
 * Kysely (`database.db`), whose queries run on SQLite and PostgreSQL alike, or
 * through the named engine-specific modules of src/db/. A module that reached
 * for the raw handle would work on one engine and break the other.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const ROOT = process.cwd();

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const DRIVER_IMPORT = /\bfrom\s+['"](better-sqlite3|pg|pg-pool)['"]|\bimport\(\s*['"](better-sqlite3|pg)['"]\s*\)/;
const RAW_HANDLE = /\b(sqliteHandle|postgresPool|withSqliteTransaction|cachedStatement)\b/;

test('no module outside src/db/ imports a database driver or reaches for a raw handle', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const rel = relative(ROOT, file);
    if (rel.startsWith(join('src', 'db') + '/')) continue;
    const text = readFileSync(file, 'utf8');
    // Unit tests may inspect an engine directly (query plans, FTS5 syntax).
    if (rel.endsWith('.test.ts')) continue;
    if (DRIVER_IMPORT.test(text)) offenders.push(`${rel}: imports a database driver`);
    if (RAW_HANDLE.test(text)) offenders.push(`${rel}: uses ${RAW_HANDLE.exec(text)?.[1]}`);
  }
  assert.deepEqual(offenders, [], `only src/db/ may talk to a driver:\n${offenders.join('\n')}`);
});

test('the rule above sees what it is meant to see', () => {
  assert.ok(DRIVER_IMPORT.test(`import BetterSqlite3 from 'better-sqlite3';`));
  assert.ok(DRIVER_IMPORT.test(`import pg from "pg";`));
  assert.ok(!DRIVER_IMPORT.test(`import { sql } from 'kysely';`));
  assert.ok(RAW_HANDLE.test('const s = sqliteHandle(database);'));
  assert.ok(!RAW_HANDLE.test('const s = database.db;'));
});
