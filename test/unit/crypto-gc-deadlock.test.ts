import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

/**
 * Regression: Node 20 deadlocks when a garbage collection runs while an OKP key is exported as JWK
 * and finalizes the key-generation job of the same key (both take the key's mutex). X-Wing used to
 * export each ephemeral X25519 public key that way; under allocation pressure the old code hung
 * within seconds every time. The crypto code now never exports from a KeyObject (src/crypto/x25519.ts).
 */

const run = promisify(execFile);

const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
const STRESS = `
const { x25519Ephemeral, x25519Base } = await import(${module('../../src/crypto/x25519.js')});
const { ed25519PublicFromSeed } = await import(${module('../../src/crypto/ed25519.js')});
const { loadProviders } = await import(${module('../../src/crypto/providers.js')});
const { randomBytes } = await import('node:crypto');
const providers = await loadProviders('fastest');
const key = providers.xWing.expand(randomBytes(32));
const publicKey = providers.xWing.publicKey(key);
let junk = [];
const until = Date.now() + 3000;
let n = 0;
while (Date.now() < until) {
  // Every path that derives an X25519 or Ed25519 public key, at the rate of a tight loop.
  x25519Ephemeral();
  if (n % 20 === 0) {
    x25519Base(randomBytes(32));
    ed25519PublicFromSeed(randomBytes(32));
    providers.xWing.encapsulate(publicKey);
  }
  junk.push(new Array(64).fill(n));
  if (junk.length > 1000) junk = [];
  n++;
}
console.log(n);
`;

test('X-Wing and key expansion survive heavy garbage collection (no KeyObject export deadlock)', async () => {
  // A tiny young generation makes collections frequent; 30 s is ten times the work's length.
  const { stdout } = await run(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', STRESS], { timeout: 30_000 });
  assert.ok(Number(stdout.trim()) > 100, `iterations: ${stdout}`);
});
