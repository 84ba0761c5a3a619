import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { chainHeads, chainIds, chainRecords, recordAt } from '../audit/chain-store.js';
import { AuditChainBrokenError } from '../audit/errors.js';
import { readExport, writeExport, ExportFormatError } from '../audit/export.js';
import { readTrustedFile, type TrustedAnchors } from '../audit/trusted.js';
import { SERVICE_CHAIN } from '../audit/record.js';
import type { ChainReport, TrustedAnchor } from '../audit/verify.js';
import { verifyChain } from '../audit/verify.js';
import type { Config } from '../config.js';
import type { CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { loadProviders, type CryptoProviders } from '../crypto/providers.js';
import { getOrganisation } from '../partners/organisations.js';
import { openPrivateReplacement } from './private-file.js';
import { openServices, type Services } from '../services.js';

/**
 * `pqseal audit verify | export | checkpoint`. verify exits 4 when a chain is broken (or, with
 * `--trusted`, does not extend what an earlier export or published checkpoint holds) and names the
 * first broken link of each chain; it needs no master key in `--file` mode. checkpoint and export exit
 * 4 when the service refuses to sign a chain that does not verify.
 */

const EXIT_VERIFICATION = 4;

class AuditUsageError extends Error {
  readonly code = 'VALIDATION_ERROR';
}

const USAGE = `Usage:
  pqseal audit verify [--org <org id>] [--from <seq>] [--service-key key.json] [--trusted FILE] [--json]
      recompute the hash chains in DATA_DIR and check the signed checkpoints
  pqseal audit verify --file export.jsonl [--service-key key.json] [--from <seq>] [--trusted FILE] [--json]
      verify an exported chain offline (key.json: GET /v1/keys/service, obtained independently)
  --trusted FILE: an earlier export, a PQSEAL_CHECKPOINT_SINK file or published checkpoint lines;
      fails unless today's chain extends what FILE holds (not truncated, rewritten or forked)
  pqseal audit export --org <org id> --out <file.jsonl> [--json]
      sign the chain head, then write records, checkpoints and the service key
  pqseal audit checkpoint [--org <org id>] [--json]
      sign every chain head (or one organisation's) now
Exit codes: 0 intact, 4 a chain is broken (or a checkpoint was refused), 2 usage error.`;

export async function auditCommand(args: string[], config: Config): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify' && sub !== 'export' && sub !== 'checkpoint') {
    process.stdout.write(`${USAGE}\n`);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      org: { type: 'string' },
      from: { type: 'string' },
      file: { type: 'string' },
      'service-key': { type: 'string' },
      trusted: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const fromSeq = values.from === undefined ? 1 : Number(values.from);
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new AuditUsageError('--from must be a record number (1 or more)');

  if (values.trusted !== undefined && values.from !== undefined) throw new AuditUsageError('--trusted checks whole chains: it cannot be combined with --from');
  const trusted = values.trusted !== undefined ? await readTrusted(values.trusted) : undefined;

  if (sub === 'verify' && values.file !== undefined) return verifyFile(values.file, values['service-key'], fromSeq, trusted, Boolean(values.json));

  const services = await openServices(config, { workers: false });
  try {
    if (sub === 'verify') return await verifyStore(services, values.org, values['service-key'], fromSeq, trusted, Boolean(values.json));
    if (sub === 'checkpoint') {
      if (values.org !== undefined) await requireOrg(services, values.org);
      let made;
      let refused: AuditChainBrokenError | undefined;
      try {
        made = await services.checkpoints.run(values.org);
      } catch (e) {
        if (!(e instanceof AuditChainBrokenError)) throw e;
        refused = e;
        made = e.made;
      }
      const lines = made.map((c) => `signed ${c.chain_id} at record ${c.seq} (${c.hash.slice(0, 16)}…) with ${c.key_id}`);
      print(
        values.json,
        { checkpoints: made, refused: refused?.refused ?? [] },
        lines.join('\n') || (refused ? '' : 'every chain head already has a checkpoint'),
      );
      if (refused) process.stderr.write(`pqseal: AUDIT_CHAIN_BROKEN: ${refused.message}\n`);
      return refused ? EXIT_VERIFICATION : 0;
    }
    const org = values.org;
    const out = values.out;
    if (!org || !out) throw new AuditUsageError('audit export needs --org and --out');
    return await exportChain(services, org, out, values.json);
  } finally {
    await services.close();
  }
}

