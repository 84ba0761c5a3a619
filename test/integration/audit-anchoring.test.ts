import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { checkpointHash, checkpointMessage, type UnsignedCheckpoint } from '../../src/audit/checkpoints.js';
import { fromRow, GENESIS_HASH, recordHash, toRow, type AuditRecord } from '../../src/audit/record.js';
import type { AuditRecordsTable } from '../../src/ports/store-schema.js';
import type { Selectable } from 'kysely';
import { CHECKPOINT_CONTEXT } from '../../src/audit/service-key.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

/**
 * Anchoring the audit log against someone who can write the store (issue 10, item 2): the service
 * verifies a chain before it signs its head, checkpoints are chained, checkpoints are published to
 * PQSEAL_CHECKPOINT_SINK as they are made, and `pqseal audit verify --trusted FILE` catches a chain
 * that no longer extends an earlier export or published checkpoint.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

async function cliExit(args: string[], dataDir: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [CLI, ...args], { env: { ...process.env, DATA_DIR: dataDir, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function dbPath(dataDir: string): string {
  return join(dataDir, 'pqseal.db');
}

function chainRows(db: BetterSqlite3.Database, chainId: string): AuditRecord[] {
  const rows = db.prepare('select * from audit_records where chain_id = ? order by seq').all(chainId);
  return rows.map((row) => fromRow(row as Selectable<AuditRecordsTable>));
}

/**
 * What a store writer does: replaces a chain with `keep(records)`, renumbered from 1, every hash
 * recomputed and the head updated, so the chain is internally perfect; optionally deletes the
 * chain's checkpoints (all of them, or those above a record number).
 */
