import { readlinkSync } from 'node:fs';

/**
 * The kernel's id of the calling thread (Linux: /proc/thread-self → "<pid>/task/<tid>"), so the
 * benchmark can read each thread's CPU time from /proc and say which part of the service spent it.
 * Undefined where /proc is not available.
 */
export function kernelThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where worker threads register their ids: a SharedArrayBuffer handed to every worker in its
 * workerData. Slot 0 counts registrations; a replaced worker (after a timeout) takes the next slot.
 */
export class ThreadIdRegistry {
  static readonly SLOTS = 64;
  readonly buffer: SharedArrayBuffer;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * (ThreadIdRegistry.SLOTS + 1));
  }

  /** Called by a worker thread at start-up. */
  register(): void {
    const tid = kernelThreadId();
    if (tid === undefined) return;
    const slots = new Int32Array(this.buffer);
    const index = Atomics.add(slots, 0, 1);
    if (index < ThreadIdRegistry.SLOTS) Atomics.store(slots, index + 1, tid);
  }

  ids(): number[] {
    const slots = new Int32Array(this.buffer);
    const count = Math.min(Atomics.load(slots, 0), ThreadIdRegistry.SLOTS);
    return Array.from({ length: count }, (_, i) => Atomics.load(slots, i + 1)).filter((tid) => tid > 0);
  }
}

/** The worker-start hook (src/core/worker-startup.ts): the thread registers its id in `buffer`. */
export default function register(buffer: unknown): void {
  if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('thread-id registration needs a SharedArrayBuffer');
  new ThreadIdRegistry(buffer).register();
}
