import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { chromium } from 'playwright-core';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { DOCS_CSP, registeredRoutes } from '../../src/http/openapi.js';
import { login, managedHeaders, partnerHeaders, registerSecret, RESULTS_DIR, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The OpenAPI document, fetched from a running server: structurally a valid OpenAPI 3.1 document
 * (no validator package: the checks below, with Ajv — already installed by Fastify — compiling every
 * schema and validating every example), complete (every registered route is in it), and true
 * (real answers of the server validate against the documented response for their status). And the
 * reference at /docs loads entirely from the server's own origin.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenAPI documents and schemas walked key by key
type Json = Record<string, any>;

const require = createRequire(import.meta.url);
const addFormats = require('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

let server: TestServer;
let org: NewOrganisation;
let doc: Json;
let ajv: Ajv2020;

before(async () => {
  server = await startTestServer();
  org = await server.createOrg('Rockville Insurance Group');
  const res = await fetch(`${server.url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  doc = (await res.json()) as Json;
  ajv = new Ajv2020({ strict: true, strictTypes: false, strictTuples: false, allErrors: true, validateSchema: true });
  addFormats(ajv);
  for (const keyword of ['example', 'discriminator', 'xml', 'externalDocs']) ajv.addKeyword(keyword);
});
after(() => server.stop());

function operations(): { path: string; method: string; op: Json }[] {
  const out: { path: string; method: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const method of METHODS) if ((item as Json)[method]) out.push({ path, method, op: (item as Json)[method] });
  }
  return out;
}

/** Every `$ref` value anywhere in a document, in document order. */
function refsIn(root: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') out.push(x);
        else walk(x);
      }
  };
  walk(root);
  return out;
}

/** The references that are not local JSON pointers to something in the same document. */
function unresolvedRefs(root: Json): string[] {
  return refsIn(root).filter((ref) => {
    if (!ref.startsWith('#/')) return true;
    let cur: unknown = root;
    for (const part of ref
      .slice(2)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')))
      cur = (cur as Json | undefined)?.[part];
    return cur === undefined;
  });
}

/** Every Schema Object with where it is, and the example values that belong to it. */
function schemas(): { where: string; schema: Json; examples: unknown[] }[] {
  const out: { where: string; schema: Json; examples: unknown[] }[] = [];
  const media = (where: string, m: Json) => {
    if (!m.schema) return;
    const examples: unknown[] = [];
    if ('example' in m) examples.push(m.example);
    for (const e of Object.values((m.examples ?? {}) as Json)) examples.push((e as Json).value);
    out.push({ where, schema: m.schema, examples });
  };
  for (const [name, s] of Object.entries((doc.components?.schemas ?? {}) as Json)) out.push({ where: `components.schemas.${name}`, schema: s, examples: [] });
  for (const { path, method, op } of operations()) {
    const at = `${method.toUpperCase()} ${path}`;
    for (const p of (op.parameters ?? []) as Json[])
      if (p.schema) out.push({ where: `${at} parameter ${p.in}:${p.name}`, schema: p.schema, examples: 'example' in p ? [p.example] : [] });
    for (const [type, m] of Object.entries((op.requestBody?.content ?? {}) as Json)) media(`${at} requestBody ${type}`, m);
    for (const [status, r] of Object.entries(op.responses as Json)) {
      for (const [type, m] of Object.entries(((r as Json).content ?? {}) as Json)) media(`${at} ${status} ${type}`, m);
      for (const [name, h] of Object.entries(((r as Json).headers ?? {}) as Json))
        if ((h as Json).schema) out.push({ where: `${at} ${status} header ${name}`, schema: (h as Json).schema, examples: [] });
    }
  }
  return out;
}

/** Validates a schema's own `examples` array too (3.1 keeps it as JSON Schema's keyword). */
function nestedExamples(schema: unknown, path: string, found: { path: string; schema: Json; value: unknown }[] = []) {
  if (Array.isArray(schema)) schema.forEach((s, i) => nestedExamples(s, `${path}[${i}]`, found));
  else if (schema && typeof schema === 'object') {
    const s = schema as Json;
    if (Array.isArray(s.examples)) for (const v of s.examples) found.push({ path, schema: s, value: v });
    for (const [k, v] of Object.entries(s)) if (k !== 'examples') nestedExamples(v, `${path}.${k}`, found);
  }
  return found;
}

describe('a structurally valid OpenAPI 3.1 document', () => {
  test('top-level fields, info, tags and security schemes', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    assert.ok(doc.info.description.includes('Managed API') && doc.info.description.includes('401'));
    assert.equal(typeof doc.paths, 'object');
    for (const key of Object.keys(doc))
      assert.ok(
        ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs'].includes(key) ||
          key.startsWith('x-'),
        `unknown top-level field ${key}`,
      );
    const tagNames = (doc.tags as Json[]).map((t) => t.name as string);
    assert.equal(new Set(tagNames).size, tagNames.length, 'tag names are unique');
    for (const t of doc.tags as Json[]) assert.ok(t.description, `tag ${t.name} is described`);
    for (const [name, s] of Object.entries(doc.components.securitySchemes as Json)) {
      assert.ok(['apiKey', 'http', 'oauth2', 'openIdConnect', 'mutualTLS'].includes((s as Json).type), name);
      if ((s as Json).type === 'apiKey') assert.ok((s as Json).name && ['header', 'query', 'cookie'].includes((s as Json).in), name);
      assert.ok((s as Json).description, `security scheme ${name} is described`);
    }
  });

  test('every operation: unique operationId, known tags, responses with descriptions, parameters well-formed, path templates declared', () => {
    const ids = new Set<string>();
    const tagNames = new Set((doc.tags as Json[]).map((t) => t.name as string));
    for (const { path, method, op } of operations()) {
      const at = `${method.toUpperCase()} ${path}`;
      assert.ok(path.startsWith('/'), at);
      assert.equal(typeof op.operationId, 'string', `${at} has an operationId`);
      assert.ok(!ids.has(op.operationId), `${at}: operationId ${op.operationId} is unique`);
      ids.add(op.operationId);
      assert.ok(op.summary, `${at} has a summary`);
      for (const t of op.tags ?? []) assert.ok(tagNames.has(t), `${at}: tag ${t} is declared`);
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${at} has responses`);
      for (const [status, r] of Object.entries(op.responses as Json)) {
        assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/, `${at}: status key ${status}`);
        assert.equal(typeof (r as Json).description, 'string', `${at} ${status} has a description`);
        assert.notEqual((r as Json).description, 'Default Response', `${at} ${status} is really described`);
        assert.ok((r as Json).content, `${at} ${status} describes its body`);
        assert.ok((r as Json).headers?.['x-request-id'], `${at} ${status} documents x-request-id`);
        // API errors 429 and 503 come with Retry-After (the readiness probe's 503 is a probe answer, without).
        if ((status === '429' || status === '503') && path !== '/readyz')
          assert.ok((r as Json).headers['retry-after'], `${at} ${status} documents Retry-After`);
      }
      const seen = new Set<string>();
      for (const p of (op.parameters ?? []) as Json[]) {
        assert.ok(typeof p.name === 'string' && ['query', 'header', 'path', 'cookie'].includes(p.in), `${at}: parameter ${JSON.stringify(p)}`);
        assert.ok(p.schema || p.content, `${at}: parameter ${p.name} has a schema`);
        assert.ok(!seen.has(`${p.in}:${p.name}`), `${at}: parameter ${p.in}:${p.name} is not repeated`);
        seen.add(`${p.in}:${p.name}`);
        if (p.in === 'path') assert.equal(p.required, true, `${at}: path parameter ${p.name} is required`);
        if (p.in === 'header')
          assert.ok(
            !['accept', 'content-type', 'authorization'].includes(p.name.toLowerCase()),
            `${at}: header ${p.name} would be ignored; use a security scheme`,
          );
      }
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) assert.ok(seen.has(`path:${name}`), `${at}: path parameter ${name} is declared`);
      for (const requirement of op.security ?? [])
        for (const scheme of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[scheme], `${at}: security scheme ${scheme} exists`);
      if (op.requestBody) assert.ok(Object.keys(op.requestBody.content ?? {}).length > 0, `${at}: request body has content`);
    }
  });

  test('every $ref resolves', (t) => {
    assert.deepEqual(unresolvedRefs(doc), []);
    // The walk finds what it is meant to find: a reference to nothing and a non-local one, but not a good
    // one (a path, so `~1` stands for `/`).
    const path = Object.keys(doc.paths as Json)[0] as string;
    const probe: Json = {
      ...doc,
      paths: {
        ...doc.paths,
        '/probe': {
          get: {
            parameters: [
              { $ref: '#/components/parameters/Missing' },
              { $ref: 'https://example.com/schema.json' },
              { $ref: `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}` },
            ],
          },
        },
      },
    };
    assert.deepEqual(unresolvedRefs(probe), ['#/components/parameters/Missing', 'https://example.com/schema.json']);
    t.diagnostic(`${refsIn(doc).length} $ref(s) in the document`);
  });

  test('every schema is valid JSON Schema 2020-12, and every example validates against its schema', () => {
    const all = schemas();
    assert.ok(all.length > 100, `found ${all.length} schemas`);
    let examples = 0;
    for (const { where, schema, examples: values } of all) {
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(schema);
      } catch (e) {
        assert.fail(`${where}: ${(e as Error).message}`);
      }
      for (const value of values) {
        examples++;
        assert.ok(validate(value), `${where}: example ${JSON.stringify(value).slice(0, 120)} does not validate: ${ajv.errorsText(validate.errors)}`);
      }
      for (const nested of nestedExamples(schema, where)) {
        examples++;
        const v = ajv.compile({ ...nested.schema, examples: undefined });
        assert.ok(v(nested.value), `${nested.path}: schema example does not validate: ${ajv.errorsText(v.errors)}`);
      }
    }
    assert.ok(examples > 50, `validated ${examples} examples`);
  });
});

