import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { decodeBase64Url, encodeBase64Url } from '@pqseal/sdk/envelope';
import { EnvelopeError, open, seal, type OpenKeys } from '../../src/envelope/index.js';
import { keysFor, makeOrg, recipientOf, signerOf } from '../helpers/org-keys.js';

/**
 * Every mutation of a real envelope — a flipped bit anywhere, truncation, extension, insertion,
 * deletion, or an edited character of the string — must end in an EnvelopeError: never plaintext,
 * never another kind of exception.
 */

const RUNS = 2500;
let providers: CryptoProviders;
let keys: OpenKeys;
let envelopes: Uint8Array[];
let strings: string[];

before(async () => {
  providers = await loadProviders('fastest');
  const owner = makeOrg(providers, 'org_owner', 'Owner Org');
  const partner = makeOrg(providers, 'org_partner', 'Partner Org');
  keys = keysFor(owner, [owner, partner]);
  const permissions = [{ partnerId: 'org_partner', actions: ['read'] }];
  strings = [
    seal(providers, { plaintext: 'signed payload', recipient: recipientOf(owner), signer: signerOf(partner), permissions }).envelope,
    seal(providers, { plaintext: 'unsigned payload', recipient: recipientOf(owner) }).envelope,
  ];
  envelopes = strings.map(decodeBase64Url);
  for (const s of strings) assert.ok(open(providers, s, keys).plaintext.length > 0, 'the unmutated envelopes open');
});

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      const i = m.at % n;
      out[i] = (out[i] as number) ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return bytes.slice(0, m.keep % n);
    case 'extend':
      return Buffer.concat([bytes, m.extra]);
    case 'insert': {
      const i = m.at % (n + 1);
      return Buffer.concat([bytes.subarray(0, i), Uint8Array.of(m.byte), bytes.subarray(i)]);
    }
    case 'delete': {
      const i = m.at % n;
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
    }
  }
}

function assertRejected(envelope: string): void {
  try {
    const opened = open(providers, envelope, keys);
    assert.fail(`a mutated envelope opened (${opened.plaintext.length} bytes of plaintext)`);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
  }
}

test(`${RUNS} byte-level mutations of real envelopes are all rejected with an EnvelopeError`, () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1 }), mutation, (which, m) => {
      assertRejected(encodeBase64Url(apply(envelopes[which] as Uint8Array, m)));
    }),
    { numRuns: RUNS },
  );
});

test(`${RUNS} string-level edits (any character, any position) are all rejected with an EnvelopeError`, () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1 }), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (which, at, ch) => {
      const s = strings[which] as string;
      const i = at % s.length;
      fc.pre(s[i] !== ch);
      assertRejected(s.slice(0, i) + ch + s.slice(i + 1));
    }),
    { numRuns: RUNS },
  );
});
