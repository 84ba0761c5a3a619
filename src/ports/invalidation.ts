/**
 * In-process notifications for cache invalidation, fired after a change is committed: a user was
 * disabled, enabled or changed password, or partner credentials were revoked. Listeners only drop
 * cache entries; other processes learn of changes through their caches' TTLs.
 */

export interface AuthEvents {
  'user-changed': { readonly type: 'user-changed'; readonly userId: string };
  'credentials-revoked': { readonly type: 'credentials-revoked'; readonly credentialId: string };
}

export type IdentityEvent = AuthEvents[keyof AuthEvents];

/** A minimal typed publish/subscribe channel. */
export class EventChannel<M extends { [K in keyof M]: { readonly type: K } }> {
  private readonly listeners = new Map<keyof M, Set<(event: never) => void>>();

  /** Returns the function that unsubscribes. */
  on<K extends keyof M>(type: K, listener: (event: M[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  emit<K extends keyof M>(event: M[K] & { readonly type: K }): void {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) {
      try {
        (listener as (event: M[K]) => void)(event);
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

export const identityEvents = new EventChannel<AuthEvents>();
