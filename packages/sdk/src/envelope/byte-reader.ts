import { equalBytes, uintBE, utf8 } from './bytes.js';
import { malformed } from './errors.js';

/** Bounds-checked reader over the envelope bytes; every overrun is ENVELOPE_MALFORMED. */
export class ByteReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  take(length: number, what: string): Uint8Array {
    if (length > this.remaining) throw malformed(`truncated ${what}`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(what: string): number {
    return this.take(1, what)[0] as number;
  }

  u16(what: string): number {
    const b = this.take(2, what);
    return ((b[0] as number) << 8) | (b[1] as number);
  }

  u32(what: string): number {
    const b = this.take(4, what);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(what: string): bigint {
    const b = this.take(8, what);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }

  /** A length-prefixed ASCII string (identifiers): any byte above 0x7e is refused by the caller's pattern. */
  ascii(what: string): string {
    const raw = this.take(this.u8(what), what);
    return String.fromCharCode(...raw);
  }

  /** A length-prefixed UTF-8 string that must be well-formed and round-trip exactly. */
  string(prefix: 1 | 2, what: string): string {
    const length = prefix === 1 ? this.u8(what) : this.u16(what);
    const raw = this.take(length, what);
    const text = utf8.decode(raw);
    if (!equalBytes(utf8.encode(text), raw)) throw malformed(`${what} is not valid UTF-8`);
    return text;
  }

  rest(): Uint8Array {
    return this.take(this.remaining, 'remainder');
  }
}

/** Length-prefixed field encoders matching ByteReader. */
export function lp8(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > 0xff) throw new RangeError('field longer than 255 bytes');
  return [new Uint8Array([bytes.length]), bytes];
}

export function lp16(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > 0xffff) throw new RangeError('field longer than 65535 bytes');
  return [new Uint8Array([bytes.length >> 8, bytes.length & 0xff]), bytes];
}

export function lp32(bytes: Uint8Array): Uint8Array[] {
  return [uintBE(bytes.length, 4), bytes];
}
