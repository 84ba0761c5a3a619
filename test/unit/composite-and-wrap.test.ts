import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { AeadAuthError } from '../../src/crypto/aes-gcm.js';
import { concatBytes, utf8 } from '../../src/crypto/bytes.js';
import {
  COMPOSITE_MLDSA65_ED25519,
  CompositeKeyError,
  CompositeSignature,
  type CompositeSigningKey,
  type CompositeVerifyingKey,
} from '../../src/crypto/composite-signature.js';
import { ed25519Verify } from '../../src/crypto/ed25519.js';
import { sha512 } from '../../src/crypto/hash.js';
import { MASTER_KEY_LENGTH, unwrapKey, wrapKey } from '../../src/crypto/key-wrap.js';
import { LiboqsMlDsa65Impl, ML_DSA_65, NobleMlDsa65 } from '../../src/crypto/ml-dsa-65.js';
import { seedFrom } from '../helpers/org-keys.js';

/**
 * Direct tests of the two constructions no published vectors cover: the composite
 * ML-DSA-65 + Ed25519 signature and private-key wrapping.
 */

const MESSAGE = utf8.encode('pay 100.00 EUR to account 12345');
const CTX = utf8.encode('pqseal/test');

function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 0x01;
  return copy;
}

describe('composite ML-DSA-65 + Ed25519 signature', () => {
  let signers: { name: string; composite: CompositeSignature }[];
  let key: CompositeSigningKey;
  let verifying: CompositeVerifyingKey;
  const seed = seedFrom('composite-and-wrap/signing', COMPOSITE_MLDSA65_ED25519.secretSeedLength);

  before(async () => {
    signers = [
      { name: 'noble (hedged)', composite: new CompositeSignature(new NobleMlDsa65()) },
      { name: 'noble (deterministic)', composite: new CompositeSignature(new NobleMlDsa65(true)) },
      { name: 'liboqs-wasm', composite: new CompositeSignature(await LiboqsMlDsa65Impl.create()) },
    ];
    key = signers[0]!.composite.expandSecret(seed);
    verifying = signers[0]!.composite.parsePublic(key.publicKey);
  });

  test('every implementation expands the same seed to the same key', () => {
    for (const { name, composite } of signers) {
      const other = composite.expandSecret(seed);
      assert.deepEqual(other.publicKey, key.publicKey, name);
      assert.deepEqual(other.mlDsaSecretKey, key.mlDsaSecretKey, name);
      assert.equal(other.publicKey.length, COMPOSITE_MLDSA65_ED25519.publicKeyLength);
    }
  });

  test('a signature by each implementation verifies with every implementation', () => {
    for (const signer of signers) {
      const sig = signer.composite.sign(key, MESSAGE, CTX);
      assert.equal(sig.length, COMPOSITE_MLDSA65_ED25519.signatureLength);
      for (const verifier of signers) {
        assert.ok(verifier.composite.verify(verifying, MESSAGE, sig, CTX), `signed by ${signer.name}, verified by ${verifier.name}`);
      }
    }
  });

  test("both components sign M' = Prefix || Label || len(ctx) || ctx || SHA-512(M)", () => {
    const sig = signers[2]!.composite.sign(key, MESSAGE, CTX);
    const mPrime = concatBytes(
      utf8.encode('CompositeAlgorithmSignatures2025'),
      utf8.encode('COMPSIG-MLDSA65-Ed25519-SHA512'),
      new Uint8Array([CTX.length]),
      CTX,
      sha512(MESSAGE),
    );
    const mlDsaPublic = key.publicKey.subarray(0, ML_DSA_65.publicKeyLength);
    assert.ok(ml_dsa65.verify(sig.subarray(0, ML_DSA_65.signatureLength), mPrime, mlDsaPublic), 'ML-DSA component (empty ML-DSA context)');
    assert.ok(ed25519Verify(verifying.ed25519Key, mPrime, sig.subarray(ML_DSA_65.signatureLength)), 'Ed25519 component');
  });

  test('the deterministic variant is reproducible, the hedged ones are not', () => {
    const [hedged, deterministic, liboqs] = signers.map((s) => s.composite);
    assert.deepEqual(deterministic!.sign(key, MESSAGE, CTX), deterministic!.sign(key, MESSAGE, CTX));
    assert.notDeepEqual(hedged!.sign(key, MESSAGE, CTX), hedged!.sign(key, MESSAGE, CTX));
    assert.notDeepEqual(liboqs!.sign(key, MESSAGE, CTX), liboqs!.sign(key, MESSAGE, CTX));
  });

  test('verification fails when either component is flipped, or ctx / message / length differ', () => {
    for (const signer of signers) {
      const sig = signer.composite.sign(key, MESSAGE, CTX);
      const cases: [string, Uint8Array, Uint8Array, Uint8Array][] = [
        ['ML-DSA component, first byte flipped', MESSAGE, flipped(sig, 0), CTX],
        ['ML-DSA component, last byte flipped', MESSAGE, flipped(sig, ML_DSA_65.signatureLength - 1), CTX],
        ['Ed25519 component, first byte flipped', MESSAGE, flipped(sig, ML_DSA_65.signatureLength), CTX],
        ['Ed25519 component, last byte flipped', MESSAGE, flipped(sig, sig.length - 1), CTX],
        ['different ctx', MESSAGE, sig, utf8.encode('pqseal/other')],
        ['empty ctx', MESSAGE, sig, new Uint8Array(0)],
        ['different message', utf8.encode('pay 900.00 EUR to account 12345'), sig, CTX],
        ['message with one bit flipped', flipped(MESSAGE, 4), sig, CTX],
        ['signature truncated by one byte', MESSAGE, sig.subarray(0, sig.length - 1), CTX],
        ['signature without the Ed25519 component', MESSAGE, sig.subarray(0, ML_DSA_65.signatureLength), CTX],
        ['signature with a trailing byte', MESSAGE, concatBytes(sig, new Uint8Array(1)), CTX],
        ['empty signature', MESSAGE, new Uint8Array(0), CTX],
      ];
      for (const [what, message, signature, ctx] of cases) {
        for (const verifier of signers) {
          assert.equal(verifier.composite.verify(verifying, message, signature, ctx), false, `${what}: signed by ${signer.name}, verified by ${verifier.name}`);
        }
      }
    }
  });

  test('components from two different valid signatures cannot be combined', () => {
    const liboqs = signers[2]!.composite;
    const a = liboqs.sign(key, MESSAGE, CTX);
    const b = liboqs.sign(key, utf8.encode('another message'), CTX);
    const spliced = concatBytes(a.subarray(0, ML_DSA_65.signatureLength), b.subarray(ML_DSA_65.signatureLength));
    for (const { name, composite } of signers) assert.equal(composite.verify(verifying, MESSAGE, spliced, CTX), false, name);
  });

  test('another key does not verify', () => {
    const composite = signers[0]!.composite;
    const otherKey = composite.expandSecret(seedFrom('composite-and-wrap/other', 64));
    const sig = composite.sign(otherKey, MESSAGE, CTX);
    assert.equal(composite.verify(verifying, MESSAGE, sig, CTX), false);
    assert.ok(composite.verify(composite.parsePublic(otherKey.publicKey), MESSAGE, sig, CTX));
  });

  test('bad key and context lengths are refused', () => {
    const composite = signers[0]!.composite;
    assert.throws(() => composite.expandSecret(seed.subarray(0, 63)), CompositeKeyError);
    assert.throws(() => composite.parsePublic(key.publicKey.subarray(1)), CompositeKeyError);
    assert.throws(() => composite.sign(key, MESSAGE, new Uint8Array(256)), RangeError);
    const sig = composite.sign(key, MESSAGE, new Uint8Array(255));
    assert.ok(composite.verify(verifying, MESSAGE, sig, new Uint8Array(255)), '255-byte ctx is the maximum');
  });
});

