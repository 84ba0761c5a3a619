import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key one client is counted under, for the login budget and for load shedding: an IPv6 client
 * by its /64, the block one subscriber usually holds; IPv4-mapped addresses as IPv4; no address as
 * one shared key.
 */

const NO_ADDRESS = 'unknown';

export function addressKey(clientAddress: string | undefined): string {
  if (clientAddress === undefined || clientAddress === '') return NO_ADDRESS;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(clientAddress);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(clientAddress)) return clientAddress;
  if (isIPv6(clientAddress)) return `${ipv6Hextets(clientAddress).slice(0, 4).join(':')}::/64`;
  return clientAddress;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, `::` expanded, embedded IPv4 split). */
function ipv6Hextets(address: string): string[] {
  let text = address.split('%')[0] as string;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((h) => parseInt(h, 16).toString(16));
}
