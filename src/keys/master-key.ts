import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MASTER_KEY_LENGTH, unwrapKey, wrapKey } from '../crypto/key-wrap.js';
import type { KeyEncryption } from '../ports/key-encryption.js';

/**
 * The 32-byte master key that wraps every private key at rest. Taken from PQSEAL_MASTER_KEY
 * (64 hex chars or 43 base64url chars) or from `<DATA_DIR>/master.key`, created with mode 0600 on
 * first start. A key file readable by group or others is refused rather than used.
 */

export class MasterKeyError extends Error {
  readonly code = 'MASTER_KEY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

export const MASTER_KEY_FILE = 'master.key';

export function loadMasterKey(dataDir: string, fromEnv: string | undefined): { key: Uint8Array; source: 'env' | 'file' | 'created' } {
  if (fromEnv !== undefined && fromEnv !== '') return { key: parseMasterKey(fromEnv, 'PQSEAL_MASTER_KEY'), source: 'env' };
  return loadMasterKeyFile(dataDir);
}

/**
 * For a shared store (PostgreSQL): every node must wrap and unwrap with the same key, so it comes
 * from PQSEAL_MASTER_KEY — never a key file one node would create for itself.
 */
export function requireMasterKeyFromEnv(fromEnv: string | undefined): { key: Uint8Array; source: 'env' } {
  if (fromEnv === undefined || fromEnv === '') {
    throw new MasterKeyError(
      'with DATABASE_URL the master key must be given in PQSEAL_MASTER_KEY (the same on every node); generate one with: openssl rand -hex 32',
    );
  }
  return { key: parseMasterKey(fromEnv, 'PQSEAL_MASTER_KEY'), source: 'env' };
}

function loadMasterKeyFile(dataDir: string): { key: Uint8Array; source: 'file' | 'created' } {
  const path = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new MasterKeyError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
    }
    return { key: parseMasterKey(readFileSync(path, 'utf8').trim(), path), source: 'file' };
  }
  const key = randomBytes(MASTER_KEY_LENGTH);
  // O_EXCL: two processes starting at once must not both write a key.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    writeSync(fd, `${key.toString('hex')}\n`);
    if ((fstatSync(fd).mode & 0o077) !== 0) throw new MasterKeyError(`could not create ${path} with mode 0600`);
  } finally {
    closeSync(fd);
  }
  return { key: new Uint8Array(key), source: 'created' };
}

export function parseMasterKey(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) bytes = Buffer.from(trimmed, 'base64url');
  if (!bytes || bytes.length !== MASTER_KEY_LENGTH) {
    throw new MasterKeyError(`${where} must hold a 32-byte key as 64 hex characters or 43 base64url characters`);
  }
  return new Uint8Array(bytes);
}

/** The key-encryption port (src/ports/key-encryption.ts) over the local master key. */
export class MasterKeyEncryption implements KeyEncryption {
  constructor(private readonly masterKey: Uint8Array) {}

  wrap(secret: Uint8Array, associatedData: string): Uint8Array {
    return wrapKey(this.masterKey, associatedData, secret);
  }

  unwrap(wrapped: Uint8Array, associatedData: string): Uint8Array {
    return unwrapKey(this.masterKey, associatedData, wrapped);
  }
}