function forgeChain(
  dataDir: string,
  chainId: string,
  keep: (records: AuditRecord[]) => AuditRecord[],
  checkpoints: 'delete-all' | { deleteAbove: number } | 'keep',
): void {
  const db = new BetterSqlite3(dbPath(dataDir));
  db.pragma('busy_timeout = 5000');
  try {
    db.transaction(() => {
      const kept = keep(chainRows(db, chainId));
      db.prepare('delete from audit_records where chain_id = ?').run(chainId);
      const columns = Object.keys(toRow(kept[0] as AuditRecord, 0));
      const insert = db.prepare(`insert into audit_records (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
      let prev = GENESIS_HASH;
      kept.forEach((record, i) => {
        const { hash: _old, ...rest } = record;
        const renumbered = { ...rest, seq: i + 1 };
        prev = recordHash(prev, renumbered);
        insert.run(toRow({ ...renumbered, hash: prev }, Date.parse(record.time)));
      });
      db.prepare('update audit_heads set seq = ?, hash = ? where chain_id = ?').run(kept.length, prev, chainId);
      if (checkpoints === 'delete-all') db.prepare('delete from audit_checkpoints where chain_id = ?').run(chainId);
      else if (checkpoints !== 'keep') db.prepare('delete from audit_checkpoints where chain_id = ? and seq > ?').run(chainId, checkpoints.deleteAbove);
    })();
  } finally {
    db.close();
  }
}

function checkpointCount(dataDir: string, chainId: string): number {
  const db = new BetterSqlite3(dbPath(dataDir), { readonly: true });
  try {
    return (db.prepare('select count(*) as n from audit_checkpoints where chain_id = ?').get(chainId) as { n: number }).n;
  } finally {
    db.close();
  }
}

function sinkLines(file: string): { type: string; chain_id: string; seq: number; hash: string; prev: string | null; signature: string }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; chain_id: string; seq: number; hash: string; prev: string | null; signature: string });
}

async function encryptMany(s: TestServer, org: NewOrganisation, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await post(`${s.url}/v1/encrypt`, managedHeaders(org), { data: `${tag} ${i}` });
    assert.equal(res.status, 200, JSON.stringify(res.json));
  }
}

describe('the service verifies a chain before it signs its head', () => {
  test('records rewritten below the last checkpoint left in place (hashes and head recomputed, later checkpoints deleted): pqseal audit checkpoint refuses, exits non-zero, signs nothing', async () => {
    const dataDir = tempDataDir();
    const s = await startTestServer({ dataDir }, {}, { checkpointIntervalSeconds: 0 });
    let org: NewOrganisation;
    try {
      org = await s.createOrg('Presign Ltd');
      await encryptMany(s, org, 3, 'before');
      await s.services.checkpoints.run(org.org_id);
      await encryptMany(s, org, 4, 'after');
    } finally {
      // No shutdown checkpoint may cover the records we are about to forge.
      await s.stop({ keepData: true });
    }
    const before = checkpointCount(dataDir, org.org_id);
    // Checkpoints at records 3 and 7 (shutdown). Edit record 2, recompute every hash, delete the checkpoint at 7:
    // the chain is consistent, only the checkpoint at 3 (the one before the head) disagrees.
    forgeChain(dataDir, org.org_id, (records) => records.map((r) => (r.seq === 2 ? { ...r, client_address: '10.6.6.6' } : r)), { deleteAbove: 3 });
    const result = await cliExit(['audit', 'checkpoint', '--json'], dataDir);
    assert.notEqual(result.code, 0, `a forged chain must not be signed: ${result.stdout.slice(0, 300)} ${result.stderr}`);
    assert.match(result.stderr, /AUDIT_CHAIN_BROKEN/);
    assert.equal(checkpointCount(dataDir, org.org_id), before - 1, 'no checkpoint was added');
  });

  test('the running server remembers what it signed: records and every checkpoint of a chain deleted and renumbered in the live store are refused, loudly in the log', async () => {
    const s = await startTestServer({}, {}, { checkpointIntervalSeconds: 0 });
    try {
      const org = await s.createOrg('Live Forgery Ltd');
      const other = await s.createOrg('Bystander Ltd');
      await encryptMany(s, org, 6, 'live');
      await encryptMany(s, other, 2, 'bystander');
      await s.services.checkpoints.run();
      await encryptMany(s, org, 1, 'live more');
      await encryptMany(s, other, 1, 'bystander more');
      // Delete records 2–4, renumber, recompute, update the head, delete the chain's checkpoints.
      forgeChain(s.dataDir, org.org_id, (records) => records.filter((r) => r.seq < 2 || r.seq > 4), 'delete-all');
      const verify = await cliExit(['audit', 'verify', '--org', org.org_id], s.dataDir);
      assert.equal(verify.code, 0, 'inside the store alone the forgery is consistent (the reason anchors exist)');

      const outcome = await s.services.checkpoints.run().then(
        (made) => ({ made, error: undefined }),
        (error: unknown) => ({ made: [], error }),
      );
      assert.ok(outcome.error, 'the run reports the refusal');
      assert.equal((outcome.error as { code?: string }).code, 'AUDIT_CHAIN_BROKEN');
      assert.equal(checkpointCount(s.dataDir, org.org_id), 0, 'the forged head is not signed');
      assert.ok(checkpointCount(s.dataDir, other.org_id) >= 2, 'an intact chain is still signed');
      const line = s.logs
        .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string; chain_id?: string })
        .find((l) => l.code === 'AUDIT_CHAIN_BROKEN');
      assert.ok(line, 'an error line in the server log');
      assert.equal(line.level, 50);
      assert.equal(line.msg, 'audit chain failed verification; checkpoint refused');
      assert.equal(line.chain_id, org.org_id);
    } finally {
      await s.stop();
    }
  });
});

describe('verification before signing is incremental', () => {
  test('only the records since the previous checkpoint are re-read: an edit below it is left to audit verify, which catches it', async () => {
    const s = await startTestServer({}, {}, { checkpointIntervalSeconds: 0 });
    try {
      const org = await s.createOrg('Incremental Ltd');
      await encryptMany(s, org, 3, 'signed');
      assert.equal((await s.services.checkpoints.run(org.org_id)).length, 1);
      // Record 1 edited in place, its stored hash left as it was: the checkpoint at 3 already covers it.
      const db = new BetterSqlite3(dbPath(s.dataDir));
      db.pragma('busy_timeout = 5000');
      db.prepare(`update audit_records set client_address = '10.6.6.6' where chain_id = ? and seq = 1`).run(org.org_id);
      db.close();
      await encryptMany(s, org, 2, 'new');
      const made = await s.services.checkpoints.run(org.org_id);
      assert.deepEqual(
        made.map((c) => c.seq),
        [5],
        'records 4–5 were verified and signed without re-reading 1–3',
      );
      const verify = await cliExit(['audit', 'verify', '--org', org.org_id, '--json'], s.dataDir);
      assert.equal(verify.code, 4);
      assert.deepEqual([JSON.parse(verify.stdout).chains[0].first_broken.seq, JSON.parse(verify.stdout).chains[0].first_broken.reason], [1, 'HASH_MISMATCH']);
    } finally {
      await s.stop();
    }
  });
});

describe('chained checkpoints, the checkpoint sink and verify --trusted', () => {
  let dataDir: string;
  let sink: string;
  let org: NewOrganisation;
  let early: string; // an export taken mid-way (what an auditor keeps)
  let snapshot: string; // the store as it was when `early` was taken
  let earlyHead: number;

  before(async () => {
    dataDir = tempDataDir();
    sink = join(tempDataDir(), 'checkpoints.jsonl');
    const s = await startTestServer({ dataDir }, {}, { checkpointIntervalSeconds: 0, checkpointSink: sink });
    try {
      org = await s.createOrg('Anchored Ltd');
      await encryptMany(s, org, 4, 'first');
      await s.services.checkpoints.run();
      await encryptMany(s, org, 3, 'second');
      await s.services.checkpoints.run();
    } finally {
      await s.stop({ keepData: true });
    }
    early = join(tempDataDir(), 'early-export.jsonl');
    const exported = await cliExit(['audit', 'export', '--org', org.org_id, '--out', early], dataDir, { PQSEAL_CHECKPOINT_SINK: sink });
    assert.equal(exported.code, 0, exported.stderr);
    snapshot = tempDataDir();
    cpSync(dataDir, snapshot, { recursive: true });
    earlyHead = chainRows(new BetterSqlite3(dbPath(dataDir), { readonly: true }), org.org_id).length;

    const s2 = await startTestServer({ dataDir }, {}, { checkpointIntervalSeconds: 0, checkpointSink: sink });
    try {
      await encryptMany(s2, org, 5, 'third');
    } finally {
      await s2.stop({ keepData: true });
    }
  });

  test('every checkpoint is appended to PQSEAL_CHECKPOINT_SINK as one JSON line, each covering the one before it', () => {
    assert.ok(existsSync(sink), 'the sink file exists');
    const lines = sinkLines(sink).filter((l) => l.chain_id === org.org_id);
    assert.ok(lines.length >= 3, `expected the checkpoints of the chain, got ${lines.length}`);
    assert.ok(lines.every((l) => l.type === 'checkpoint' && /^[0-9a-f]{64}$/.test(l.hash) && l.signature.length > 0));
    assert.equal(lines[0]?.prev, null, 'the first checkpoint of a chain covers no earlier one');
    for (let i = 1; i < lines.length; i++) assert.match(lines[i]?.prev ?? '', /^[0-9a-f]{64}$/, 'later checkpoints name the previous checkpoint');
    assert.deepEqual(
      lines.map((l) => l.seq),
      [...lines.map((l) => l.seq)].sort((a, b) => a - b),
    );
  });

  test('deleting a checkpoint in the middle of the chain is visible to pqseal audit verify', async () => {
    const copy = tempDataDir();
    cpSync(dataDir, copy, { recursive: true });
    const db = new BetterSqlite3(dbPath(copy));
    db.prepare('delete from audit_checkpoints where chain_id = ? and seq = 4').run(org.org_id);
    db.close();
    const result = await cliExit(['audit', 'verify', '--org', org.org_id, '--json'], copy);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.equal(JSON.parse(result.stdout).chains[0].first_broken.reason, 'CHECKPOINT_CHAIN_BROKEN');
  });

  test("good extension: today's chain extends the earlier export and the sink", async () => {
    for (const trusted of [early, sink]) {
      const result = await cliExit(['audit', 'verify', '--org', org.org_id, '--trusted', trusted], dataDir);
      assert.equal(result.code, 0, `${trusted}: ${result.stdout} ${result.stderr}`);
    }
  });

  test('truncated: records deleted after the earlier export (head and checkpoints adjusted) → exit 4', async () => {
    const copy = tempDataDir();
    cpSync(dataDir, copy, { recursive: true });
    forgeChain(copy, org.org_id, (records) => records.slice(0, earlyHead - 2), { deleteAbove: earlyHead - 2 });
    assert.equal((await cliExit(['audit', 'verify', '--org', org.org_id], copy)).code, 0, 'the store alone cannot tell');
    for (const trusted of [early, sink]) {
      const result = await cliExit(['audit', 'verify', '--org', org.org_id, '--trusted', trusted, '--json'], copy);
      assert.equal(result.code, 4, `${trusted}: ${result.stdout} ${result.stderr}`);
      assert.equal(JSON.parse(result.stdout).chains[0].first_broken.reason, 'TRUSTED_TRUNCATED');
    }
  });

  test('rewritten: a record edited, every hash recomputed, checkpoints deleted → exit 4', async () => {
    const copy = tempDataDir();
    cpSync(dataDir, copy, { recursive: true });
    forgeChain(copy, org.org_id, (records) => records.map((r) => (r.seq === 2 ? { ...r, client_address: '10.6.6.6' } : r)), 'delete-all');
    assert.equal((await cliExit(['audit', 'verify', '--org', org.org_id], copy)).code, 0, 'the store alone cannot tell');
    for (const trusted of [early, sink]) {
      const result = await cliExit(['audit', 'verify', '--org', org.org_id, '--trusted', trusted, '--json'], copy);
      assert.equal(result.code, 4, `${trusted}: ${result.stdout} ${result.stderr}`);
      assert.equal(JSON.parse(result.stdout).chains[0].first_broken.reason, 'TRUSTED_DIVERGED');
    }
  });

  test('forked: a copy of the store from before the export, continued differently and validly signed → exit 4', async () => {
    const fork = tempDataDir();
    cpSync(snapshot, fork, { recursive: true });
    // Roll the copy back to before the earlier export's last records, then let the real service continue it.
    forgeChain(fork, org.org_id, (records) => records.slice(0, earlyHead - 1), { deleteAbove: earlyHead - 1 });
    const s = await startTestServer({ dataDir: fork }, {}, { checkpointIntervalSeconds: 0 });
    try {
      await encryptMany(s, org, 6, 'fork');
    } finally {
      await s.stop({ keepData: true });
    }
    const alone = await cliExit(['audit', 'verify', '--org', org.org_id], fork);
    assert.equal(alone.code, 0, `the fork is a valid, signed chain on its own: ${alone.stdout}`);
    const result = await cliExit(['audit', 'verify', '--org', org.org_id, '--trusted', early, '--json'], fork);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.equal(JSON.parse(result.stdout).chains[0].first_broken.reason, 'TRUSTED_DIVERGED');
  });

  test('an export verified offline against an earlier export: extension passes, a truncated export fails', async () => {
    const later = join(tempDataDir(), 'later-export.jsonl');
    assert.equal((await cliExit(['audit', 'export', '--org', org.org_id, '--out', later], dataDir)).code, 0);
    const ok = await cliExit(['audit', 'verify', '--file', later, '--trusted', early], tempDataDir());
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const bad = await cliExit(['audit', 'verify', '--file', early, '--trusted', later, '--json'], tempDataDir());
    assert.equal(bad.code, 4, bad.stdout + bad.stderr);
    assert.equal(JSON.parse(bad.stdout).chains[0].first_broken.reason, 'TRUSTED_TRUNCATED');
  });

  test('with the sink, a fresh pqseal audit checkpoint refuses a chain whose checkpoints were all deleted and records rewritten', async () => {
    const copy = tempDataDir();
    cpSync(dataDir, copy, { recursive: true });
    const copiedSink = join(tempDataDir(), 'sink-copy.jsonl');
    cpSync(sink, copiedSink);
    forgeChain(copy, org.org_id, (records) => records.filter((r) => r.seq !== 3), 'delete-all');
    const result = await cliExit(['audit', 'checkpoint'], copy, { PQSEAL_CHECKPOINT_SINK: copiedSink });
    assert.notEqual(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /AUDIT_CHAIN_BROKEN/);
    assert.equal(checkpointCount(copy, org.org_id), 0);
  });
});

describe('a store upgraded from unchained (format 1) checkpoints', () => {
  test('format 1 checkpoints still verify; the first chained checkpoint covers the newest of them, so deleting that one is visible', async () => {
    const dataDir = tempDataDir();
    const s = await startTestServer({ dataDir }, {}, { checkpointIntervalSeconds: 0 });
    let org: NewOrganisation;
    let legacyHash: string;
    try {
      org = await s.createOrg('Upgraded Ltd');
      await encryptMany(s, org, 3, 'legacy');
      // A checkpoint as the previous release made it: format 1, no prev.
      const [head] = (await s.services.store.db.selectFrom('audit_heads').selectAll().where('chain_id', '=', org.org_id).execute()) as {
        seq: number;
        hash: string;
      }[];
      assert.ok(head);
      const { keyId, key } = await s.services.serviceKeys.signer();
      const at = Date.now();
      const legacy: UnsignedCheckpoint = {
        chain_id: org.org_id,
        seq: Number(head.seq),
        hash: head.hash,
        signed_at: new Date(at).toISOString(),
        key_id: keyId,
        format: 1,
        prev: null,
      };
      const signature = s.services.providers.composite.sign(key, checkpointMessage(legacy), new TextEncoder().encode(CHECKPOINT_CONTEXT));
      await s.services.store.db
        .insertInto('audit_checkpoints')
        .values({ chain_id: legacy.chain_id, seq: legacy.seq, hash: legacy.hash, signed_at: at, key_id: keyId, signature, format: 1, prev: null })
        .execute();
      legacyHash = checkpointHash(legacy);
      await encryptMany(s, org, 2, 'chained');
      const [made] = await s.services.checkpoints.run(org.org_id);
      assert.equal(made?.format, 2);
      assert.equal(made?.prev, legacyHash, 'the first chained checkpoint covers the newest unchained one');
    } finally {
      await s.stop({ keepData: true });
    }
    const ok = await cliExit(['audit', 'verify', '--org', org.org_id, '--json'], dataDir);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).chains[0].checkpoints, 2);

    const db = new BetterSqlite3(dbPath(dataDir));
    db.prepare('delete from audit_checkpoints where chain_id = ? and format = 1').run(org.org_id);
    db.close();
    const broken = await cliExit(['audit', 'verify', '--org', org.org_id, '--json'], dataDir);
    assert.equal(broken.code, 4, broken.stdout);
    assert.equal(JSON.parse(broken.stdout).chains[0].first_broken.reason, 'CHECKPOINT_CHAIN_BROKEN');
  });
});
