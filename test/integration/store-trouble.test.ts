import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { storeUnavailableCode } from '../../src/store/errors.js';
import { managedHeaders, registerSecret, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

/**
 * Store trouble, caused for real: the disk filling up (DATA_DIR on a small tmpfs, filled with a file,
 * then freed) and the database becoming read-only (the immutable attribute on the database file and
 * its WAL: as root, a plain chmod would not stop writes, and `mount -o remount,ro` is refused with
 * EBUSY while SQLite holds the files open for writing). While it lasts every path that writes answers
 * 503 with Retry-After — never 500, never a hang — and /readyz says not ready; once it clears, the
 * same requests succeed without a restart.
 */

const run = promisify(execFile);
/** A request that has not answered after this long counts as a hang. */
const HANG_MS = 20_000;
const PLAINTEXT = 'store trouble plaintext 5f1c';
registerSecret(PLAINTEXT);

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
  readonly text: string;
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(init.headers ?? {})) headers.set(name, value);
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(HANG_MS),
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    const json = JSON.parse(text) as { code?: string; __type?: string; body?: { error?: { code?: string } } };
    code = json.body?.error?.code ?? json.code ?? json.__type;
  } catch {
    /* not JSON */
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code, text };
}

function initiateAuth(url: string, org: NewOrganisation): Promise<Answer> {
  return call(`${url}/`, {
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: { AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } },
  });
}

/** The requests that write, by what they write. `warm` has logged in before (its login is cached); `cold` has not. */
function writingRequests(url: string, warm: NewOrganisation, cold: NewOrganisation, partner: NewOrganisation): Record<string, () => Promise<Answer>> {
  return {
    'sign-encrypt (audit record, group commit)': () => call(`${url}/v1/sign-encrypt`, { headers: managedHeaders(warm), body: { data: PLAINTEXT } }),
    'encrypt (audit record, group commit)': () => call(`${url}/v1/encrypt`, { headers: managedHeaders(warm), body: { data: PLAINTEXT } }),
    'Managed login (throttle row)': () => call(`${url}/v1/encrypt`, { headers: managedHeaders(cold), body: { data: PLAINTEXT } }),
    'InitiateAuth (throttle row, refresh token)': () => initiateAuth(url, cold),
    'revoke (revocation + audit record)': () => call(`${url}/v1/permissions/revoke`, { headers: managedHeaders(warm), body: { partner_id: partner.org_id } }),
    'restore (revocation + audit record)': () => call(`${url}/v1/permissions/restore`, { headers: managedHeaders(warm), body: { partner_id: partner.org_id } }),
  };
}

async function exerciseStoreTrouble(server: TestServer, breakStore: () => Promise<void>, healStore: () => Promise<void>): Promise<void> {
  const [warm, cold, partner] = await Promise.all([server.createOrg('Trouble Warm'), server.createOrg('Trouble Cold'), server.createOrg('Trouble Partner')]);
  const requests = writingRequests(server.url, warm, cold, partner);
  const warmUp = await call(`${server.url}/v1/sign-encrypt`, { headers: managedHeaders(warm), body: { data: PLAINTEXT } });
  assert.equal(warmUp.status, 200, warmUp.text);
  assert.equal((await call(`${server.url}/readyz`)).status, 200);

  await breakStore();
  try {
    for (const [name, request] of Object.entries(requests)) {
      // Twice: the second attempt must meet a writer that is still working, not a wedged one.
      for (const attempt of [1, 2]) {
        const answer = await request();
        assert.equal(answer.status, 503, `${name}, attempt ${attempt}, while the store cannot be written: ${answer.status} ${answer.text}`);
        assert.ok(Number(answer.retryAfter) > 0, `${name}: 503 carries Retry-After`);
        assert.ok(answer.code === 'STORE_UNAVAILABLE' || answer.code === 'AUDIT_UNAVAILABLE', `${name}: code ${answer.code}`);
      }
    }
    // Concurrent requests share one group commit: a failed commit fails every request waiting on it.
    const burst = await Promise.all(Array.from({ length: 8 }, () => requests['sign-encrypt (audit record, group commit)']?.() as Promise<Answer>));
    for (const answer of burst) {
      assert.equal(answer.status, 503, `concurrent sign-encrypt: ${answer.status} ${answer.text}`);
      assert.equal(answer.code, 'AUDIT_UNAVAILABLE');
      assert.ok(Number(answer.retryAfter) > 0);
    }
    const ready = await readyzUntil(server.url, 503);
    assert.equal(ready.status, 503, `/readyz while the store cannot be written: ${ready.text}`);
    assert.equal(ready.code, 'STORE_UNAVAILABLE');
    await assert.rejects(server.services.checkpoints.run(), (error: unknown) => {
      assert.notEqual(storeUnavailableCode(error), undefined, `a checkpoint fails as store trouble: ${String(error)}`);
      return true;
    });
  } finally {
    await healStore();
  }

  // No restart: the next requests succeed.
  assert.equal((await readyzUntil(server.url, 200)).status, 200, '/readyz once the store can be written again');
  for (const [name, request] of Object.entries(requests)) {
    const answer = await request();
    assert.equal(answer.status, 200, `${name} after the store recovered: ${answer.status} ${answer.text}`);
  }
  await server.services.checkpoints.run();
  const audit = await call(`${server.url}/v1/audit?operation=sign-encrypt&outcome=success`, { headers: managedHeaders(warm) });
  assert.equal(audit.status, 200, audit.text);
  assert.equal(
    (JSON.parse(audit.text) as { body: { records: unknown[] } }).body.records.length,
    2,
    'the sign-encrypt before and the one after; none of the refused ones',
  );
}

