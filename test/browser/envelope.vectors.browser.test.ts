import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { loadProviders } from '../../src/crypto/providers.js';
import { vectorClaims, VECTORS_FILE, type EnvelopeVector } from '../helpers/envelope-vectors.js';
import { v2VectorClaims, VECTORS_V2_FILE, type EnvelopeV2Vector } from '../helpers/envelope-vectors-v2.js';

/**
 * The published envelope vectors (v1 and v2) against `@pqseal/sdk` in chromium: the page loads the SDK's
 * compiled ES modules as they are (@noble/* and the package's "#base64" codec through an import
 * map), so the envelope module runs on its plain-JavaScript codec, with no Buffer in sight.
 */

const CHROMIUM = '/usr/bin/chromium';
const ROOT = new URL('../../../', import.meta.url).pathname;
const v1 = (JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as { vectors: EnvelopeVector[] }).vectors;
const v2 = (JSON.parse(readFileSync(VECTORS_V2_FILE, 'utf8')) as { vectors: EnvelopeV2Vector[] }).vectors;
/** Every published envelope, each v2 batch's envelopes one by one, in the v1 vectors' shape. */
const vectors: (Pick<EnvelopeVector, 'name' | 'recipient' | 'permissions'> & { expected: Omit<EnvelopeVector['expected'], 'signature_status'> })[] = [
  ...v1,
  ...v2.flatMap((v) =>
    v.expected.envelopes.map((expected, i) => ({ name: `${v.name} #${i}`, recipient: v.recipient, permissions: v.items[i]?.permissions ?? [], expected })),
  ),
];

const MOUNTS: Record<string, string> = { '/sdk/': join(ROOT, 'packages', 'sdk', 'dist'), '/noble/': join(ROOT, 'node_modules', '@noble') };
const IMPORT_MAP = { imports: { '@noble/': '/noble/', '#base64': '/sdk/runtime/base64.browser.js' } };
const PAGE = `<!doctype html><meta charset="utf-8"><title>vectors</title><script type="importmap">${JSON.stringify(IMPORT_MAP)}</script>`;

function fileFor(url: string): string | undefined {
  for (const [prefix, dir] of Object.entries(MOUNTS)) {
    if (!url.startsWith(prefix)) continue;
    const file = normalize(join(dir, url.slice(prefix.length)));
    return file.startsWith(dir) && existsSync(file) ? file : undefined;
  }
  return undefined;
}

test('every published envelope vector parses, re-encodes and verifies offline with the SDK in chromium', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed`);
    return;
  }
  const providers = await loadProviders('fastest');
  const claims = [...vectorClaims(providers, v1), ...v2VectorClaims(providers, v2)];
  const site = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0] as string;
    const file = url === '/' ? undefined : fileFor(url);
    if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (file) res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
    const outcome = await page.evaluate(
      async ({ vectors, claims }) => {
        // Paths the browser resolves, not modules for tsc to find.
        const sdkPath: string = '/sdk/index.js';
        const envelopePath: string = '/sdk/envelope/index.js';
        const sdk = await import(sdkPath);
        const envelope = await import(envelopePath);
        const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
        const parsed = vectors.map((v) => {
          const header = sdk.inspectEnvelope(v.expected.envelope);
          const bytes: Uint8Array = envelope.decodeBase64Url(v.expected.envelope);
          const full = envelope.inspectEnvelope(v.expected.envelope);
          return {
            name: v.name,
            facts: [header.envelopeId, header.createdAt, header.ownerOrgId, header.kemKeyId, header.permissions],
            byteLength: bytes.length,
            reencoded: envelope.encodeBase64Url(bytes) === v.expected.envelope,
            header: hex(envelope.encodeHeader(full.header, full.permissionBytes)) === hex(header.headerBytes),
          };
        });
        const verified = claims.map((c) => ({
          name: c.name,
          valid: sdk.verifyOffline({ decryptVerifyResult: c.result, encryptedData: c.encryptedData, publicKeys: c.publicKey }).valid,
          tampered: sdk.verifyOffline({
            decryptVerifyResult: { ...c.result, signed_by: 'someone else' },
            encryptedData: c.encryptedData,
            publicKeys: c.publicKey,
          }).reason,
          withoutBatchProof: sdk.verifyOffline({
            decryptVerifyResult: { ...c.result, batch_proof: undefined },
            encryptedData: c.encryptedData,
            publicKeys: c.publicKey,
          }).reason,
        }));
        let malformed = '';
        try {
          envelope.decodeBase64Url('AQ*B');
        } catch (e) {
          malformed = (e as { code: string }).code;
        }
        return { hasBuffer: typeof (globalThis as { Buffer?: unknown }).Buffer, parsed, verified, malformed };
      },
      { vectors, claims },
    );
    assert.deepEqual(errors, []);
    assert.equal(outcome.hasBuffer, 'undefined');
    assert.deepEqual(
      outcome.parsed,
      vectors.map((v) => ({
        name: v.name,
        facts: [v.expected.envelope_id, v.expected.created_at, v.recipient.org_id, v.recipient.kem_key_id, v.permissions],
        byteLength: v.expected.byte_length,
        reencoded: true,
        header: true,
      })),
    );
    assert.deepEqual(
      outcome.verified,
      claims.map((c) => ({
        name: c.name,
        valid: true,
        tampered: 'SIGNATURE_MISMATCH',
        withoutBatchProof: 'batch_proof' in c.result ? 'BATCH_PROOF_MISSING' : undefined,
      })),
    );
    assert.equal(outcome.malformed, 'ENVELOPE_MALFORMED');
  } finally {
    await browser.close();
    await new Promise((resolve) => site.close(resolve));
  }
});
