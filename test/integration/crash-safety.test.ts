import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createOrganisation, serverEnv, ServerProcess } from '../../bench/lib/load-server.js';
import { collectLog } from '../helpers/redaction.js';
import { managedHeaders, post, registerSecret, tempDataDir } from '../helpers/server.js';

/**
 * kill -9 under load: the server runs as its own process (`pqseal serve`), serves sign-encrypt to
 * several concurrent Managed clients, and is killed with SIGKILL mid-load. Restarted on the same
 * DATA_DIR, every envelope that was answered 200 must open and verify, must have its audit record,
 * and `pqseal audit verify` must pass: a 200 is only ever sent after its audit record is committed.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

const CLIENTS = 6;
/** Kill once this many envelopes were answered 200 (the load keeps going while the kill lands). */
const KILL_AFTER_SEALED = 40;
const LOAD_DEADLINE_MS = 60_000;
/** The child server's output is checked for every registered secret after the last test (test/helpers/redaction.ts). */
const childLog = collectLog('pqseal serve (kill -9 under load)');
const onLog = (line: string): void => {
  childLog.push(line);
};

interface Sealed {
  readonly requestId: string;
  readonly plaintext: string;
  readonly envelope: string;
  readonly envelopeId: string;
}

describe('kill -9 under load', () => {
  test(
    'every envelope answered 200 before SIGKILL opens, verifies and has its audit record after restart; audit verify passes',
    { timeout: 180_000 },
    async () => {
      const dataDir = tempDataDir();
      let server: ServerProcess | undefined;
      try {
        const org = await createOrganisation(dataDir, 'Crash Safety Org');
        registerSecret(org.password, org.secret_key);
        const headers = managedHeaders(org);
        server = await ServerProcess.start({ dataDir, workers: 2, onLog });
        const url = server.url;

        const sealed: Sealed[] = [];
        let unanswered = 0;
        let inFlight = 0;
        let killed = false;
        const client = async (c: number): Promise<void> => {
          for (let i = 0; !killed; i++) {
            const requestId = `crash-${c}-${i}`;
            const plaintext = `crash safety payload ${c}/${i} ${'x'.repeat(200 + ((c * 37 + i * 11) % 900))}`;
            // Registered before it is sent: a payload in flight when the kill lands may still reach a log line.
            registerSecret(plaintext);
            inFlight++;
            try {
              const res = await post(`${url}/v1/sign-encrypt`, { ...headers, 'x-request-id': requestId }, { data: plaintext });
              assert.equal(res.status, 200, `sign-encrypt before the kill answered ${res.status}: ${JSON.stringify(res.json)}`);
              sealed.push({ requestId, plaintext, envelope: res.json.body.encrypted_data, envelopeId: res.json.body.envelope_id });
            } catch (error) {
              // Only the kill may interrupt a request: the connection resets or the body is cut short.
              if (!killed) throw error;
              unanswered++;
            } finally {
              inFlight--;
            }
          }
        };
        let loadError: unknown;
        const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c))).catch((error: unknown) => {
          loadError = error;
        });
        const deadline = Date.now() + LOAD_DEADLINE_MS;
        // Kill while requests are out: right after a group commit every client may hold its answer and
        // none has asked again yet (seen on a loaded CI machine), and such a kill lands on an idle server.
        while (sealed.length < KILL_AFTER_SEALED || inFlight < CLIENTS) {
          assert.ifError(loadError);
          assert.ok(Date.now() < deadline, `only ${sealed.length} envelopes sealed in ${LOAD_DEADLINE_MS} ms`);
          await new Promise((r) => setTimeout(r, 10));
        }
        const exited = once(server.child, 'exit');
        killed = true;
        server.child.kill('SIGKILL');
        const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
        assert.equal(signal, 'SIGKILL');
        await load;
        assert.ifError(loadError);
        await server.stop();
        server = undefined;
        assert.ok(unanswered > 0, 'the kill landed while requests were in flight');

        server = await ServerProcess.start({ dataDir, workers: 2, onLog });
        for (const s of sealed) {
          const opened = await post(`${server.url}/v1/decrypt-verify`, headers, { encrypted_data: s.envelope });
          assert.equal(opened.status, 200, `${s.requestId}: decrypt-verify answered ${opened.status} ${JSON.stringify(opened.json)}`);
          assert.equal(opened.json.body.is_valid_signature, true, s.requestId);
          assert.equal(opened.json.body.decrypted_data, s.plaintext, s.requestId);
          assert.equal(opened.json.body.envelope_id, s.envelopeId, s.requestId);
        }

        const audited = await sealRecords(server.url, headers);
        for (const s of sealed) {
          const record = audited.get(s.requestId);
          assert.ok(record, `${s.requestId} was answered 200 but has no audit record`);
          assert.equal(record.envelope_id, s.envelopeId, s.requestId);
          assert.equal(record.outcome, 'success', s.requestId);
          assert.equal(record.http_status, 200, s.requestId);
        }
        await server.stop();
        server = undefined;

        const verify = await run(process.execPath, [CLI, 'audit', 'verify', '--json'], { env: serverEnv(dataDir), timeout: 60_000 }).then(
          (r) => ({ code: 0, stdout: r.stdout }),
          (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '' }),
        );
        assert.equal(verify.code, 0, `pqseal audit verify failed after the crash:\n${verify.stdout}`);
      } finally {
        if (server) {
          server.child.kill('SIGKILL');
          await server.stop();
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

interface SealRecord {
  readonly request_id: string | null;
  readonly envelope_id: string | null;
  readonly outcome: string;
  readonly http_status: number | null;
}

/** The organisation's sign-encrypt audit records by request id, every page. */
async function sealRecords(url: string, headers: Record<string, string>): Promise<Map<string, SealRecord>> {
  const byRequest = new Map<string, SealRecord>();
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ operation: 'sign-encrypt', limit: '500', ...(cursor ? { cursor } : {}) });
    const res: Response = await fetch(`${url}/v1/audit?${query}`, { headers });
    const json = (await res.json()) as { body: { records: SealRecord[]; next_cursor: string | null } };
    assert.equal(res.status, 200, JSON.stringify(json));
    for (const r of json.body.records) if (r.request_id) byRequest.set(r.request_id, r);
    cursor = json.body.next_cursor;
  } while (cursor);
  return byRequest;
}
