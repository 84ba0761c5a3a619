import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { scrape, total } from '../helpers/prometheus-text.js';
import { managedHeaders, post, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * PQSEAL_TRUST_PROXY: behind a trusted load balancer the client's own address (X-Forwarded-For) is the
 * one audit records carry and the per-address login limit counts; without it the header is ignored,
 * so a client cannot pick the address it is recorded and limited under.
 */

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function serve(env: Record<string, string>): Promise<TestServer> {
  const s = await startTestServer({}, { PQSEAL_LOGIN_RATE_PER_ADDRESS: '1', PQSEAL_LOGIN_BURST_PER_ADDRESS: '2', ...env });
  servers.push(s);
  return s;
}

function initiateAuth(server: TestServer, forwardedFor: string): Promise<number> {
  return fetch(`${server.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      'x-forwarded-for': forwardedFor,
    },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: 'nobody-here', PASSWORD: 'wrong password 123' } }),
  }).then((r) => r.status);
}

async function auditedAddresses(server: TestServer, orgId: string): Promise<(string | null)[]> {
  const rows = await server.services.store.db.selectFrom('audit_records').select('client_address').where('chain_id', '=', orgId).orderBy('seq').execute();
  return rows.map((r) => r.client_address);
}

describe('PQSEAL_TRUST_PROXY', () => {
  test('set to the proxy address: the forwarded client address is audited and limited', async () => {
    const server = await serve({ PQSEAL_TRUST_PROXY: '127.0.0.1' });
    const org = await server.createOrg('Proxied Org');
    const sealed = await post(`${server.url}/v1/encrypt`, { ...managedHeaders(org), 'x-forwarded-for': '203.0.113.7' }, { data: 'behind a proxy' });
    assert.equal(sealed.status, 200);
    assert.deepEqual(await auditedAddresses(server, org.org_id), ['203.0.113.7']);

    assert.deepEqual(
      [await initiateAuth(server, '198.51.100.1'), await initiateAuth(server, '198.51.100.1'), await initiateAuth(server, '198.51.100.1')],
      [400, 400, 429],
      'the burst of 2 is spent by that client',
    );
    assert.equal(await initiateAuth(server, '198.51.100.2'), 400, 'another client behind the same proxy has its own budget');
    const metrics = await scrape(`${server.url}/metrics`);
    assert.equal(total(metrics.samples, 'pqseal_refusals_total', { code: 'LOGIN_RATE_LIMITED' }), 1, 'the refused login is counted');
  });

  test('unset: X-Forwarded-For is ignored, the connection address is audited and limited', async () => {
    const server = await serve({});
    const org = await server.createOrg('Direct Org');
    const sealed = await post(`${server.url}/v1/encrypt`, { ...managedHeaders(org), 'x-forwarded-for': '203.0.113.7' }, { data: 'spoof attempt' });
    assert.equal(sealed.status, 200);
    assert.deepEqual(await auditedAddresses(server, org.org_id), ['127.0.0.1']);

    // The Managed login above took one of 127.0.0.1's two; each spoofed address counts against it too.
    assert.deepEqual(
      [await initiateAuth(server, '198.51.100.1'), await initiateAuth(server, '198.51.100.2'), await initiateAuth(server, '198.51.100.3')],
      [400, 429, 429],
      'a spoofed header does not buy a fresh budget',
    );
  });

  test('a hop count trusts that many proxies from the server outwards, not the addresses a client adds', async () => {
    const server = await serve({ PQSEAL_TRUST_PROXY: '1' });
    const org = await server.createOrg('Hop Org');
    // The client wrote 192.0.2.66 itself; the one trusted proxy appended the address it saw.
    const sealed = await post(`${server.url}/v1/encrypt`, { ...managedHeaders(org), 'x-forwarded-for': '192.0.2.66, 203.0.113.8' }, { data: 'one hop' });
    assert.equal(sealed.status, 200);
    assert.deepEqual(await auditedAddresses(server, org.org_id), ['203.0.113.8']);
  });
});
