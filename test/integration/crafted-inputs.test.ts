import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { describeUrl } from '../../src/store/postgres/open.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { CLI } from '../helpers/serve-process.js';

/**
 * Found by probing the multi-node work as an attacker (session 5); each failed before its fix: a
 * crafted backup restored with its trigger and view (and the backup file's mode), public-key reads
 * limited per full IPv6 address instead of per /64, a DATABASE_URL password with an unescaped "/"
 * or "?" printed in the store's description.
 */

const execFileAsync = promisify(execFile);
const MASTER = 'ab'.repeat(32);

async function pqseal(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('node', [CLI, ...args], {
      env: { ...process.env, DATABASE_URL: '', REDIS_URL: '', DATA_DIR: dataDir, PQSEAL_MASTER_KEY: MASTER },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const f = e as { code?: number; stdout?: string; stderr?: string };
    return { code: f.code ?? -1, stdout: f.stdout ?? '', stderr: f.stderr ?? '' };
  }
}

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

describe('restore of a crafted backup', () => {
  test('a backup carrying a trigger is refused, and the restored store is 0600 whatever the backup file mode', async () => {
    const source = tempDir();
    assert.equal((await pqseal(['org', 'create', '--name', 'Probe Org', '--json'], source)).code, 0);
    const out = join(tempDir(), 'b.db');
    const backup = await pqseal(['backup', '--out', out], source);
    assert.equal(backup.code, 0, backup.stderr);

    // The attacker edits the backup file: a trigger that silently undoes every revocation.
    const db = new Database(out);
    db.exec(`create trigger probe_undo_revocation after insert on revocations begin delete from revocations where rowid = new.rowid; end;`);
    db.exec(`create view probe_view as select * from organisations;`);
    db.close();
    chmodSync(out, 0o644);

    const target = tempDir();
    const restored = await pqseal(['restore', '--from', out], target);
    const file = join(target, 'pqseal.db');
    let mode = -1;
    let triggers: unknown[] = [];
    if (restored.code === 0) {
      mode = statSync(file).mode & 0o777;
      const check = new Database(file, { readonly: true });
      triggers = check.prepare(`select name from sqlite_master where type in ('trigger','view')`).all();
      check.close();
    }
    assert.deepEqual(
      { refused: restored.code !== 0, mode: restored.code === 0 ? mode.toString(8) : 'n/a', triggers },
      { refused: true, mode: 'n/a', triggers: [] },
      'restore accepted a backup with attacker triggers/views (and kept its file mode)',
    );
  });
});

describe('restore of a backup file readable by others', () => {
  test('the restored store is 0600 whatever the backup file mode', async () => {
    const source = tempDir();
    assert.equal((await pqseal(['org', 'create', '--name', 'Mode Org', '--json'], source)).code, 0);
    const out = join(tempDir(), 'b.db');
    assert.equal((await pqseal(['backup', '--out', out], source)).code, 0);
    chmodSync(out, 0o644);
    const target = tempDir();
    const restored = await pqseal(['restore', '--from', out], target);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal((statSync(join(target, 'pqseal.db')).mode & 0o777).toString(8), '600');
  });
});

describe('public-key reads are limited per client address as the other limits are (IPv6: per /64)', () => {
  test('addresses of one /64 share one budget (as the login and admission limits do)', async () => {
    const server = await startTestServer({}, { PQSEAL_TRUST_PROXY: '127.0.0.1', PQSEAL_RATE_LIMIT_RPS: '1', PQSEAL_RATE_LIMIT_BURST: '2' });
    servers.push(server);
    const control: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const res = await fetch(`${server.url}/v1/keys/service`, { headers: { 'x-forwarded-for': '2001:db8:9:9::1' } });
      await res.arrayBuffer();
      control.push(res.status);
    }
    assert.ok(control.includes(429), `control: one address is limited (${control.join(',')})`);
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const res = await fetch(`${server.url}/v1/keys/service`, { headers: { 'x-forwarded-for': `2001:db8:1:2::${i.toString(16)}` } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    assert.ok(statuses.includes(429), `six addresses of 2001:db8:1:2::/64, never limited: ${statuses.join(',')}`);
  });
});

describe('the PostgreSQL store description never shows the password', () => {
  test('a password with an unescaped "/" or "?" is not echoed', () => {
    for (const [url, secret] of [
      ['postgres://pqseal:4711/secret@db/pqseal', '4711/secret'],
      ['postgres://pqseal:4711?secret@db/pqseal', '4711'],
    ] as const) {
      assert.ok(!describeUrl(url).includes(secret), `${url} described as ${describeUrl(url)}`);
    }
  });
});
