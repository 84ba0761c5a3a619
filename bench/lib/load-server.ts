import type { NewOrganisation } from '../../src/core/organisations.js';
/**
 * The server under test for `bench/load.ts`: a separate Node process (`pqseal serve`) in production
 * mode with the bench routes on, a fresh DATA_DIR and an organisation made by the CLI, so the load
 * generator and the server compete for the same cores as a real deployment's client and server would.
 * Its resident memory is sampled from /proc every 250 ms and its CPU time read per measurement.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The repository root (this file runs from dist/bench/lib/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
/** The per-request reference (bench/reference/main.ts): started and measured like the server. */
export const REFERENCE_MAIN = join(REPO_ROOT, 'dist', 'bench', 'reference', 'main.js');
const CLI = join(REPO_ROOT, 'bin', 'pqseal.js');

/** What `pqseal org create --json` prints. */
export type BenchOrg = NewOrganisation;

export interface ServerOptions {
  readonly dataDir?: string;
  /** Crypto worker threads (PQSEAL_WORKERS); the server's default (one per core) when undefined. */
  readonly workers?: number;
  /** PQSEAL_MAX_QUEUE; the server's default when undefined. */
  readonly maxQueue?: number;
  /** Write V8 CPU profiles of the main thread and every worker thread into this directory. */
  readonly cpuProfileDir?: string;
  readonly onLog?: (line: string) => void;
  /** Extra node flags for the server process (for experiments, e.g. GC settings). */
  readonly nodeFlags?: readonly string[];
  /** Extra environment of the server process (e.g. REDIS_URL), over the defaults of `serverEnv`. */
  readonly env?: Readonly<Record<string, string>>;
  /** PQSEAL_PROCESSES (server processes on one port); 1 when undefined. */
  readonly processes?: number;
  /** The script and arguments to run instead of `dist/src/cli/main.js serve` (the reference); `--port <port>` is appended. */
  readonly command?: readonly string[];
}

export interface ServerStats {
  readonly sinceMs: number;
  readonly eventLoopDelayMs: { resolution: number; samples: number; mean: number; p50: number; p90: number; p99: number; max: number };
  readonly memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  readonly uptimeSeconds: number;
  /** Kernel thread ids by role (Linux): the main thread, the crypto workers, the audit writer. */
  readonly threads?: { readonly main: number; readonly crypto: readonly number[]; readonly audit?: number | undefined };
}

export interface RssSample {
  /** Milliseconds since the sampler started. */
  readonly t: number;
  readonly rss: number;
}

/** Common environment of the server and the CLI: production mode, no demo, no rate limit, quiet logs. */
export function serverEnv(dataDir: string, options: ServerOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PQSEAL_BENCH_ROUTES: 'true',
    PQSEAL_DEMO: 'false',
    PQSEAL_RATE_LIMIT_RPS: '0',
    LOG_LEVEL: 'warn',
  };
  delete env.PORT;
  delete env.NODE_OPTIONS;
  if (options.workers !== undefined) env.PQSEAL_WORKERS = String(options.workers);
  else delete env.PQSEAL_WORKERS;
  if (options.maxQueue !== undefined) env.PQSEAL_MAX_QUEUE = String(options.maxQueue);
  else delete env.PQSEAL_MAX_QUEUE;
  env.PQSEAL_PROCESSES = String(options.processes ?? 1);
  return { ...env, ...options.env };
}

/** Data directories made by this process (removed by their owners, or on an interrupt). */
export const createdDataDirs = new Set<string>();

export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pqseal-bench-load-'));
  createdDataDirs.add(dir);
  return dir;
}

/** `pqseal org create --name <name> --json` against the data directory (run before the server starts). */
export async function createOrganisation(dataDir: string, name: string, env: Readonly<Record<string, string>> = {}): Promise<BenchOrg> {
  const { stdout } = await execFileAsync(process.execPath, [CLI, 'org', 'create', '--name', name, '--json'], {
    env: { ...serverEnv(dataDir), ...env },
    timeout: 60_000,
  });
  const org = JSON.parse(stdout) as BenchOrg;
  for (const field of ['org_id', 'username', 'password', 'api_key', 'access_key', 'secret_key'] as const) {
    if (typeof org[field] !== 'string' || org[field] === '') throw new Error(`org create printed no ${field}: ${stdout}`);
  }
  return org;
}

