import type { CacheTrust } from '../ports/cache.js';

/**
 * Caches are trusted while every source of invalidations is healthy (the change-log poll, the Redis
 * subscription). The epoch moves on every change of that answer, so entries cached before an outage
 * are never served after it, whatever they missed meanwhile. The answer is looked at on every cache
 * read and, so that an outage with no reads is not overlooked, every `watchMs` by a timer.
 */
export class CacheTrustSignals implements CacheTrust {
  private current = 0;
  private wasTrusted = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly healthy: readonly (() => boolean)[]) {}

  watch(watchMs = 100): void {
    this.timer ??= setInterval(() => this.trusted(), watchMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get epoch(): number {
    this.trusted();
    return this.current;
  }

  trusted(): boolean {
    const ok = this.healthy.every((source) => source());
    if (ok !== this.wasTrusted) {
      this.wasTrusted = ok;
      this.current++;
    }
    return ok;
  }
}
