import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { utf8 } from '../../src/crypto/bytes.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { EnvelopeError, LruMemo, inspectEnvelope, open, seal, sealBatch, type BatchSealOutcome } from '../../src/envelope/index.js';
import type { SignatureCheck } from '../../src/envelope/open.js';
import { keysFor, makeOrg, recipientOf, signerOf, type TestOrg } from '../helpers/org-keys.js';

let fast: CryptoProviders;
let rockville: TestOrg;
let partner: TestOrg;

before(async () => {
  fast = await loadProviders('fastest');
  rockville = makeOrg(fast, 'org_rockville', 'Rockville Insurance Group');
  partner = makeOrg(fast, 'org_partner', 'Partner Health');
});

function batchOf(check: SignatureCheck) {
  return check.status === 'absent' ? undefined : check.batch;
}

function envelopes(outcomes: readonly BatchSealOutcome[]): string[] {
  return outcomes.map((o) => {
    if (o instanceof Error) throw o;
    return o.envelope;
  });
}

describe('envelope v2: batch-signed, one encapsulation per batch', () => {
  for (const size of [1, 2, 3, 5, 8, 13, 64]) {
    test(`a batch of ${size} seals envelopes that each open and verify alone`, () => {
      const items = Array.from({ length: size }, (_, i) => ({ plaintext: `message ${i}` }));
      const sealed = envelopes(sealBatch(fast, { items, recipient: recipientOf(partner), signer: signerOf(rockville) }));
      const cts = new Set(sealed.map((e) => Buffer.from(inspectEnvelope(e).kemCipherText).toString('hex')));
      assert.equal(cts.size, 1, 'one encapsulation for the batch');
      sealed.forEach((envelope, i) => {
        const opened = open(fast, envelope, keysFor(partner, [rockville]));
        assert.equal(opened.header.version, 2);
        assert.equal(utf8.decode(opened.plaintext), `message ${i}`);
        assert.equal(opened.signature.status, 'valid');
        assert.equal(batchOf(opened.signature)?.size, size);
        assert.equal(batchOf(opened.signature)?.index, i);
      });
    });
  }

  test('the envelopes of a batch pay for one decapsulation and one signature check with memos', () => {
    const items = Array.from({ length: 16 }, (_, i) => ({ plaintext: `m${i}` }));
    const sealed = envelopes(sealBatch(fast, { items, recipient: recipientOf(partner), signer: signerOf(rockville) }));
    let verifies = 0;
    let decaps = 0;
    const composite = Object.create(fast.composite) as CryptoProviders['composite'];
    composite.verify = (...a) => (verifies++, fast.composite.verify(...a));
    const xWing = Object.create(fast.xWing) as CryptoProviders['xWing'];
    xWing.decapsulate = (...a) => (decaps++, fast.xWing.decapsulate(...a));
    const counting: CryptoProviders = { ...fast, composite, xWing };
    const keys = { ...keysFor(partner, [rockville]), sharedSecrets: new LruMemo<Uint8Array>(8), verifiedRoots: new LruMemo<true>(8) };
    for (const e of sealed) assert.equal(open(counting, e, keys).signature.status, 'valid');
    assert.equal(verifies, 1);
    assert.equal(decaps, 1);
  });

  test('unsigned v2 envelopes open with signature absent; v1 envelopes still open', () => {
    const [v2] = envelopes(sealBatch(fast, { items: [{ plaintext: 'plain' }], recipient: recipientOf(partner) }));
    const opened = open(fast, v2 as string, keysFor(partner, [rockville]));
    assert.equal(opened.signature.status, 'absent');
    const v1 = seal(fast, { plaintext: 'old', recipient: recipientOf(partner), signer: signerOf(rockville) });
    const openedV1 = open(fast, v1.envelope, keysFor(partner, [rockville]));
    assert.equal(openedV1.header.version, 1);
    assert.equal(openedV1.signature.status, 'valid');
  });

  test('an item too large fails alone; the rest of the batch seals and verifies', () => {
    const outcomes = sealBatch(fast, {
      items: [{ plaintext: 'a' }, { plaintext: new Uint8Array(16 * 1024 * 1024 + 1) }, { plaintext: 'c' }],
      recipient: recipientOf(partner),
      signer: signerOf(rockville),
    });
    assert.ok(outcomes[1] instanceof EnvelopeError && outcomes[1].code === 'ENVELOPE_TOO_LARGE');
    for (const i of [0, 2]) {
      const o = outcomes[i];
      assert.ok(o && !(o instanceof Error));
      const opened = open(fast, o.envelope, keysFor(partner, [rockville]));
      assert.equal(opened.signature.status, 'valid');
      assert.equal(batchOf(opened.signature)?.size, 2);
    }
  });
});
