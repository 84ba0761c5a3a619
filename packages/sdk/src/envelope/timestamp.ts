/** Timestamps are carried as microseconds since the Unix epoch (u64) and shown as ISO 8601 with microseconds. */

let lastMicros = 0n;

/** Current time in microseconds, strictly monotonic within this process. */
export function nowMicros(): bigint {
  const micros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  lastMicros = micros > lastMicros ? micros : lastMicros + 1n;
  return lastMicros;
}

/** `2025-10-19T17:28:27.659100+00:00`, the format of the hosted service's `signed_timestamp`. */
export function formatMicros(micros: bigint): string {
  const millis = Number(micros / 1000n);
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0');
  const iso = new Date(millis).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}.${fraction}+00:00`;
}
