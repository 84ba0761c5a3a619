import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { replaceFilePrivately } from '../private-file.js';

/**
 * Input and output of the client commands: data from `--data`, `--file` or stdin (exactly as given,
 * byte for byte), a progress indicator on stderr for large inputs when stderr is a terminal, and
 * output to stdout or `--out`.
 */

/** Inputs at least this large get a progress indicator (when stderr is a TTY). */
export const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): boolean;
}

/**
 * A one-line indicator redrawn in place: bytes (and percent when the total is known) while
 * reading, then elapsed seconds while waiting for the server. Silent unless the stream is a TTY and
 * the input is large, so pipes and logs never see it.
 */
export class Progress {
  private active = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started = Date.now();
  private frame = 0;
  private lastDraw = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number | undefined,
    private readonly threshold = PROGRESS_THRESHOLD_BYTES,
  ) {}

  /** Called as bytes arrive. */
  read(bytes: number): void {
    if (!this.stream.isTTY) return;
    if (!this.active && Math.max(bytes, this.total ?? 0) < this.threshold) return;
    this.active = true;
    // At most ten redraws a second, and always the last one.
    const now = Date.now();
    if (now - this.lastDraw < 100 && bytes !== this.total) return;
    this.lastDraw = now;
    const pct = this.total ? ` (${Math.floor((bytes / this.total) * 100)}%)` : '';
    this.draw(`reading ${mib(bytes)}${this.total ? ` of ${mib(this.total)}` : ''}${pct}`);
  }

  /** Shows `label` with a spinner and the elapsed time until `done()`. */
  waiting(label: string): void {
    if (!this.active) return;
    const tick = () => {
      const spinner = '|/-\\'[this.frame++ % 4];
      this.draw(`${label} ${spinner} ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
    };
    tick();
    this.timer = setInterval(tick, 100);
    this.timer.unref?.();
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.active) this.stream.write('\r\x1b[2K');
    this.active = false;
  }

  get shown(): boolean {
    return this.active;
  }

  private draw(text: string): void {
    const columns = this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80;
    const line = `pqseal: ${text}`;
    this.stream.write(`\r\x1b[2K${line.length < columns ? line : line.slice(0, Math.max(10, columns - 1))}`);
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export interface InputOptions {
  readonly data?: string | undefined;
  readonly file?: string | undefined;
  readonly stdin?: Readable & { isTTY?: boolean };
  readonly progress?: ProgressStream;
}

export interface Input {
  readonly bytes: Uint8Array;
  /** Active when the input was large and stderr is a terminal: show `waiting(...)`, then `done()`. */
  readonly progress: Progress;
}

/** The raw input bytes from exactly one of --data, --file or stdin. */
export async function readInput(options: InputOptions, what: string): Promise<Input> {
  if (options.data !== undefined && options.file !== undefined) throw new InputError('give --data or --file, not both');
  const progressStream = options.progress ?? process.stderr;
  if (options.data !== undefined) return { bytes: new TextEncoder().encode(options.data), progress: new Progress(progressStream, 0) };
  if (options.file !== undefined) {
    let size: number;
    try {
      const st = statSync(options.file);
      if (!st.isFile()) throw new InputError(`${options.file} is not a file`);
      size = st.size;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot read ${options.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    return collect(createReadStream(options.file), new Progress(progressStream, size));
  }
  const stdin = options.stdin ?? process.stdin;
  if (stdin.isTTY) throw new InputError(`no ${what}: pass --data, --file <path>, or pipe it on stdin`);
  return collect(stdin, new Progress(progressStream, undefined));
}

async function collect(stream: Readable, progress: Progress): Promise<Input> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      chunks.push(buf);
      total += buf.length;
      progress.read(total);
    }
  } catch (e) {
    progress.done();
    throw new InputError(`cannot read the input: ${(e as Error).message}`);
  }
  return { bytes: Buffer.concat(chunks, total), progress };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Input as the API's `data` string: UTF-8 text, or base64 of arbitrary bytes with --base64. */
export function toData(bytes: Uint8Array, base64: boolean): string {
  if (base64) return Buffer.from(bytes).toString('base64');
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InputError('the input is not UTF-8 text; pass --base64 to send it base64-encoded (and --base64 to decrypt to get the bytes back)');
  }
}

/** Writes the result to --out (a new mode-0600 file, never through a link: it may be plaintext) or stdout. */
export function writeOutput(content: string | Uint8Array, out: string | undefined, trailingNewlineOnTty: boolean): void {
  if (out !== undefined) {
    replaceFilePrivately(out, content);
    return;
  }
  process.stdout.write(content);
  if (trailingNewlineOnTty && process.stdout.isTTY) {
    const last = typeof content === 'string' ? content.at(-1) : content.length ? String.fromCharCode(content[content.length - 1] as number) : undefined;
    if (last !== '\n') process.stdout.write('\n');
  }
}
