import type { Memo } from './open.js';

/**
 * A memo of at most `capacity` entries that forgets the least recently used one (a Map keeps
 * insertion order; a hit is re-inserted at the end). Bounded, so an attacker sending envelopes of
 * many batches only evicts entries, never grows memory.
 */
export class LruMemo<V> implements Memo<V> {
  private readonly entries = new Map<string, V>();
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('memo capacity must be a positive integer');
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
