/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, one .cpuprofile per thread) into the functions with
 * the most self time, and the same time grouped by where the code lives (our src/ files, a package,
 * Node internals, WebAssembly, GC). Used by `bench/load.ts --profile`; also a command of its own:
 *
 *   node dist/bench/lib/load-profile.js <file.cpuprofile | directory> [--top N]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface FunctionCost {
  readonly name: string;
  /** Where it lives: src/…:line, a package name, node:internal/…, wasm, or a V8 pseudo-frame. */
  readonly location: string;
  readonly group: string;
  readonly selfMs: number;
  /** Share of the thread's busy (non-idle) time. */
  readonly selfPct: number;
}

export interface GroupCost {
  readonly group: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ThreadProfile {
  readonly file: string;
  /** 'main' for the event-loop thread, 'worker <tid>' for worker threads. */
  readonly thread: string;
  readonly wallMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly top: readonly FunctionCost[];
  readonly groups: readonly GroupCost[];
}

const PSEUDO = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
/**
 * Frames that are waiting, not working: V8's idle marker, and piscina's worker loop blocked in
 * Atomics.wait for the next task (a JS frame, so the profiler counts it as running).
 */
const WAITING = new Set(['(idle)', 'atomicsWaitLoop']);

/** A time window in microseconds on the profiles' shared monotonic clock. */
export interface ProfileWindow {
  readonly startUs: number;
  readonly endUs: number;
}

/** Thread of a profile file named by Node: CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile (tid 0 is the main thread). */
export function threadOf(file: string): string {
  const m = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(basename(file));
  if (!m) return 'unknown';
  return m[1] === '0' ? 'main' : `worker ${m[1]}`;
}

/** Short location and group of a call frame. */
export function classify(frame: CallFrame): { location: string; group: string } {
  const { url, functionName, lineNumber } = frame;
  if (PSEUDO.has(functionName) && !url) return { location: '', group: functionName === '(garbage collector)' ? 'GC' : functionName };
  if (url.startsWith('wasm://') || functionName.startsWith('wasm-function') || functionName.startsWith('$')) {
    return { location: 'wasm', group: 'WebAssembly (liboqs)' };
  }
  if (!url) return { location: '(native)', group: 'native (V8 builtins, OpenSSL via node:crypto)' };
  if (url.startsWith('node:')) {
    const path = url.slice('node:'.length);
    const top = path.startsWith('internal/') ? path.split('/').slice(0, 2).join('/') : (path.split('/')[0] ?? path);
    return { location: `${url}:${lineNumber + 1}`, group: `node:${top}` };
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '?');
    const file = rest.slice(pkg.startsWith('@') ? 2 : 1).join('/');
    return { location: `${pkg}/${file}:${lineNumber + 1}`, group: pkg };
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) {
    const rel = url.slice(dist + '/dist/'.length).replace(/\.js$/, '.ts');
    const area = rel.split('/').slice(0, 2).join('/');
    return { location: `${rel}:${lineNumber + 1} (js line)`, group: area };
  }
  return { location: `${url}:${lineNumber + 1}`, group: 'other' };
}

function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** Top functions by self time; only samples inside `window` when given. */
export function summariseProfile(file: string, topN = 15, window?: ProfileWindow): ThreadProfile {
  const profile = readProfile(file);
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  // Self time of sample i is the gap to the next sample (how DevTools attributes it).
  const selfUs = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] as number;
    if (window && (t < window.startUs || t >= window.endUs)) continue;
    const dt = i + 1 < timeDeltas.length ? (timeDeltas[i + 1] as number) : 0;
    const id = samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const functions = new Map<string, { name: string; location: string; group: string; us: number }>();
  const groups = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const frame = node.callFrame;
    if (WAITING.has(frame.functionName)) {
      idleUs += us;
      continue;
    }
    const { location, group } = classify(frame);
    const name = frame.functionName || '(anonymous)';
    const key = `${name}\u0000${location}`;
    const entry = functions.get(key) ?? { name, location, group, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    groups.set(group, (groups.get(group) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  return {
    file,
    thread: threadOf(file),
    wallMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    top: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ name: f.name, location: f.location, group: f.group, selfMs: f.us / 1000, selfPct: pct(f.us) })),
    groups: [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, selfMs: us / 1000, selfPct: pct(us) })),
  };
}

/**
 * Every .cpuprofile in a directory, main thread first. `fromMs`/`toMs` restrict every thread to a
 * window given in milliseconds after the main thread's profile started (≈ the process start), so
 * start-up and warm-up can be left out.
 */
export function summariseDirectory(dir: string, topN = 15, fromMs?: number, toMs?: number): ThreadProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  let window: ProfileWindow | undefined;
  const main = files.find((f) => threadOf(f) === 'main');
  if (main && fromMs !== undefined && toMs !== undefined) {
    const start = readProfile(join(dir, main)).startTime;
    window = { startUs: start + fromMs * 1000, endUs: start + toMs * 1000 };
  }
  return files
    .map((f) => summariseProfile(join(dir, f), topN, window))
    .sort((a, b) => (a.thread === 'main' ? -1 : b.thread === 'main' ? 1 : a.thread.localeCompare(b.thread, 'en', { numeric: true })));
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}

/** Markdown: per thread, busy share, the groups and the top functions by self time. */
export function renderProfileMarkdown(title: string, threads: readonly ThreadProfile[], groupsShown = 8): string {
  const lines: string[] = [`### ${title}`, ''];
  for (const t of threads) {
    const busy = t.wallMs > 0 ? (100 * t.busyMs) / t.wallMs : 0;
    lines.push(
      `**${t.thread} thread** — ${fmt(t.busyMs / 1000, 2)} s busy of ${fmt(t.wallMs / 1000, 2)} s profiled (${fmt(busy)} % busy; waiting for work — idle, or a worker blocked in Atomics.wait — is not counted)`,
      '',
    );
    lines.push('| Where (self time) | % of busy |', '| --- | ---: |');
    for (const g of t.groups.slice(0, groupsShown)) lines.push(`| ${g.group} | ${fmt(g.selfPct)} |`);
    lines.push('', '| Function | Location | self ms | % of busy |', '| --- | --- | ---: | ---: |');
    for (const f of t.top)
      lines.push(`| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.location.replace(/\|/g, '\\|')} | ${fmt(f.selfMs, 0)} | ${fmt(f.selfPct)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

function main(argv: string[]): void {
  const topIndex = argv.indexOf('--top');
  const topN = topIndex >= 0 ? Number(argv[topIndex + 1]) : 15;
  const targets = argv.filter((a, i) => a !== '--top' && (topIndex < 0 || i !== topIndex + 1));
  if (targets.length === 0) {
    process.stderr.write('usage: node dist/bench/lib/load-profile.js <file.cpuprofile | directory> [--top N]\n');
    process.exitCode = 2;
    return;
  }
  for (const target of targets) {
    const threads = statSync(target).isDirectory() ? summariseDirectory(target, topN) : [summariseProfile(target, topN)];
    process.stdout.write(`${renderProfileMarkdown(target, threads)}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
