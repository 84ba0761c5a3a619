import { randomBytes } from 'node:crypto';
import {
  ENVELOPE_SIGNATURE_CONTEXT,
  ENVELOPE_VERSION_1,
  EnvelopeError,
  MAX_DISPLAY_NAME_BYTES,
  MAX_PERMISSION_BYTES,
  MAX_PLAINTEXT_BYTES,
  SUITE_XWING_AES256GCM_MLDSA65ED25519,
  assertIdentifier,
  bytesToHex,
  concatBytes,
  encodeBase64Url,
  encodeHeader,
  encodeInnerPrefix,
  encodePermissions,
  formatMicros,
  nowMicros,
  signedMessage,
  type ContentType,
  type PermissionGrant,
  type SignerIdentity,
} from '@pqseal/sdk/envelope';
import { aesGcmSeal } from '../crypto/aes-gcm.js';
import { utf8 } from '../crypto/bytes.js';
import type { CompositeSigningKey } from '../crypto/composite-signature.js';
import { sha512Stream } from '../crypto/hash.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { deriveAeadKey } from './key-schedule.js';

export interface SealRecipient {
  readonly orgId: string;
  readonly kemKeyId: string;
  /** X-Wing encapsulation key (1216 bytes). */
  readonly publicKey: Uint8Array;
}

export interface SealSigner extends SignerIdentity {
  readonly key: CompositeSigningKey;
}

export interface SealInput {
  readonly plaintext: string | Uint8Array;
  readonly recipient: SealRecipient;
  /** Present for sign-encrypt, absent for encrypt. */
  readonly signer?: SealSigner | undefined;
  readonly permissions?: readonly PermissionGrant[] | undefined;
  /** Injected only to make test vectors reproducible. */
  readonly createdAtMicros?: bigint;
  /** Injected only to make test vectors reproducible: supplies the envelope id and the X-Wing eseed. */
  readonly random?: (length: number) => Uint8Array;
}

export interface SealedEnvelope {
  readonly envelope: string;
  readonly envelopeId: string;
  readonly createdAt: string;
  readonly byteLength: number;
}

/** A v1 envelope: its own encapsulation and, signed, its own signature (kept to make v1 vectors and to test v1 opening). */
export function seal(providers: CryptoProviders, input: SealInput): SealedEnvelope {
  const payload = typeof input.plaintext === 'string' ? utf8.encode(input.plaintext) : input.plaintext;
  if (payload.length > MAX_PLAINTEXT_BYTES) {
    throw new EnvelopeError('ENVELOPE_TOO_LARGE', `plaintext exceeds ${MAX_PLAINTEXT_BYTES} bytes`);
  }
  const contentType: ContentType = typeof input.plaintext === 'string' ? 'text' : 'binary';
  const permissionBytes = encodePermissions(input.permissions ?? []);
  if (permissionBytes.length > MAX_PERMISSION_BYTES) throw new RangeError('permission list too long');
  const random = input.random ?? randomBytes;
  const envelopeId = random(16);
  const createdAtMicros = input.createdAtMicros ?? nowMicros();

  const header = encodeHeader(
    {
      version: ENVELOPE_VERSION_1,
      suite: SUITE_XWING_AES256GCM_MLDSA65ED25519,
      envelopeId,
      createdAtMicros,
      contentType,
      ownerOrgId: input.recipient.orgId,
      kemKeyId: input.recipient.kemKeyId,
      permissions: input.permissions ?? [],
    },
    permissionBytes,
  );

  const innerPrefix = encodeInnerPrefix(input.signer && signPayload(providers, input.signer, header, payload));
  const { cipherText: kemCipherText, sharedSecret } = providers.xWing.encapsulate(input.recipient.publicKey, input.random ? input.random(64) : undefined);
  const aad = concatBytes(header, kemCipherText);
  const { key, nonce } = deriveAeadKey(sharedSecret, envelopeId, ENVELOPE_VERSION_1, SUITE_XWING_AES256GCM_MLDSA65ED25519);
  const bytes = aesGcmSeal(key, nonce, [innerPrefix, payload], aad, aad);
  return {
    envelope: encodeBase64Url(bytes),
    envelopeId: bytesToHex(envelopeId),
    createdAt: formatMicros(createdAtMicros),
    byteLength: bytes.length,
  };
}

export function checkSigner(signer: SealSigner): void {
  assertIdentifier(signer.orgId, 'signer organisation id');
  assertIdentifier(signer.keyId, 'signer key id');
  if (utf8.encode(signer.displayName).length > MAX_DISPLAY_NAME_BYTES) throw new RangeError('signer display name too long');
}

function signPayload(providers: CryptoProviders, signer: SealSigner, header: Uint8Array, payload: Uint8Array) {
  checkSigner(signer);
  const digest = new Uint8Array(sha512Stream().update(payload).digest());
  const message = signedMessage(header, signer, digest);
  return { signer, signature: providers.composite.sign(signer.key, message, ENVELOPE_SIGNATURE_CONTEXT) };
}
