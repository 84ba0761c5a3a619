import type { Store } from '../ports/store.js';

/**
 * /readyz's answer: can the store be written (a full disk or a read-only file fails it, not only a
 * closed store)? /readyz is unauthenticated and each probe is a commit with an fsync, so a result is
 * reused for `intervalMs` and concurrent callers share the probe in progress.
 */
export function storeReadiness(store: Pick<Store, 'writable'>, intervalMs = 1_000, now: () => number = Date.now): () => Promise<boolean> {
  let last: { readonly at: number; readonly ready: Promise<boolean> } | undefined;
  return () => {
    if (!last || now() - last.at >= intervalMs) last = { at: now(), ready: store.writable() };
    return last.ready;
  };
}
