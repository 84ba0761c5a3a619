import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` on every node until all pass; returns the milliseconds it took. Fails when a check
 * that started later than `withinMs` after the change still fails: from then on every node must show
 * the change (a slow answer on a loaded machine does not count against the propagation).
 */
export async function untilAll<N>(nodes: readonly N[], check: (node: N) => Promise<boolean>, withinMs: number, what: string): Promise<number> {
  const started = Date.now();
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const node of [...pending]) {
      const sentAt = Date.now() - started;
      if (await check(node)) pending.delete(node);
      else if (sentAt > withinMs) assert.fail(`${what}: a request sent ${sentAt} ms after the change still saw the old state`);
    }
    if (pending.size > 0) await sleep(25);
  }
  return Date.now() - started;
}