describe('complete', () => {
  test('every registered route (hidden ones aside) is in the document, and every documented operation is a route', () => {
    const routes = registeredRoutes(server.app).filter((r) => !r.hidden && r.method !== 'HEAD' && r.method !== 'OPTIONS');
    assert.ok(routes.length >= 25, `tracked ${routes.length} routes`);
    const documented = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.path}`));
    const registered = new Set(routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`));
    for (const r of registered) assert.ok(documented.has(r), `${r} is documented`);
    for (const d of documented) assert.ok(registered.has(d), `${d} is a registered route`);
    // The hidden ones are the document itself, the reference, the console and its assets.
    for (const r of registeredRoutes(server.app).filter((x) => x.hidden && x.method === 'GET')) {
      assert.match(r.url, /^\/(openapi\.json|docs|console|bench\/|$)/, `${r.url} is hidden on purpose`);
    }
  });

  test('each operation names the headers it needs: credentials as security schemes, the rest as parameters', () => {
    for (const { path, method, op } of operations()) {
      const at = `${method.toUpperCase()} ${path}`;
      const schemes = new Set((op.security ?? []).flatMap((r: Json) => Object.keys(r)));
      if (path.startsWith('/v1/') && !path.startsWith('/v1/keys/'))
        assert.deepEqual([...schemes].sort(), ['access_key', 'api_key', 'password', 'secret_key', 'username'], at);
      else if (['/encrypt', '/sign-encrypt', '/decrypt', '/decrypt-verify', '/permissions', '/audit'].some((p) => path.startsWith(p)))
        assert.deepEqual([...schemes].sort(), ['access_key', 'api_key', 'bearerAuth', 'secret_key'], at);
      else assert.equal(schemes.size, 0, `${at} is unauthenticated`);
      assert.ok(
        (op.parameters as Json[]).some((p) => p.in === 'header' && p.name === 'x-request-id'),
        `${at} documents x-request-id`,
      );
    }
    assert.ok(
      doc.paths['/'].post.parameters.some((p: Json) => p.name === 'x-amz-target' && p.required),
      'InitiateAuth documents X-Amz-Target',
    );
  });

  test('errors: every status an operation can answer with is its own response, listing its stable codes with an example each', () => {
    const dv = doc.paths['/v1/decrypt-verify'].post.responses;
    assert.deepEqual(Object.keys(dv).sort(), ['200', '400', '401', '403', '408', '413', '415', '422', '429', '500', '503']);
    assert.deepEqual(dv['422'].content['application/json'].schema.properties.body.properties.error.properties.code.enum, ['ENVELOPE_NOT_SIGNED']);
    assert.ok(dv['401'].content['application/json'].examples.NOT_AUTHORIZED.value.body.error.message === 'Username and/or Password Incorrect');
    const direct = doc.paths['/decrypt'].post.responses;
    assert.deepEqual(direct['401'].content['application/json'].schema.properties.code.enum, ['TOKEN_INVALID', 'TOKEN_EXPIRED']);
    assert.ok(!('422' in direct), 'decrypt does not answer ENVELOPE_NOT_SIGNED');
    const keys = doc.paths['/keys/{orgId}'].get.responses;
    assert.ok(keys['404'] && !keys['401'], 'public keys: 404, no auth errors');
  });

  test("the seed's request and response are the examples of sign-encrypt", () => {
    const op = doc.paths['/v1/sign-encrypt'].post;
    const request = op.requestBody.content['application/json'].examples;
    assert.deepEqual(request.seed.value, { data: 'sensitive information to sign and encrypt' });
    assert.deepEqual(request.sharedWithPartner.value.permissions, [{ partner_id: 'partner-123', permissions: ['read', 'write'] }]);
    const response = op.responses['200'].content['application/json'].examples.seed.value;
    assert.equal(response.statusCode, 200);
    assert.match(response.body.encrypted_data, /^ugHTJ-ziCZ-QmWh8ruNJ0/);
    const direct = doc.paths['/sign-encrypt'].post.responses['200'].content['application/json'].examples.seed.value;
    assert.equal(direct.statusCode, undefined, 'Direct examples are not wrapped');
    const dv = doc.paths['/decrypt-verify'].post.responses['200'].content['application/json'].examples;
    assert.equal(dv.seed.value.signed_by, 'Rockville Insurance Group');
    assert.equal(dv.seed.value.signed_timestamp, '2025-10-19T17:28:27.659100+00:00');
    assert.equal(dv.signatureDoesNotHold.value.repudiator, 'Rockville Insurance Group');
  });
});

