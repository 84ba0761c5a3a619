import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, registerSecret, startTestServer, tempDir } from '../helpers/server.js';
import { CLI } from '../helpers/serve-process.js';

const execFileAsync = promisify(execFile);

interface Exit {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a process of its own, beside the running server (nothing shared but the files). */
async function pqseal(args: string[], env: Record<string, string>): Promise<Exit> {
  try {
    const { stdout, stderr } = await execFileAsync('node', [CLI, ...args], { env: { ...process.env, DATABASE_URL: '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** Polls (the load runs in this process too) until `done()`, or fails after a minute. */
async function until(done: () => boolean): Promise<void> {
  for (const started = Date.now(); !done(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - started > 60_000) throw new Error('the load did not get that far within a minute');
  }
}

interface Sealed {
  readonly org: NewOrganisation;
  readonly data: string;
  readonly encrypted: string;
}

describe('pqseal backup and restore (SQLite)', () => {
  test('a backup taken during load restores elsewhere: every envelope sealed before it opens, the audit verifies', async () => {
    const dataDir = tempDir();
    const server = await startTestServer({ dataDir }, { PQSEAL_RATE_LIMIT_RPS: '0' });
    const sealed: (Sealed & { readonly at: number })[] = [];
    let backupStartedAt = Infinity;
    let backup: Exit | undefined;
    const out = join(tempDir(), 'pqseal-backup.db');
    try {
      const orgs = [await server.createOrg('Backup Org A'), await server.createOrg('Backup Org B')];
      let loading = true;
      let sequence = 0;
      const client = async (org: NewOrganisation) => {
        while (loading) {
          const data = `backup load ${org.org_id} ${sequence++}`;
          const res = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data });
          assert.equal(res.status, 200, JSON.stringify(res.json));
          sealed.push({ org, data, encrypted: res.json.body.encrypted_data as string, at: Date.now() });
        }
      };
      const load = [...orgs, ...orgs].map(client);
      await until(() => sealed.length >= 20);
      // Changes the backup must carry: new key versions, an organisation created mid-load.
      await server.services.rotateKeys(orgs[0]!.org_id);
      const late = await server.createOrg('Backup Org Late');
      orgs.push(late);
      load.push(client(late));
      await until(() => sealed.filter((s) => s.org === late).length >= 3);
      backupStartedAt = Date.now();
      backup = await pqseal(['backup', '--out', out, '--json'], { DATA_DIR: dataDir });
      await until(() => sealed.some((s) => s.at > backupStartedAt));
      loading = false;
      await Promise.all(load);
    } finally {
      await server.stop({ keepData: true });
    }
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const masterKeyHex = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
    for (const form of [Buffer.from(masterKeyHex), Buffer.from(masterKeyHex, 'hex')])
      assert.ok(!readFileSync(out).includes(form), 'the master key is not in the backup');
    const before = sealed.filter((s) => s.at < backupStartedAt);
    const after = sealed.filter((s) => s.at > backupStartedAt);
    assert.ok(before.length >= 23 && after.length > 0, `sealed ${before.length} before and ${after.length} during/after the backup`);
    assert.ok(before.some((s) => s.org.name === 'Backup Org Late'));

    // Another DATA_DIR: the master key is put back first (it is backed up separately), then the store.
    const restored = join(tempDir(), 'restored');
    const refusedOverwrite = await pqseal(['backup', '--out', out], { DATA_DIR: dataDir });
    assert.equal(refusedOverwrite.code, 2);
    assert.match(refusedOverwrite.stderr, /already exists/);
    const refusedBusy = await pqseal(['restore', '--from', out], { DATA_DIR: dataDir });
    assert.equal(refusedBusy.code, 2, 'a DATA_DIR that holds a store is refused');
    assert.match(refusedBusy.stderr, /not empty/);
    mkdirSync(restored, { mode: 0o700 });
    copyFileSync(join(dataDir, 'master.key'), join(restored, 'master.key'));
    const restore = await pqseal(['restore', '--from', out, '--json'], { DATA_DIR: restored });
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(statSync(join(restored, 'pqseal.db')).mode & 0o777, 0o600);

    const again = await startTestServer({ dataDir: restored });
    try {
      for (const s of before) {
        const opened = await post(`${again.url}/v1/decrypt-verify`, managedHeaders(s.org), { encrypted_data: s.encrypted });
        assert.equal(opened.status, 200, `${s.data}: ${JSON.stringify(opened.json)}`);
        assert.equal(opened.json.body.decrypted_data, s.data);
        assert.equal(opened.json.body.is_valid_signature, true);
      }
    } finally {
      await again.stop({ keepData: true });
    }
    const verified = await pqseal(['audit', 'verify', '--json'], { DATA_DIR: restored });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.equal((JSON.parse(verified.stdout) as { ok: boolean }).ok, true);
  });

  test('restore refuses a damaged file or another SQLite database (exit 4); with DATABASE_URL both commands point at pg_dump (exit 2)', async () => {
    const dir = tempDir();
    const source = join(dir, 'source');
    const created = await pqseal(['org', 'create', '--name', 'Backup Checks', '--json'], { DATA_DIR: source, PQSEAL_DEMO: 'false' });
    registerSecret(...Object.values(JSON.parse(created.stdout) as Record<string, string>).filter((v) => v.length >= 20));
    const good = join(dir, 'good.db');
    assert.equal((await pqseal(['backup', '--out', good], { DATA_DIR: source })).code, 0);

    const damaged = join(dir, 'damaged.db');
    const bytes = readFileSync(good);
    for (let i = 4096; i < bytes.length; i += 512) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    writeFileSync(damaged, bytes);
    const notPqseal = join(dir, 'other.db');
    const other = new (await import('../../src/store/sqlite-driver.js')).BetterSqlite3Database(notPqseal);
    other.exec('create table t (x integer)');
    other.close();
    for (const file of [damaged, notPqseal]) {
      const target = join(dir, `restore-${file.length}-${Math.random()}`);
      const refused = await pqseal(['restore', '--from', file], { DATA_DIR: target });
      assert.equal(refused.code, 4, `${file}: ${refused.stderr}`);
      assert.throws(() => statSync(join(target, 'pqseal.db')), 'nothing is left in DATA_DIR');
    }

    const wrongKey = join(dir, 'wrong-key');
    const refusedKey = await pqseal(['restore', '--from', good], { DATA_DIR: wrongKey, PQSEAL_MASTER_KEY: 'ab'.repeat(32) });
    assert.equal(refusedKey.code, 4, refusedKey.stderr);
    assert.match(refusedKey.stderr, /master key does not open/);
    assert.deepEqual(readdirSync(wrongKey), [], 'the store was taken out again');
    copyFileSync(join(source, 'master.key'), join(wrongKey, 'master.key'));
    const opened = await pqseal(['restore', '--from', good], { DATA_DIR: wrongKey });
    assert.equal(opened.code, 0, opened.stderr);
    assert.match(opened.stdout, /The master key opens its keys/);

    for (const args of [
      ['backup', '--out', join(dir, 'pg.db')],
      ['restore', '--from', good],
    ]) {
      const refused = await pqseal(args, { DATA_DIR: source, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/whatever' });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /pg_dump/);
    }
  });
});
