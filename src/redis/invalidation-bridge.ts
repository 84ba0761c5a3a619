import { randomUUID } from 'node:crypto';
import { changeEvent, changeSubject, type ChangeEvent, type ChangeEvents, type EventChannel } from '../ports/invalidation.js';
import type { RedisConnection } from './connection.js';

const PUBLISH_WAIT_ON_CLOSE_MS = 2_000;

/**
 * Carries the invalidation bus between processes over Redis pub/sub: every local change is published
 * on `<prefix>changes`, every message from another process is re-emitted here as `remote`. A change
 * that cannot be published is not lost: it is in the store's change log, which every node polls.
 */
export class RedisInvalidationBridge {
  private readonly origin = randomUUID();
  private readonly pending = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly redis: Pick<RedisConnection, 'publish' | 'subscribe'>,
    private readonly channel: string,
    private readonly bus: EventChannel<ChangeEvents>,
    private readonly onPublishError: (error: unknown) => void,
  ) {}

  /** Publishes this process's changes; with `receive`, also re-emits those of the others. */
  async start(receive: boolean): Promise<void> {
    this.unsubscribe = this.bus.onAny((event, origin) => {
      if (origin === 'local') this.publish(event);
    });
    if (receive) await this.redis.subscribe(this.channel, (message) => this.receive(message));
  }

  /** Waits (a little) for publishes still in flight, e.g. before the CLI exits. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    const timeout = new Promise((resolve) => setTimeout(resolve, PUBLISH_WAIT_ON_CLOSE_MS).unref());
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
  }

  private publish(event: ChangeEvent): void {
    const message = JSON.stringify({ origin: this.origin, type: event.type, subject: changeSubject(event) });
    const sent = this.redis
      .publish(this.channel, message)
      .catch(this.onPublishError)
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  private receive(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const { origin, type, subject } = parsed as Record<string, unknown>;
    if (origin === this.origin) return;
    const event = changeEvent(type, subject);
    if (event) this.bus.emit(event, 'remote');
  }
}
