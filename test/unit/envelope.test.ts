import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { utf8 } from '../../src/crypto/bytes.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { EnvelopeError, inspectEnvelope, inspectEnvelopeHeader, open, seal, MAX_PLAINTEXT_BYTES } from '../../src/envelope/index.js';
import { COMPOSITE_MLDSA65_ED25519_SIZES, decodeBase64Url, encodeBase64Url, XWING_CIPHERTEXT_LENGTH } from '@pqseal/sdk/envelope';
import { COMPOSITE_MLDSA65_ED25519 } from '../../src/crypto/composite-signature.js';
import { ML_DSA_65 } from '../../src/crypto/ml-dsa-65.js';
import { X_WING } from '../../src/crypto/x-wing.js';
import { keysFor, makeOrg, recipientOf, signerOf, type TestOrg } from '../helpers/org-keys.js';

let fast: CryptoProviders;
let noble: CryptoProviders;
let rockville: TestOrg;
let partner: TestOrg;

before(async () => {
  [fast, noble] = await Promise.all([loadProviders('fastest'), loadProviders('noble')]);
  rockville = makeOrg(fast, 'org_rockville', 'Rockville Insurance Group');
  partner = makeOrg(fast, 'org_partner', 'Partner Health');
});

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof EnvelopeError && e.code === code);
}

describe('seal and open round trips', () => {
  const texts = ['', 'sensitive information to sign and encrypt', '🔐 émoji · עברית RTL · \u0000 NUL · 中文', 'x'.repeat(1 << 20)];
  for (const text of texts) {
    test(`sign-encrypt then decrypt-verify: ${JSON.stringify(text.slice(0, 24))} (${text.length} chars)`, () => {
      const sealed = seal(fast, { plaintext: text, recipient: recipientOf(partner), signer: signerOf(rockville) });
      assert.match(sealed.envelope, /^[A-Za-z0-9_-]+$/);
      const opened = open(fast, sealed.envelope, keysFor(partner, [rockville]));
      assert.equal(utf8.decode(opened.plaintext), text);
      assert.equal(opened.header.contentType, 'text');
      assert.equal(opened.envelopeId, sealed.envelopeId);
      assert.equal(opened.signature.status, 'valid');
      assert.equal(opened.signature.signerName, 'Rockville Insurance Group');
      assert.equal(opened.signature.signerOrgId, 'org_rockville');
      assert.match(opened.signature.signedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    });
  }

  test('encrypt (unsigned) opens with signature status "absent"', () => {
    const sealed = seal(fast, { plaintext: 'plain', recipient: recipientOf(rockville) });
    const opened = open(fast, sealed.envelope, keysFor(rockville, []));
    assert.equal(utf8.decode(opened.plaintext), 'plain');
    assert.deepEqual(opened.signature, { status: 'absent' });
  });

  test('binary payloads keep content type "binary" and every byte', () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
    const sealed = seal(fast, { plaintext: bytes, recipient: recipientOf(rockville), signer: signerOf(rockville) });
    const opened = open(fast, sealed.envelope, keysFor(rockville, [rockville]));
    assert.equal(opened.header.contentType, 'binary');
    assert.deepEqual(opened.plaintext, bytes);
  });

  test('16 MiB, the library limit, round-trips; one byte more is ENVELOPE_TOO_LARGE', () => {
    const big = new Uint8Array(MAX_PLAINTEXT_BYTES).fill(0x61);
    const sealed = seal(fast, { plaintext: big, recipient: recipientOf(rockville), signer: signerOf(rockville) });
    const opened = open(fast, sealed.envelope, keysFor(rockville, [rockville]));
    assert.equal(opened.plaintext.length, MAX_PLAINTEXT_BYTES);
    assert.equal(opened.signature.status, 'valid');
    expectCode(() => seal(fast, { plaintext: new Uint8Array(MAX_PLAINTEXT_BYTES + 1), recipient: recipientOf(rockville) }), 'ENVELOPE_TOO_LARGE');
  });

  test('implementations interoperate: liboqs seals, noble opens and verifies, and back', () => {
    const a = seal(fast, { plaintext: 'cross', recipient: recipientOf(partner), signer: signerOf(rockville) });
    const nobleOrgs = [makeOrg(noble, 'org_rockville', 'Rockville Insurance Group'), makeOrg(noble, 'org_partner', 'Partner Health')] as const;
    const openedByNoble = open(noble, a.envelope, keysFor(nobleOrgs[1], [nobleOrgs[0]]));
    assert.equal(openedByNoble.signature.status, 'valid');
    const b = seal(noble, { plaintext: 'back', recipient: recipientOf(nobleOrgs[1]), signer: signerOf(nobleOrgs[0]) });
    assert.equal(open(fast, b.envelope, keysFor(partner, [rockville])).signature.status, 'valid');
  });

  test('permissions are bound into the header and reported', () => {
    const permissions = [{ partnerId: 'org_partner', actions: ['read'], expiresAt: '2030-01-01T00:00:00.000Z' }];
    const sealed = seal(fast, { plaintext: 'shared', recipient: recipientOf(rockville), signer: signerOf(rockville), permissions });
    assert.deepEqual(inspectEnvelope(sealed.envelope).header.permissions, permissions);
  });
});

