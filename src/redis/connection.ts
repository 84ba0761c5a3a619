import { createClient, defineScript, type CommandParser, type RedisArgument } from 'redis';

/**
 * One token bucket, atomically in Redis: `ARGV[1]` tokens per second refill continuously up to
 * `ARGV[2]`; `ARGV[3]` tokens are taken (a cost above the burst is taken from a full bucket, which
 * then owes the rest: src/ports/rate-limit.ts). Time is Redis's own (TIME), so the nodes' clocks do
 * not matter. Returns 0 when the tokens were taken, else the milliseconds until they are available.
 * The key expires once the bucket would be full again, so idle callers leave nothing behind.
 */
const TAKE_TOKEN = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3]) or 1
local needed = math.min(cost, burst)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens < needed then
  wait = math.ceil((needed - tokens) * 1000 / rate)
else
  tokens = tokens - cost
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait`,
  parseCommand(parser: CommandParser, key: RedisArgument, ratePerSecond: number, burst: number, cost: number) {
    parser.pushKey(key);
    parser.push(String(ratePerSecond), String(burst), String(cost));
  },
  transformReply: undefined as unknown as () => number,
});

export interface RedisConnectionOptions {
  readonly url: string;
  /** A command or a connection attempt that takes longer fails: callers refuse rather than wait. */
  readonly timeoutMs: number;
  /** Connection trouble, reported once per outage (never with a secret: node-redis errors carry no URL). */
  readonly onDown: (error: Error) => void;
  readonly onUp: () => void;
}

/** The subscriber sends PING this often: a connection that stops answering (a black-holed network) is not trusted. */
const PING_INTERVAL_MS = 1_000;
/** Token takes waiting for Redis's reply before further ones are refused at once (503): memory stays bounded. */
const MAX_IN_FLIGHT = 1_024;

function newClient(options: RedisConnectionOptions) {
  return createClient({
    url: options.url,
    pingInterval: PING_INTERVAL_MS,
    // Fail fast: a command while disconnected rejects at once instead of waiting in a queue.
    disableOfflineQueue: true,
    commandOptions: { timeout: options.timeoutMs },
    socket: {
      connectTimeout: options.timeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000),
    },
    scripts: { takeToken: TAKE_TOKEN },
  });
}

/**
 * The two connections a process keeps to Redis (node-redis): commands, and the subscriber that
 * pub/sub needs to itself. Both reconnect forever with a capped back-off.
 */
export class RedisConnection {
  private readonly commands;
  private readonly subscriber;
  private down = false;
  private inFlight = 0;
  private readonly subscriptions = new Map<string, (message: string) => void>();
  private readonly subscribed = new Set<string>();
  private lastPong = 0;

  constructor(private readonly options: RedisConnectionOptions) {
    this.commands = newClient(options);
    this.subscriber = newClient(options);
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (error: Error) => this.markDown(error));
      client.on('ready', () => this.markUp());
    }
    // A subscriber that reconnects resubscribes by itself; one that never got to subscribe does it here.
    this.subscriber.on('ready', () => {
      this.lastPong = Date.now();
      void this.subscribeAll();
    });
    this.subscriber.on('ping-interval', () => (this.lastPong = Date.now()));
  }

  /** Connects both clients, waiting at most `waitMs`; a server that is down is retried in the background. */
  async connect(waitMs: number): Promise<void> {
    const connected = Promise.all([this.commands.connect(), this.subscriber.connect()]).then(() => this.subscribeAll());
    connected.catch(() => undefined);
    await Promise.race([connected, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  /** Both connections are up and every subscription is in place. */
  get ready(): boolean {
    return this.commands.isReady && this.subscriptionsLive();
  }

  /** The subscriber is connected, subscribed and answered a PING lately: published changes reach this process. */
  subscriptionsLive(): boolean {
    const answering = Date.now() - this.lastPong <= 3 * PING_INTERVAL_MS + this.options.timeoutMs;
    return this.subscriber.isReady && answering && this.subscribed.size === this.subscriptions.size;
  }

  /**
   * Runs the token-bucket script; rejects at once while disconnected or while `MAX_IN_FLIGHT` takes
   * already wait for Redis, and after the timeout. node-redis's own command timeout covers only the
   * wait to be sent, not the wait for the reply: a Redis that is reachable but slow would otherwise
   * hold every request (and its memory) for as long as it takes.
   */
  takeToken(key: string, ratePerSecond: number, burst: number, cost = 1): Promise<number> {
    if (this.inFlight >= MAX_IN_FLIGHT) return Promise.reject(new Error(`${MAX_IN_FLIGHT} Redis commands already waiting for their reply`));
    this.inFlight++;
    const reply = this.commands.takeToken(key, ratePerSecond, burst, cost);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply from Redis within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    // The slot is freed when Redis answers (or the connection fails), not at the timeout: the command is still out.
    reply.then(
      () => this.inFlight--,
      () => this.inFlight--,
    );
    return Promise.race([reply, late]).finally(() => clearTimeout(timer));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.commands.publish(channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    this.subscriptions.set(channel, listener);
    await this.subscribeAll();
  }

  async close(): Promise<void> {
    const open = [this.commands, this.subscriber].filter((client) => client.isOpen);
    await Promise.all(open.map((client) => client.close().catch(() => client.destroy())));
  }

  private async subscribeAll(): Promise<void> {
    if (!this.subscriber.isReady) return;
    for (const [channel, listener] of this.subscriptions) {
      if (this.subscribed.has(channel)) continue;
      try {
        await this.subscriber.subscribe(channel, listener);
        this.subscribed.add(channel);
      } catch (error) {
        this.markDown(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private markDown(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.options.onDown(error);
  }

  private markUp(): void {
    if (!this.down || !this.commands.isReady || !this.subscriber.isReady) return;
    this.down = false;
    this.options.onUp();
  }
}
