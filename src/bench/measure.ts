/** Measuring child processes and the machine, for the benchmark scenarios. */
import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

/** The machine a result was measured on; results from different machines do not compare. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  platform: string;
  date: string;
  /** 1-minute load average when the run started: a busy machine skews every number. */
  loadAverage: number;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAverage: os.loadavg()[0] ?? 0,
  };
}

/** Peak memory of a process, read from /proc (Linux); zero where /proc is absent. */
export interface MemoryPeak {
  /** Largest VmHWM/VmRSS seen, in bytes. */
  peakBytes: number;
  samples: number;
}

async function readRss(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    let best = 0;
    for (const m of status.matchAll(/^(VmHWM|VmRSS):\s+(\d+)\s+kB/gm)) best = Math.max(best, Number(m[2]) * 1024);
    return best;
  } catch {
    // The process has exited between polls.
    return 0;
  }
}

/**
 * Polls a process's memory. VmHWM is the kernel's own high-water mark, so a
 * spike between two polls is still caught unless it happens in the last interval.
 */
export function sampleMemory(pid: number, intervalMs = 200): { stop(): Promise<MemoryPeak> } {
  let peak = 0;
  let samples = 0;
  let stopped = false;
  let pending: Promise<void> = Promise.resolve();
  const poll = (): void => {
    pending = readRss(pid).then((rss) => {
      if (rss > 0) {
        peak = Math.max(peak, rss);
        samples++;
      }
    });
  };
  poll();
  const timer = setInterval(() => {
    if (!stopped) poll();
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pending;
      return { peakBytes: peak, samples };
    },
  };
}

/** A line the child wrote to stderr, with when it arrived. */
export interface TimedLine {
  /** Milliseconds since the child was spawned. */
  t: number;
  line: string;
}

/** The outcome of `runMeasured`. */
export interface ChildRun {
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  stdout: string;
  stderrLines: TimedLine[];
  memory: MemoryPeak;
}

/** At most this many stderr lines are kept (a 1M import logs ~300 progress lines). */
const MAX_STDERR_LINES = 20_000;

/**
 * Runs a command to completion while timing it, polling its memory and
 * timestamping each stderr line (progress lines carry no time of their own).
 */
export function runMeasured(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onStderrLine?: (line: TimedLine) => void },
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      child.once('error', reject);
      return;
    }
    const memory = sampleMemory(child.pid);
    const stdout: string[] = [];
    const stderrLines: TimedLine[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => stdout.push(s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      const t = performance.now() - started;
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        const entry = { t, line };
        if (stderrLines.length < MAX_STDERR_LINES) stderrLines.push(entry);
        options.onStderrLine?.(entry);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (partial) stderrLines.push({ t: wallMs, line: partial });
      void memory.stop().then((mem) =>
        resolve({ exitCode: code, signal, wallMs, stdout: stdout.join(''), stderrLines, memory: mem }),
      );
    });
  });
}

/** Total size of the files under a directory, recursively. */
export async function dirSize(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) total += await dirSize(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
}

/** Size of one file, 0 when absent (the -wal and -shm files come and go). */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** `1.23 GB` style, decimal units as disk sizes are usually quoted. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** `3 min 12 s` / `4 min` / `12.4 s`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  const rest = whole % 60;
  return rest === 0 ? `${Math.floor(whole / 60)} min` : `${Math.floor(whole / 60)} min ${rest} s`;
}

/** Thousands separators: `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** CPU seconds (user + system) a process has used, from /proc; null off Linux or once it is gone. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // USER_HZ is 100 on every Linux the kernel ABI allows userspace to see.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

