import { concatBytes, utf8 } from './bytes.js';
import { COMPOSITE_MLDSA65_ED25519_SIZES } from './composite-message.js';
import { ByteReader, lp16, lp8 } from './byte-reader.js';
import { malformed } from './errors.js';
import { readIdentifier } from './format.js';
import type { SignerIdentity } from './signed-message.js';

/**
 * The encrypted inner structure:
 *   kind u8 (0 = unsigned, 1 = signed)
 *   [signed: signer_org_id lp8 | signer_key_id lp8 | signer_name lp16 | signature [3373]]
 *   payload (rest)
 */

const UNSIGNED = 0;
const SIGNED = 1;
export const MAX_DISPLAY_NAME_BYTES = 1024;

export interface InnerSignature {
  readonly signer: SignerIdentity;
  readonly signature: Uint8Array;
}

export function encodeInnerPrefix(signed?: InnerSignature): Uint8Array {
  if (!signed) return new Uint8Array([UNSIGNED]);
  return concatBytes(
    new Uint8Array([SIGNED]),
    ...lp8(utf8.encode(signed.signer.orgId)),
    ...lp8(utf8.encode(signed.signer.keyId)),
    ...lp16(utf8.encode(signed.signer.displayName)),
    signed.signature,
  );
}

export function decodeInner(inner: Uint8Array): { signed?: InnerSignature; payload: Uint8Array } {
  const r = new ByteReader(inner);
  const kind = r.u8('inner kind');
  if (kind === UNSIGNED) return { payload: r.rest() };
  if (kind !== SIGNED) throw malformed('unknown inner kind');
  const orgId = readIdentifier(r, 'signer organisation id');
  const keyId = readIdentifier(r, 'signer key id');
  const displayName = r.string(2, 'signer name');
  if (utf8.encode(displayName).length > MAX_DISPLAY_NAME_BYTES) throw malformed('signer name too long');
  const signature = r.take(COMPOSITE_MLDSA65_ED25519_SIZES.signature, 'signature');
  return { signed: { signer: { orgId, keyId, displayName }, signature }, payload: r.rest() };
}