/** `audit export`: signs the chain's head (refused, exit 4, when the chain does not verify), then writes it. */
async function exportChain(services: Services, org: string, out: string, json: boolean | undefined): Promise<number> {
  await requireOrg(services, org);
  // Refuses a link or a non-regular --out before anything is signed or written.
  const file = openPrivateReplacement(out);
  try {
    try {
      await services.checkpoints.run(org);
    } catch (e) {
      if (!(e instanceof AuditChainBrokenError)) throw e;
      process.stderr.write(`pqseal: AUDIT_CHAIN_BROKEN: ${e.message}; nothing exported (pqseal audit verify --org ${org} shows where)\n`);
      return EXIT_VERIFICATION;
    }
    const result = await writeExport(services.store.db, org, file, {
      checkpoints: await services.checkpoints.list(org),
      serviceKeys: await services.serviceKeys.document(),
      now: services.now(),
    });
    file.commit();
    print(json, { org_id: org, out, ...result }, `Exported ${result.records} records and ${result.checkpoints} checkpoints of ${org} to ${out}`);
    return 0;
  } finally {
    file.discard();
  }
}

async function verifyStore(
  services: Services,
  org: string | undefined,
  serviceKeyFile: string | undefined,
  fromSeq: number,
  trusted: TrustedAnchors | undefined,
  json: boolean | undefined,
): Promise<number> {
  const db = services.store.db;
  const stored = await chainIds(db);
  const chains = org !== undefined ? [org] : [...new Set([...stored, ...(trusted?.keys() ?? [])])].sort();
  if (org !== undefined && !stored.includes(org)) await requireOrg(services, org);
  if (org !== undefined && trusted && !trusted.has(org)) throw new AuditUsageError(`the trusted file holds nothing about chain ${org}`);
  const keys = serviceKeyFile !== undefined ? await keysFromFile(serviceKeyFile, services.providers) : await services.serviceKeys.verifyingKeys();
  const reports: ChainReport[] = [];
  for (const chainId of chains) {
    const [head] = await chainHeads(db, chainId);
    let startHash: string | undefined;
    if (fromSeq > 1) {
      const previous = await recordAt(db, chainId, fromSeq - 1);
      if (!previous) throw new AuditUsageError(`chain ${chainId} has no record ${fromSeq - 1} to start from`);
      startHash = previous.hash;
    }
    reports.push(
      await verifyChain({
        chainId,
        records: chainRecords(db, chainId, fromSeq),
        checkpoints: await services.checkpoints.list(chainId),
        composite: services.providers.composite,
        serviceKeys: keys,
        head: head ?? { seq: 0, hash: '' },
        fromSeq,
        ...(startHash !== undefined ? { startHash } : {}),
        trusted: trusted?.get(chainId) ?? [],
      }),
    );
  }
  return report(reports, json);
}

