import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { collectLog } from './redaction.js';

/** `bin/pqseal.js` of this tree (the tests run from dist/test/…). */
export const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** What the process wrote to stdout: pino's JSON log lines. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The stream once it matches `pattern` (pipes deliver stdout and stderr in no fixed order). */
  matching(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after 20 s). */
  stop(): Promise<number | null>;
}

/**
 * Runs `pqseal serve --port 0` (or `bin` with `args`) as a process with stdout and stderr kept apart,
 * until its log says "pqseal listening". The log stream (stdout) is checked for registered secrets after
 * the file's last test (test/helpers/redaction.ts); stderr, where a development start prints the demo
 * banner, is the test's to check.
 */
export async function spawnServe(
  env: Record<string, string | undefined>,
  options: {
    readonly cwd?: string;
    /** The command line; default `node bin/pqseal.js serve --port 0`. */
    readonly command?: readonly [string, ...string[]];
    readonly what?: string;
    /** stdout is a terminal (script(1)), where the demo banner belongs: not a log to check for secrets. */
    readonly terminal?: boolean;
  } = {},
): Promise<ServeProcess> {
  const what = options.what ?? 'pqseal serve';
  const [command, ...args] = options.command ?? ['node', CLI, 'serve', '--port', '0'];
  // A process group of its own: `npm start` runs the server under `sh -c`, which does not pass
  // SIGTERM on, so stop() signals the whole group.
  const child = spawn(command, args, {
    cwd: options.cwd,
    detached: true,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PQSEAL_WORKERS: '1', ...env },
  });
  const outLines = options.terminal ? [] : collectLog(`${what} (stdout)`);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    outLines.splice(0, outLines.length, ...out.split('\n'));
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  // 'close': the process has exited and both pipes are drained.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    // A first start generates keys and hashes passwords: slow on a loaded machine.
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${what} did not start:\n${out}\n${err}`));
    }, 90_000);
    const check = () => {
      const listening = /"url":"([^"]+)".*pqseal listening|pqseal listening.*"url":"([^"]+)"/.exec(out);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1] ?? listening[2] ?? '');
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${String(code)} before listening:\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    async matching(stream, pattern) {
      const text = () => (stream === 'stdout' ? out : err);
      for (const started = Date.now(); !pattern.test(text()); await new Promise((r) => setTimeout(r, 20))) {
        if (Date.now() - started > 10_000) throw new Error(`${what}: ${stream} never matched ${String(pattern)}:\n${text()}`);
      }
      return text();
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // The group is gone already.
        }
      };
      signalGroup('SIGTERM');
      const killer = setTimeout(() => signalGroup('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