/** A free loopback port (the server's log line with its URL is at info level, below LOG_LEVEL=warn). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export class ServerProcess {
  /** Servers started and not yet stopped (so an interrupted benchmark can stop them). */
  static readonly live = new Set<ServerProcess>();
  private samples: RssSample[] = [];
  private sampler: NodeJS.Timeout | undefined;
  private samplerStart = 0;
  private peak = 0;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private logTail: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    this.exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
        : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /**
   * Starts `node dist/src/cli/main.js serve` and waits until GET /healthz answers. The port is chosen
   * here and passed with --port: at LOG_LEVEL=warn the server does not print its "pqseal listening"
   * line (when it does, at a lower level, its url is taken from it instead).
   */
  static async start(options: ServerOptions = {}): Promise<ServerProcess> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? freshDataDir();
    const port = await freePort();
    const nodeArgs = [...(options.nodeFlags ?? []), ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [])];
    const command = options.command ?? [SERVER_MAIN, 'serve'];
    const child = spawn(process.execPath, [...nodeArgs, ...command, '--port', String(port)], {
      env: serverEnv(dataDir, options),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let url = `http://127.0.0.1:${port}`;
    // The last lines the server wrote (warnings and errors at LOG_LEVEL=warn), for diagnostics.
    const logTail: string[] = [];
    const keep = (line: string) => {
      logTail.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
      if (logTail.length > 60) logTail.shift();
    };
    const onLine = (line: string) => {
      if (!line) return;
      keep(line);
      options.onLog?.(line);
      if (line.includes('pqseal listening')) {
        try {
          const parsed = JSON.parse(line) as { url?: string };
          if (parsed.url) url = parsed.url;
        } catch {
          /* not JSON */
        }
      }
    };
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        keep(line);
        options.onLog?.(line);
      }
    });
    let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.once('exit', (code, signal) => (exitedEarly = { code, signal }));

    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exitedEarly) throw new Error(`server exited during start (code ${exitedEarly.code}, signal ${exitedEarly.signal}):\n${logTail.join('\n')}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`server did not become healthy within 60 s:\n${logTail.join('\n')}`);
      }
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) break;
      } catch {
        /* not up yet */
      }
      await sleep(50);
    }
    const server = new ServerProcess(child, url, dataDir, ownsDataDir);
    ServerProcess.live.add(server);
    server.logTail = logTail;
    server.startSampling();
    return server;
  }

  /** Resident set size of the server process in bytes (VmRSS), or NaN when it cannot be read. */
  rss(): number {
    return readStatusKb(this.pid, 'VmRSS') * 1024;
  }

  /** The kernel's high-water mark of the resident set (VmHWM): catches peaks between samples. */
  rssHighWater(): number {
    return readStatusKb(this.pid, 'VmHWM') * 1024;
  }

  /** User + system CPU seconds the server process has used so far (all threads). */
  cpuSeconds(): number {
    return statCpuSeconds(`/proc/${this.pid}/stat`);
  }

  /** CPU seconds of the server's main thread alone (its event loop): the thread id of a process's main thread is its pid. */
  mainThreadCpuSeconds(): number {
    return this.threadCpuSeconds(this.pid);
  }

  /** CPU seconds of one thread of the server (0 once it has exited). */
  threadCpuSeconds(tid: number): number {
    const seconds = statCpuSeconds(`/proc/${this.pid}/task/${tid}/stat`);
    return Number.isFinite(seconds) ? seconds : 0;
  }

  private startSampling(): void {
    this.samplerStart = Date.now();
    const take = () => {
      const rss = this.rss();
      if (!Number.isFinite(rss)) return;
      this.samples.push({ t: Date.now() - this.samplerStart, rss });
      if (rss > this.peak) this.peak = rss;
    };
    take();
    this.sampler = setInterval(take, 250);
    this.sampler.unref();
  }

  /** Peak sampled RSS since the last call (or since start), and the samples of that window. */
  takeWindow(): { peak: number; samples: RssSample[] } {
    const samples = this.samples;
    const current = this.rss();
    const peak = Math.max(this.peak, Number.isFinite(current) ? current : 0);
    this.samples = [];
    this.peak = 0;
    return { peak, samples };
  }

  async stats(): Promise<ServerStats> {
    const res = await fetch(`${this.url}/bench/stats`);
    if (!res.ok) throw new Error(`GET /bench/stats answered ${res.status}`);
    return (await res.json()) as ServerStats;
  }

  async resetStats(): Promise<void> {
    const res = await fetch(`${this.url}/bench/stats/reset`, { method: 'POST' });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`POST /bench/stats/reset answered ${res.status}`);
  }

  /** SIGTERM (the server drains and exits, writing its CPU profiles if asked to), then removes its data. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.sampler) clearInterval(this.sampler);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const result = await this.exited;
    clearTimeout(timer);
    ServerProcess.live.delete(this);
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    return result;
  }

  /** What the server wrote last, and its threads, for a diagnosis when it stops answering. */
  diagnostics(): string {
    let threads = 'unknown';
    try {
      threads = readdirSync(`/proc/${this.pid}/task`)
        .map((tid) => {
          const stat = readFileSync(`/proc/${this.pid}/task/${tid}/stat`, 'utf8');
          const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
          return `${name}:${state}`;
        })
        .join(' ');
    } catch {
      /* not Linux, or gone */
    }
    const alive = this.child.exitCode === null && this.child.signalCode === null;
    return `server pid ${this.pid} ${alive ? 'running' : `exited (${this.child.exitCode ?? this.child.signalCode})`}, RSS ${(this.rss() / 1048576).toFixed(0)} MiB, threads ${threads}\nlast server output:\n${this.logTail.join('\n') || '(none)'}`;
  }
}

function statCpuSeconds(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0]; utime is field 14 of the whole line → [11], stime [12].
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds the whole machine has spent busy (all cores; /proc/stat user+nice+system+irq+softirq+steal),
 * so that CPU used by processes other than the server and the load generator can be shown per point.
 */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

function readStatusKb(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Logs in through the identity pool's InitiateAuth wire call (for the Direct API's bearer token). */
export async function initiateAuth(url: string, org: BenchOrg): Promise<string> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
  });
  const json = (await res.json()) as { AuthenticationResult?: { IdToken?: string } };
  const token = json.AuthenticationResult?.IdToken;
  if (res.status !== 200 || !token) throw new Error(`InitiateAuth failed: ${res.status} ${JSON.stringify(json)}`);
  return token;
}