async function verifyFile(
  file: string,
  serviceKeyFile: string | undefined,
  fromSeq: number,
  trusted: TrustedAnchors | undefined,
  json: boolean | undefined,
): Promise<number> {
  const providers = await loadProviders('fastest');
  let parsed;
  try {
    parsed = await readExport(file);
  } catch (e) {
    if (e instanceof ExportFormatError) {
      process.stderr.write(`pqseal: ${file}: ${e.message}\n`);
      return EXIT_VERIFICATION;
    }
    throw e;
  }
  let keys: Map<string, CompositeVerifyingKey>;
  if (serviceKeyFile !== undefined) keys = await keysFromFile(serviceKeyFile, providers);
  else {
    process.stderr.write(
      'pqseal: warning: no --service-key given; trusting the service key inside the export, which whoever edited the file could have replaced\n',
    );
    keys = keysFromDocument(parsed.header.service_keys, providers);
  }
  let startHash: string | undefined;
  if (fromSeq > 1) {
    startHash = parsed.records.find((r) => r.seq === fromSeq - 1)?.hash;
    if (startHash === undefined) throw new AuditUsageError(`the export has no record ${fromSeq - 1} to start from`);
  }
  const chainReport = await verifyChain({
    chainId: parsed.header.chain_id,
    records: parsed.records.filter((r) => r.seq >= fromSeq || typeof r.seq !== 'number'),
    checkpoints: parsed.checkpoints,
    composite: providers.composite,
    serviceKeys: keys,
    head: parsed.header.head ?? { seq: 0, hash: '' },
    fromSeq,
    ...(startHash !== undefined ? { startHash } : {}),
    trusted: trustedFor(trusted, parsed.header.chain_id),
  });
  return report([chainReport], json);
}

async function readTrusted(path: string): Promise<TrustedAnchors> {
  try {
    return await readTrustedFile(path);
  } catch (e) {
    if (e instanceof ExportFormatError) throw new AuditUsageError(`--trusted ${path}: ${e.message}`);
    throw e;
  }
}

function trustedFor(trusted: TrustedAnchors | undefined, chainId: string): TrustedAnchor[] {
  if (!trusted) return [];
  const anchors = trusted.get(chainId);
  if (!anchors) throw new AuditUsageError(`the trusted file holds nothing about chain ${chainId}`);
  return anchors;
}

function report(reports: ChainReport[], json: boolean | undefined): number {
  const ok = reports.every((r) => r.ok);
  const human = reports.map((r) => {
    if (!r.ok && r.first_broken) return `chain ${r.chain_id}: BROKEN at record ${r.first_broken.seq} (${r.first_broken.reason}): ${r.first_broken.detail}`;
    const range = r.records ? ` (${r.first_seq}–${r.last_seq})` : '';
    return `chain ${r.chain_id}: OK, ${r.records} records${range}, ${r.checkpoints} signed checkpoints verified${r.unsigned_tail ? `, ${r.unsigned_tail} records after the last checkpoint` : ''}`;
  });
  print(json, { ok, chains: reports }, human.join('\n') || 'no audit records');
  return ok ? 0 : EXIT_VERIFICATION;
}

async function keysFromFile(path: string, providers: CryptoProviders): Promise<Map<string, CompositeVerifyingKey>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new AuditUsageError(`${path} is not a JSON key document (save GET /keys/service)`);
  }
  // Accept the document itself or the Managed wrapper {statusCode, body}.
  const body = (doc as { body?: unknown }).body ?? doc;
  return keysFromDocument(body as { keys?: unknown }, providers);
}

function keysFromDocument(doc: { keys?: unknown }, providers: CryptoProviders): Map<string, CompositeVerifyingKey> {
  const keys = new Map<string, CompositeVerifyingKey>();
  if (!Array.isArray(doc.keys)) throw new AuditUsageError('the service key document has no "keys" list');
  for (const k of doc.keys as { key_id?: unknown; kind?: unknown; public_key?: unknown }[]) {
    if (k.kind !== 'signing' || typeof k.key_id !== 'string' || typeof k.public_key !== 'string') continue;
    try {
      keys.set(k.key_id, providers.composite.parsePublic(new Uint8Array(Buffer.from(k.public_key, 'base64url'))));
    } catch {
      throw new AuditUsageError(`service key ${k.key_id} is not a composite public key`);
    }
  }
  return keys;
}

async function requireOrg(services: Services, orgId: string): Promise<void> {
  if (orgId === SERVICE_CHAIN) return;
  if (!(await getOrganisation(services.store, orgId))) throw new AuditUsageError(`unknown organisation ${orgId}`);
}

function print(json: boolean | undefined, value: object, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}