describe('signatures that do not hold', () => {
  test('an unknown signer key gives status invalid with the claimed signer (repudiator)', () => {
    const sealed = seal(fast, { plaintext: 'x', recipient: recipientOf(partner), signer: signerOf(rockville) });
    const opened = open(fast, sealed.envelope, keysFor(partner, []));
    assert.equal(opened.signature.status, 'invalid');
    assert.equal(opened.signature.reason, 'SIGNER_KEY_UNKNOWN');
    assert.equal(opened.signature.signerName, 'Rockville Insurance Group');
  });

  test('a signer impersonated with another key is SIGNATURE_MISMATCH', () => {
    const mallory = makeOrg(fast, 'org_mallory', 'Mallory');
    const forged = { ...signerOf(mallory), orgId: rockville.orgId, keyId: rockville.signKeyId, displayName: rockville.name };
    const sealed = seal(fast, { plaintext: 'x', recipient: recipientOf(partner), signer: forged });
    const opened = open(fast, sealed.envelope, keysFor(partner, [rockville]));
    assert.equal(opened.signature.status, 'invalid');
    assert.equal(opened.signature.reason, 'SIGNATURE_MISMATCH');
  });
});

describe('rejections', () => {
  let envelope: string;
  before(() => {
    envelope = seal(fast, { plaintext: 'secret payload', recipient: recipientOf(partner), signer: signerOf(rockville) }).envelope;
  });

  test('the wrong recipient gets KEY_NOT_FOUND, and a wrong key under the right id ENVELOPE_AUTH_FAILED', () => {
    expectCode(() => open(fast, envelope, keysFor(rockville, [rockville])), 'KEY_NOT_FOUND');
    const impostor = { ...partner, kem: rockville.kem };
    expectCode(() => open(fast, envelope, keysFor(impostor, [rockville])), 'ENVELOPE_AUTH_FAILED');
  });

  test('re-targeting: rewriting the owner org id in the header fails authentication', () => {
    const bytes = decodeBase64Url(envelope).slice();
    const parsed = inspectEnvelope(envelope);
    const idOffset = 2 + 16 + 8 + 1 + 1;
    bytes.set(utf8.encode('org_partneR'), idOffset);
    const retargeted = { ...partner, orgId: 'org_partneR' };
    assert.equal(parsed.header.ownerOrgId, 'org_partner');
    expectCode(() => open(fast, encodeBase64Url(bytes), keysFor(retargeted, [rockville])), 'ENVELOPE_AUTH_FAILED');
  });

  test('unknown version and suite', () => {
    const bytes = decodeBase64Url(envelope).slice();
    // v1 → v2 is a supported version whose key schedule differs: authentication fails (test below); 3 is unknown.
    bytes[0] = 3;
    expectCode(() => open(fast, encodeBase64Url(bytes), keysFor(partner, [rockville])), 'ENVELOPE_UNSUPPORTED_VERSION');
    bytes[0] = 1;
    bytes[1] = 9;
    expectCode(() => open(fast, encodeBase64Url(bytes), keysFor(partner, [rockville])), 'ENVELOPE_UNSUPPORTED_SUITE');
  });

  test('truncated, extended, padded, non-base64 and non-canonical strings are malformed or unauthentic', () => {
    const keys = keysFor(partner, [rockville]);
    expectCode(() => open(fast, '', keys), 'ENVELOPE_MALFORMED');
    expectCode(() => open(fast, envelope.slice(0, 100), keys), 'ENVELOPE_MALFORMED');
    assert.throws(
      () => open(fast, envelope.slice(0, -5), keys),
      (e: unknown) => e instanceof EnvelopeError && ['ENVELOPE_MALFORMED', 'ENVELOPE_AUTH_FAILED'].includes(e.code),
    );
    expectCode(() => open(fast, encodeBase64Url(decodeBase64Url(envelope).subarray(0, -1)), keys), 'ENVELOPE_AUTH_FAILED');
    expectCode(() => open(fast, `${envelope}AAAA`, keys), 'ENVELOPE_AUTH_FAILED');
    expectCode(() => open(fast, `${envelope}=`, keys), 'ENVELOPE_MALFORMED');
    expectCode(() => open(fast, envelope.replace(/^./, '+'), keys), 'ENVELOPE_MALFORMED');
    expectCode(() => open(fast, `${envelope} `, keys), 'ENVELOPE_MALFORMED');
  });

  test('an oversized string is rejected before decoding', () => {
    expectCode(() => inspectEnvelope('A'.repeat(23_000_000)), 'ENVELOPE_TOO_LARGE');
  });
});