describe('true: real answers validate against the documented response', () => {
  async function check(method: string, template: string, url: string, init: RequestInit, expectedStatus: number): Promise<Json> {
    const res = await fetch(`${server.url}${url}`, { method, ...init });
    const text = await res.text();
    assert.equal(res.status, expectedStatus, `${method} ${url}: ${text.slice(0, 200)}`);
    assert.ok(res.headers.get('x-request-id'), 'x-request-id is sent');
    const op = doc.paths[template]?.[method.toLowerCase()];
    assert.ok(op, `${method} ${template} is documented`);
    const response = op.responses[String(res.status)];
    assert.ok(response, `${method} ${template}: status ${res.status} is documented`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0] as string;
    const media = response.content[type];
    assert.ok(media, `${method} ${template} ${res.status}: ${type} is documented (${Object.keys(response.content).join(', ')})`);
    const validate = ajv.compile(media.schema);
    const body = JSON.parse(text) as Json;
    assert.ok(validate(body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`);
    return body;
  }
  const json = (headers: Record<string, string>, body: unknown): RequestInit => {
    const h = new Headers(headers);
    h.set('content-type', 'application/json');
    return { headers: h, body: JSON.stringify(body) };
  };

  test('Managed API: success and every kind of error', async () => {
    const h = managedHeaders(org);
    const sealed = await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', json(h, { data: 'openapi check' }), 200);
    registerSecret('openapi check');
    await check('POST', '/v1/decrypt-verify', '/v1/decrypt-verify', json(h, { encrypted_data: sealed.body.encrypted_data }), 200);
    await check('POST', '/v1/decrypt', '/v1/decrypt', json(h, { encrypted_data: sealed.body.encrypted_data }), 200);
    const unsigned = await check('POST', '/v1/encrypt', '/v1/encrypt', json(h, { data: 'x' }), 200);
    await check('POST', '/v1/decrypt-verify', '/v1/decrypt-verify', json(h, { encrypted_data: unsigned.body.encrypted_data }), 422);
    await check('POST', '/v1/decrypt', '/v1/decrypt', json(h, { encrypted_data: `${sealed.body.encrypted_data.slice(0, -2)}AA` }), 400);
    await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', json({ ...h, password: 'wrong-password-789' }, { data: 'x' }), 401);
    await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', json({ ...h, secret_key: 'wrong' }, { data: 'x' }), 403);
    await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', json(h, {}), 400);
    // batch_input: results and item errors, and a batch refused as a whole.
    const batch = await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', json(h, { batch_input: [{ data: 'x' }, { data: 'y', colour: 'blue' }] }), 200);
    assert.equal(batch.body.batch_results[1].error.code, 'VALIDATION_ERROR');
    const items = [{ encrypted_data: sealed.body.encrypted_data }, { encrypted_data: unsigned.body.encrypted_data }, { encrypted_data: 'nope' }];
    const opened = await check('POST', '/v1/decrypt-verify', '/v1/decrypt-verify', json(h, { batch_input: items }), 200);
    const codes = opened.body.batch_results.map((r: Json) => r.error?.code ?? 'ok');
    assert.deepEqual(codes.slice(0, 2), ['ok', 'ENVELOPE_NOT_SIGNED']);
    assert.match(codes[2], /^ENVELOPE_/);
    await check('POST', '/v1/decrypt', '/v1/decrypt', json(h, { batch_input: items }), 200);
    await check('POST', '/v1/encrypt', '/v1/encrypt', json(h, { batch_input: Array.from({ length: 1001 }, () => ({ data: 'x' })) }), 413);
    await check('POST', '/v1/encrypt', '/v1/encrypt', json(h, { data: 'x', batch_input: [{ data: 'y' }] }), 400);
    const plain = new Headers(h);
    plain.set('content-type', 'application/x-www-form-urlencoded');
    await check('POST', '/v1/sign-encrypt', '/v1/sign-encrypt', { headers: plain, body: 'x' }, 415);
    await check('POST', '/v1/permissions/revoke', '/v1/permissions/revoke', json(h, { partner_id: 'org_x', envelope_id: sealed.body.envelope_id }), 400);
    await check('GET', '/v1/permissions', '/v1/permissions', { headers: h }, 200);
    await check('GET', '/v1/audit', '/v1/audit?limit=3', { headers: h }, 200);
    await check('GET', '/v1/audit', '/v1/audit?cursor=nonsense', { headers: h }, 400);
  });

  test('Direct API, identity pool, public keys and probes', async () => {
    const { IdToken } = await login(server.url, org);
    const h = { authorization: `Bearer ${IdToken}`, ...partnerHeaders(org) };
    const sealed = await check('POST', '/encrypt', '/encrypt', json(h, { data: 'x', requested_actions: ['e'] }), 200);
    await check('POST', '/decrypt', '/decrypt', json(h, { encrypted_data: sealed.encrypted_data }), 200);
    const batch = await check('POST', '/encrypt', '/encrypt', json(h, { batch_input: [{ data: 'x' }], requested_actions: ['e'] }), 200);
    await check(
      'POST',
      '/decrypt',
      '/decrypt',
      json(h, { batch_input: [{ encrypted_data: batch.batch_results[0].encrypted_data }, { encrypted_data: 'nope' }] }),
      200,
    );
    await check('POST', '/sign-encrypt', '/sign-encrypt', json(h, { batch_input: [{ data: 'x' }] }), 200);
    await check('POST', '/decrypt-verify', '/decrypt-verify', json(h, { batch_input: [{ encrypted_data: batch.batch_results[0].encrypted_data }] }), 200);
    await check('POST', '/decrypt', '/decrypt', json({ ...h, authorization: 'Bearer not.a.token' }, { encrypted_data: sealed.encrypted_data }), 401);
    await check('POST', '/permissions/restore', '/permissions/restore', json(h, { partner_id: org.org_id }), 400);
    await check('GET', '/audit', '/audit', { headers: h }, 200);
    await check('GET', '/permissions', '/permissions', { headers: h }, 200);

    const amz = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' };
    await check(
      'POST',
      '/',
      '/',
      {
        headers: amz,
        body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
      },
      200,
    );
    await check(
      'POST',
      '/',
      '/',
      {
        headers: amz,
        body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: 'nope-nope' } }),
      },
      400,
    );
    await check('POST', '/', '/', { headers: amz, body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'other', AuthParameters: {} }) }, 400);

    await check('GET', '/keys/{orgId}', `/keys/${org.org_id}`, {}, 200);
    await check('GET', '/v1/keys/{orgId}', `/v1/keys/${org.org_id}`, {}, 200);
    await check('GET', '/keys/{orgId}', '/keys/org_unknown', {}, 404);
    await check('GET', '/v1/keys/{orgId}', '/v1/keys/org_unknown', {}, 404);
    await check('GET', '/keys/service', '/keys/service', {}, 200);
    await check('GET', '/v1/keys/service', '/v1/keys/service', {}, 200);
    await check('GET', '/healthz', '/healthz', {}, 200);
    await check('GET', '/readyz', '/readyz', {}, 200);
    await check('GET', '/.well-known/jwks.json', '/.well-known/jwks.json', {}, 200);
    await check('GET', '/.well-known/openid-configuration', '/.well-known/openid-configuration', {}, 200);
  });
});

describe('/docs: the browsable reference, served from this origin only', () => {
  test('HTML whose every asset is same-origin and loads; a strict CSP; its document is /openapi.json', async () => {
    const res = await fetch(`${server.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(res.headers.get('content-security-policy'), DOCS_CSP);
    const html = await res.text();
    assert.match(html, /<title>pqseal API reference<\/title>/);
    const assets = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.length >= 5, `assets: ${assets.join(', ')}`);
    for (const asset of assets) {
      const url = new URL(asset, `${server.url}/docs`);
      assert.equal(url.origin, server.url, `${asset} is same-origin`);
      const a = await fetch(url);
      assert.equal(a.status, 200, asset);
      await a.arrayBuffer();
    }
    assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL (CDN) in the page');
    const initializer = await (await fetch(`${server.url}/docs/static/swagger-initializer.js`)).text();
    assert.match(initializer, /url: resolveUrl\('\.\/json'\)/, 'the initializer loads the document from /docs/json');
    assert.match(initializer, /validatorUrl: null/, 'and sends it to no online validator');
    const fromDocs = await (await fetch(`${server.url}/docs/json`)).json();
    assert.deepEqual(fromDocs, doc, '/docs shows the same document as /openapi.json');
  });

  test('in a real browser it renders every operation without touching another origin or breaking the CSP', async (t) => {
    const CHROMIUM = '/usr/bin/chromium';
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} is not installed`);
      return;
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // CI runs this tier beside the integration tier on two cores: waits get room beyond playwright's 30 s.
      page.setDefaultTimeout(90_000);
      const foreign: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 90_000 });
      assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /pqseal/);
      const operationCount = await page.locator('.opblock').count();
      assert.equal(operationCount, operations().length, 'every operation is shown');
      await page.locator('#operations-Managed_API-postManagedSignEncrypt .opblock-summary').click();
      await page.waitForSelector('#operations-Managed_API-postManagedSignEncrypt .responses-table');
      await page.screenshot({ path: join(RESULTS_DIR, 'docs.png'), fullPage: false });
      assert.deepEqual(foreign, [], 'no request leaves the origin');
      assert.deepEqual(problems, [], 'no script error or CSP violation');
    } finally {
      await browser.close();
    }
  });
});
