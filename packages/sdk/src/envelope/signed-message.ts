import { concatBytes, utf8 } from './bytes.js';
import { lp16, lp8 } from './byte-reader.js';

/** Composite-signature context string for v1 envelope signatures (v2: BATCH_SIGNATURE_CONTEXT). */
export const ENVELOPE_SIGNATURE_CONTEXT = utf8.encode('pqseal-envelope-v1');
const SIGNATURE_LABELS: Readonly<Record<1 | 2, Uint8Array>> = {
  1: utf8.encode('pqseal-envelope-signature-v1'),
  2: utf8.encode('pqseal-envelope-signature-v2'),
};

export interface SignerIdentity {
  readonly orgId: string;
  readonly keyId: string;
  readonly displayName: string;
}

/**
 * The message the signer signs (v1) or puts in a batch leaf (v2) (docs/envelope.md §Signature):
 *
 *   "pqseal-envelope-signature-v<version>" || header || lp8(signer_org_id) || lp8(signer_key_id)
 *   || lp16(signer_name) || SHA-512(payload)
 *
 * `header` carries version, suite, envelope id, time, content type, recipient org and KEM key id and
 * the permission list, so a signature cannot be lifted into another envelope or re-targeted.
 */
export function signedMessage(header: Uint8Array, signer: SignerIdentity, payloadDigest: Uint8Array, version: 1 | 2 = 1): Uint8Array {
  return concatBytes(
    SIGNATURE_LABELS[version],
    header,
    ...lp8(utf8.encode(signer.orgId)),
    ...lp8(utf8.encode(signer.keyId)),
    ...lp16(utf8.encode(signer.displayName)),
    payloadDigest,
  );
}
