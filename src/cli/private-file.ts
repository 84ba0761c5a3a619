import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Output files the CLI writes with `--out` (decrypted plaintext, audit exports): written to a fresh
 * 0600 file beside the target (created with O_EXCL|O_NOFOLLOW, so never through a link), synced, and
 * renamed over it. Writing into an existing file would keep that file's mode — private data in a
 * world-readable file — and follow a symbolic link wherever it points (run as root: any file on the
 * host), so a link (even a dangling one) or anything that is not a regular file is refused instead.
 */

/** The target is a symbolic link or not a regular file: a usage mistake (the CLI exits 2). */
export class UnsafeOutputPathError extends Error {
  readonly code = 'VALIDATION_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeOutputPathError';
  }
}

/** A replacement being written: `write` any number of times, then `commit` (or `discard`). */
export interface PrivateReplacement {
  write(content: string | Uint8Array): void;
  /** Makes the content durable and renames it over the target. */
  commit(): void;
  /** Removes the temporary file, the target staying as it was; does nothing once committed. */
  discard(): void;
}

/** Starts replacing `path`; nothing at `path` changes before `commit()`. */
export function openPrivateReplacement(path: string): PrivateReplacement {
  let existing;
  try {
    existing = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(path, e);
  }
  if (existing?.isSymbolicLink()) throw new UnsafeOutputPathError(`${path} is a symbolic link; refusing to write through it (give the real path)`);
  if (existing && !existing.isFile()) throw new UnsafeOutputPathError(`${path} is not a regular file; refusing to replace it`);

  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  let committed = false;
  try {
    fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    throw cannotWrite(path, e);
  }
  const openFd = (): number => {
    if (fd === undefined) throw new Error(`cannot write ${path}: its replacement is already finished`);
    return fd;
  };
  const discard = (): void => {
    if (committed) return;
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    rmSync(temporary, { force: true });
  };
  const guarded = (step: () => void): void => {
    try {
      step();
    } catch (e) {
      discard();
      throw cannotWrite(path, e);
    }
  };
  return {
    write(content) {
      const descriptor = openFd();
      guarded(() => {
        const bytes = typeof content === 'string' ? Buffer.from(content) : content;
        for (let written = 0; written < bytes.length;) written += writeSync(descriptor, bytes, written, bytes.length - written);
      });
    },
    commit() {
      const descriptor = openFd();
      guarded(() => {
        fsyncSync(descriptor);
        closeSync(descriptor);
        fd = undefined;
        renameSync(temporary, path);
        committed = true;
      });
    },
    discard,
  };
}

/** Replaces `path` with a private file holding `content` (see the module comment). */
export function replaceFilePrivately(path: string, content: string | Uint8Array): void {
  const replacement = openPrivateReplacement(path);
  replacement.write(content);
  replacement.commit();
}

/** An I/O failure, not a usage mistake: the CLI exits 1 with this message. */
function cannotWrite(path: string, cause: unknown): Error {
  return new Error(`cannot write ${path}: ${(cause as Error).message}`, { cause });
}
