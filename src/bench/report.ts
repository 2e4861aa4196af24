/** Markdown rendering of benchmark results (the format BENCHMARKS.md collects). */
import { formatBytes, type MachineInfo } from './measure.js';
import type { ScenarioResult } from './scenario.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

/** A Markdown table; cells are escaped so a `|` in a summary cannot break the layout. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const lines = [`| ${headers.map(cell).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** The machine line every report starts with. */
export function renderMachine(m: MachineInfo): string {
  return markdownTable(
    ['CPU', 'cores', 'memory', 'node', 'platform', 'date', 'load avg (1 min) at start'],
    [[m.cpu, String(m.cores), formatBytes(m.memoryBytes), m.node, m.platform, m.date, m.loadAverage.toFixed(2)]],
  );
}

function verdict(pass: boolean | null): string {
  if (pass === null) return 'n/a';
  return pass ? 'PASS' : 'FAIL';
}

/** One scenario as a Markdown section: targets with pass/fail, then details. */
export function renderScenario(r: ScenarioResult): string {
  const parts = [`## ${r.title}`, ''];
  const params = Object.entries(r.params).map(([k, v]) => `${k} \`${String(v)}\``);
  if (params.length > 0) parts.push(params.join(', '), '');
  parts.push(
    markdownTable(
      ['metric', 'target', 'measured', 'result'],
      r.checks.map((c) => [c.note ? `${c.metric} (${c.note})` : c.metric, c.target, c.actual, verdict(c.pass)]),
    ),
  );
  for (const t of r.tables) parts.push('', `### ${t.title}`, '', markdownTable(t.headers, t.rows));
  if (r.notes.length > 0) parts.push('', ...r.notes.map((n) => `- ${n}`));
  return parts.join('\n');
}

/** A full report: heading, machine, then each scenario. */
export function renderReport(machine: MachineInfo, results: ScenarioResult[]): string {
  const busy =
    machine.loadAverage > machine.cores / 2
      ? [`> The machine was busy when the run started (load ${machine.loadAverage.toFixed(1)} on ${machine.cores} cores): timings are pessimistic.`, '']
      : [];
  return [
    '# Paperboy benchmark',
    '',
    renderMachine(machine),
    '',
    ...busy,
    ...results.flatMap((r) => [renderScenario(r), '']),
  ].join('\n');
}
