import { randomBytes } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { aesGcmSeal } from '../../src/crypto/aes-gcm.js';
import { sha512 } from '../../src/crypto/hash.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';
import { loadProviders } from '../../src/crypto/providers.js';
import { ThreadIdRegistry } from '../server/thread-id.js';

/**
 * The per-request reference's work, on its own worker threads (./main.ts): exactly the raw
 * primitives of one sign-encrypt and nothing else — SHA-512 of the payload, one composite
 * ML-DSA-65+Ed25519 signature over a signed-message-sized input holding that digest, one X-Wing
 * encapsulation, HKDF-SHA-256 and AES-256-GCM over signature + payload — as the crypto ceiling
 * (bench/server/ceiling-task.ts) does it, with fresh input per request and the ciphertext returned.
 */

/** The size of the service's v1 signed message (header fields + the payload's SHA-512). */
const SIGNED_MESSAGE_BYTES = 200;
const DIGEST_BYTES = 64;
const NONE = new Uint8Array(0);

const providers = await loadProviders('fastest');
const signingKey = providers.composite.expandSecret(randomBytes(64));
const recipient = providers.xWing.publicKey(providers.xWing.expand(randomBytes(32)));
const header = randomBytes(SIGNED_MESSAGE_BYTES - DIGEST_BYTES);

/** KEM ciphertext ‖ AES-256-GCM(signature ‖ payload), base64url. */
export default function signEncrypt(payload: Uint8Array): string {
  const message = Buffer.concat([header, sha512(payload)]);
  const signature = providers.composite.sign(signingKey, message, NONE);
  const { cipherText, sharedSecret } = providers.xWing.encapsulate(recipient);
  const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
  const sealed = aesGcmSeal(okm.subarray(0, 32), okm.subarray(32), [signature, payload], cipherText, cipherText);
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).toString('base64url');
}

/** What ./main.ts hands every worker: where it registers its kernel thread id, and where it says it is ready. */
export interface ReferenceWorkerData {
  readonly threadIds: SharedArrayBuffer;
  /** One Int32 counting the workers that have loaded their keys and run the work once. */
  readonly ready: SharedArrayBuffer;
}

// Once before the first request, so that no request pays for compiling the code paths.
signEncrypt(new Uint8Array(1024));
const data = workerData as ReferenceWorkerData;
new ThreadIdRegistry(data.threadIds).register();
Atomics.add(new Int32Array(data.ready), 0, 1);
