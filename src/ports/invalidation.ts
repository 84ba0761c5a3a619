/**
 * Cache invalidation. A change that cached state depends on (a user disabled, enabled or given a new
 * password; partner credentials revoked; an organisation's keys rotated or its name changed) is, in
 * the transaction that makes it, written to the store's change log (src/ports/change-log.ts), and
 * after the commit emitted here, on this process's bus. Caches subscribe in the composition root and
 * only drop entries. Other processes learn of it from Redis pub/sub (src/redis/invalidation-bridge.ts)
 * and, with or without Redis, by polling the change log (src/store/change-log-poller.ts); both
 * re-emit it here as `remote`. Revocations are not cached anywhere, so they need no event.
 */

export interface ChangeEvents {
  'user-changed': { readonly type: 'user-changed'; readonly userId: string };
  'credentials-revoked': { readonly type: 'credentials-revoked'; readonly credentialId: string };
  'keys-rotated': { readonly type: 'keys-rotated'; readonly orgId: string };
  'organisation-renamed': { readonly type: 'organisation-renamed'; readonly orgId: string };
}

/** Earlier names of the same types. */
export type AuthEvents = ChangeEvents;

export type ChangeEvent = ChangeEvents[keyof ChangeEvents];
export type IdentityEvent = ChangeEvent;

/** `local`: made by this process; `remote`: learnt from another one (never forwarded again). */
export type EventOrigin = 'local' | 'remote';

/** The field that names what changed, per event type (what the change log stores as `subject`). */
const SUBJECT_FIELD = {
  'user-changed': 'userId',
  'credentials-revoked': 'credentialId',
  'keys-rotated': 'orgId',
  'organisation-renamed': 'orgId',
} as const satisfies { [K in keyof ChangeEvents]: Exclude<keyof ChangeEvents[K], 'type'> };

const SUBJECT_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

export function changeSubject(event: ChangeEvent): string {
  return (event as unknown as Record<string, string>)[SUBJECT_FIELD[event.type]] as string;
}

/** The event for a change-log row or a pub/sub message, or undefined when it is not one we know (ignored). */
export function changeEvent(type: unknown, subject: unknown): ChangeEvent | undefined {
  if (typeof type !== 'string' || !Object.hasOwn(SUBJECT_FIELD, type)) return undefined;
  if (typeof subject !== 'string' || !SUBJECT_PATTERN.test(subject)) return undefined;
  const field = SUBJECT_FIELD[type as keyof ChangeEvents];
  return { type, [field]: subject } as unknown as ChangeEvent;
}

/** A minimal typed publish/subscribe channel. */
export class EventChannel<M extends { [K in keyof M]: { readonly type: K } }> {
  private readonly listeners = new Map<keyof M, Set<(event: never, origin: EventOrigin) => void>>();
  private readonly anyListeners = new Set<(event: M[keyof M], origin: EventOrigin) => void>();

  /** Returns the function that unsubscribes. */
  on<K extends keyof M>(type: K, listener: (event: M[K], origin: EventOrigin) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Every event, whatever its type (the bridges to other processes). */
  onAny(listener: (event: M[keyof M], origin: EventOrigin) => void): () => void {
    this.anyListeners.add(listener);
    return () => void this.anyListeners.delete(listener);
  }

  emit<K extends keyof M>(event: M[K] & { readonly type: K }, origin: EventOrigin = 'local'): void {
    const listeners = [...(this.listeners.get(event.type) ?? []), ...this.anyListeners] as ((event: M[K], origin: EventOrigin) => void)[];
    for (const listener of listeners) {
      try {
        listener(event, origin);
      } catch (error) {
        // A failing cache listener must not undo or hide the change that was already committed.
        process.emitWarning(`${String(event.type)} listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  listenerCount(type: keyof M): number {
    return this.listeners.get(type)?.size ?? 0;
  }
}

export const identityEvents = new EventChannel<ChangeEvents>();