describe('private-key wrapping (AES-256-GCM, key id as associated data)', () => {
  const master = seedFrom('composite-and-wrap/master', MASTER_KEY_LENGTH);
  const secret = seedFrom('composite-and-wrap/secret', 64);
  const KEY_ID = 'sig_org1_v1';

  test('round trip for secrets of several lengths', () => {
    for (const length of [0, 1, 32, 64, 4032]) {
      const s = seedFrom(`composite-and-wrap/secret/${length}`, Math.max(length, 1)).subarray(0, length);
      const wrapped = wrapKey(master, KEY_ID, s);
      assert.equal(wrapped.length, 12 + length + 16, 'nonce || ciphertext || tag');
      assert.deepEqual(unwrapKey(master, KEY_ID, wrapped), s);
    }
  });

  test('each wrap uses a fresh nonce', () => {
    const a = wrapKey(master, KEY_ID, secret);
    const b = wrapKey(master, KEY_ID, secret);
    assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
    assert.notDeepEqual(a, b);
    assert.deepEqual(unwrapKey(master, KEY_ID, b), secret);
  });

  test('a wrong key id is rejected', () => {
    const wrapped = wrapKey(master, KEY_ID, secret);
    for (const other of ['sig_org1_v2', 'sig_org2_v1', '', `${KEY_ID} `, KEY_ID.toUpperCase()]) {
      assert.throws(() => unwrapKey(master, other, wrapped), AeadAuthError, JSON.stringify(other));
    }
  });

  test('a wrong master key is rejected', () => {
    const wrapped = wrapKey(master, KEY_ID, secret);
    assert.throws(() => unwrapKey(seedFrom('composite-and-wrap/other-master', 32), KEY_ID, wrapped), AeadAuthError);
    assert.throws(() => unwrapKey(flipped(master, 31), KEY_ID, wrapped), AeadAuthError);
  });

  test('any flipped bit in nonce, ciphertext or tag is rejected', () => {
    const wrapped = wrapKey(master, KEY_ID, secret);
    for (let i = 0; i < wrapped.length; i++) {
      assert.throws(() => unwrapKey(master, KEY_ID, flipped(wrapped, i)), AeadAuthError, `byte ${i}`);
    }
  });

  test('truncated or extended blobs are rejected', () => {
    const wrapped = wrapKey(master, KEY_ID, secret);
    for (const length of [0, 5, 12, 27, wrapped.length - 1]) {
      assert.throws(() => unwrapKey(master, KEY_ID, wrapped.subarray(0, length)), AeadAuthError, `${length} bytes`);
    }
    assert.throws(() => unwrapKey(master, KEY_ID, concatBytes(wrapped, new Uint8Array(1))), AeadAuthError, 'trailing byte');
  });

  test('a master key that is not 32 bytes is refused', () => {
    assert.throws(() => wrapKey(master.subarray(0, 16), KEY_ID, secret), RangeError);
    assert.throws(() => unwrapKey(concatBytes(master, new Uint8Array(1)), KEY_ID, wrapKey(master, KEY_ID, secret)), RangeError);
  });
});