/** /readyz reuses its probe's result for a second: ask until it answers `status`, for a few seconds. */
async function readyzUntil(url: string, status: number): Promise<Answer> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await call(`${url}/readyz`);
    if (answer.status === status || Date.now() > deadline) return answer;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a command; undefined when it succeeded, else why it failed. */
async function attempt(file: string, args: string[]): Promise<string | undefined> {
  try {
    await run(file, args);
    return undefined;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return (e.stderr || e.message).trim();
  }
}

describe('store trouble', () => {
  test(
    'disk full (DATA_DIR on a filled tmpfs): 503 with Retry-After on every write path, readyz not ready, recovery without restart',
    { timeout: 120_000 },
    async (t: TestContext) => {
      const mountPoint = mkdtempSync(join(tmpdir(), 'pqseal-full-'));
      const mountError = await attempt('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', mountPoint]);
      if (mountError !== undefined) {
        rmSync(mountPoint, { recursive: true, force: true });
        t.skip(`cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): ${mountError}`);
        return;
      }
      const filler = join(mountPoint, 'filler');
      let server: TestServer | undefined;
      try {
        server = await startTestServer({ dataDir: join(mountPoint, 'data') });
        await exerciseStoreTrouble(
          server,
          async () => fillDisk(filler),
          async () => unlinkSync(filler),
        );
      } finally {
        await server?.stop().catch(() => undefined);
        // Lazy: a file still open somewhere must not leave the mount behind.
        await attempt('umount', ['--lazy', mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      }
    },
  );

  test(
    'read-only database (immutable database file and WAL): 503 with Retry-After on every write path, readyz not ready, recovery without restart',
    { timeout: 120_000 },
    async (t: TestContext) => {
      const dataDir = tempDataDir();
      const probe = join(dataDir, 'probe');
      closeSync(openSync(probe, 'w'));
      const chattrError = await attempt('chattr', ['+i', probe]);
      await attempt('chattr', ['-i', probe]);
      if (chattrError !== undefined) {
        rmSync(dataDir, { recursive: true, force: true });
        t.skip(`cannot set the immutable attribute in ${tmpdir()} (needs root and a filesystem that has it): ${chattrError}`);
        return;
      }
      // The -shm file stays writable: SQLite maps it, and a store to a mapped immutable file is SIGBUS.
      const files = ['pqseal.db', 'pqseal.db-wal'].map((f) => join(dataDir, f));
      let server: TestServer | undefined;
      try {
        server = await startTestServer({ dataDir });
        await exerciseStoreTrouble(
          server,
          async () => void (await run('chattr', ['+i', ...files])),
          async () => void (await run('chattr', ['-i', ...files])),
        );
      } finally {
        await attempt('chattr', ['-i', ...files]);
        await server?.stop().catch(() => undefined);
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

/** Writes `path` until the filesystem has no byte left (ENOSPC). */
function fillDisk(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of [Buffer.alloc(1024 * 1024), Buffer.alloc(4096), Buffer.alloc(1)]) {
      for (;;) {
        try {
          if (writeSync(fd, chunk) < chunk.length) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