describe('inspectEnvelopeHeader (the service reads only the header before a worker opens the envelope)', () => {
  test('large envelopes: same header as a full inspection, from a prefix of the text', () => {
    const sealed = seal(fast, { plaintext: 'h'.repeat(300_000), recipient: recipientOf(rockville), signer: signerOf(rockville) });
    assert.deepEqual(inspectEnvelopeHeader(sealed.envelope), inspectEnvelope(sealed.envelope).header);
    // A damaged tail is not the header's business: the worker's full decode reports it.
    const damaged = `${sealed.envelope.slice(0, -8)}!!!!!!!!`;
    assert.deepEqual(inspectEnvelopeHeader(damaged), inspectEnvelope(sealed.envelope).header);
    expectCode(() => inspectEnvelope(damaged), 'ENVELOPE_MALFORMED');
  });

  test('a permission list longer than the probe is read from the whole text', () => {
    const permissions = Array.from({ length: 120 }, (_, i) => ({ partnerId: `org_partner_number_${String(i).padStart(4, '0')}`, actions: ['read' as const] }));
    const sealed = seal(fast, { plaintext: 'p', recipient: recipientOf(rockville), permissions });
    assert.ok(sealed.envelope.length > 4096);
    assert.equal(inspectEnvelopeHeader(sealed.envelope).permissions.length, 120);
  });

  test('bad headers fail with the same codes as a full inspection', () => {
    const sealed = seal(fast, { plaintext: 'v'.repeat(10_000), recipient: recipientOf(rockville) });
    const bytes = decodeBase64Url(sealed.envelope);
    const withVersion = new Uint8Array(bytes);
    withVersion[0] = 9;
    expectCode(() => inspectEnvelopeHeader(encodeBase64Url(withVersion)), 'ENVELOPE_UNSUPPORTED_VERSION');
    expectCode(() => inspectEnvelopeHeader(`*${sealed.envelope.slice(1)}`), 'ENVELOPE_MALFORMED');
    expectCode(() => inspectEnvelopeHeader('short'), 'ENVELOPE_MALFORMED');
  });
});

test("the format module's wire sizes are the crypto layer's", () => {
  assert.equal(XWING_CIPHERTEXT_LENGTH, X_WING.cipherTextLength);
  const sizes = COMPOSITE_MLDSA65_ED25519_SIZES;
  assert.deepEqual(
    [sizes.publicKey, sizes.signature, sizes.mlDsa65PublicKey, sizes.mlDsa65Signature],
    [COMPOSITE_MLDSA65_ED25519.publicKeyLength, COMPOSITE_MLDSA65_ED25519.signatureLength, ML_DSA_65.publicKeyLength, ML_DSA_65.signatureLength],
  );
});
