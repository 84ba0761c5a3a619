import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ERROR_CATALOGUE, errorSpec, INTERNAL_ERROR_CODES, isErrorCode, type ErrorCode } from '@pqseal/sdk/catalogue';
import { toWireError } from '../../src/http/error-mapping.js';
import { asStoreError, StoreClosedError } from '../../src/store/errors.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The error catalogue (packages/sdk/src/catalogue.ts) is the one table of codes: every code the source
 * can throw is in it, every code of the API is in the OpenAPI document and the README under the
 * catalogue's status, and the HTTP mapping gives each code that status. Real answers of the server
 * are checked code by code in test/error-catalogue.http.test.ts.
 */

const ROOT = new URL('../../../', import.meta.url).pathname;
const SRC = join(ROOT, 'src');
/** The envelope format module the server shares with the SDK: its errors reach clients through the server. */
const ENVELOPE_FORMAT = join(ROOT, 'packages', 'sdk', 'src', 'envelope');
/** The console only reads codes the server sends; it throws none of its own to the API. */
const CLIENT_SIDE = [join(SRC, 'web')];

const API_CODES = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter((code) => errorSpec(code).cliOnly !== true);
/** Answered before or outside any route (router miss, Node's HTTP parser), so no operation lists them. */
const NOT_PER_ROUTE = new Set<ErrorCode>(['NOT_FOUND', 'HEADERS_TOO_LARGE']);

function sourceFiles(dir: string): string[] {
  if (CLIENT_SIDE.includes(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.c?ts$/.test(entry.name) ? [path] : [];
  });
}

const CODE = `'([A-Z][A-Z0-9_]+)'`;
/** Where a thrown or answered error code is written down: typed error classes, constructors, wire objects. */
const THROWN_CODE_PATTERNS = [
  new RegExp(`readonly code = ${CODE}`, 'g'),
  new RegExp(`(?:DomainError|ServiceError)<${CODE}>`, 'g'),
  new RegExp(`new (?:ServiceError|TokenError|EnvelopeError)\\(${CODE}`, 'g'),
  new RegExp(`(?:wireError|answer)\\(${CODE}`, 'g'),
];
/** Plain `code: '…'` objects are wire answers in these layers (elsewhere they are log fields). */
const WIRE_LAYERS = [join(SRC, 'http'), join(SRC, 'core')];
const WIRE_OBJECT_CODE = new RegExp(`\\bcode: ${CODE}`, 'g');
const CODE_UNION = /type \w*ErrorCode = ([^;]+);/g;

/** Every error code the source throws or answers with, and the files that do. */
function codesInSource(files: readonly string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const note = (code: string, file: string) => found.set(code, [...(found.get(code) ?? []), relative(ROOT, file)]);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of THROWN_CODE_PATTERNS) for (const m of text.matchAll(pattern)) note(m[1] as string, file);
    if (WIRE_LAYERS.some((layer) => file.startsWith(layer))) for (const m of text.matchAll(WIRE_OBJECT_CODE)) note(m[1] as string, file);
    for (const union of text.matchAll(CODE_UNION)) for (const m of (union[1] as string).matchAll(new RegExp(CODE, 'g'))) note(m[1] as string, file);
  }
  return found;
}

describe('every code the source can throw is in the catalogue', () => {
  const files = [...sourceFiles(SRC), ...sourceFiles(ENVELOPE_FORMAT)];
  const found = codesInSource(files);

  test('the scan sees the typed errors, the service errors and the wire objects', () => {
    for (const code of ['NOT_AUTHORIZED', 'ENVELOPE_MALFORMED', 'RATE_LIMITED', 'HEADERS_TOO_LARGE', 'NOT_FOUND', 'STORE_OPEN_FAILED', 'ORG_KEYS_MISSING']) {
      assert.ok(found.has(code), `the scan finds ${code}`);
    }
    assert.ok(found.size >= 40, `found ${found.size} codes`);
  });

  test('each found code is a catalogue code, or an internal one that never reaches a client as itself', () => {
    const unknown = [...found].filter(([code]) => !isErrorCode(code) && !(code in INTERNAL_ERROR_CODES));
    assert.deepEqual(
      unknown.map(([code, where]) => `${code} (${[...new Set(where)].join(', ')})`),
      [],
      'add these to packages/sdk/src/catalogue.ts (ERROR_CATALOGUE, or INTERNAL_ERROR_CODES if no answer carries them)',
    );
  });

  test('no catalogue entry is dead: each code is used by the source outside the catalogue', () => {
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const code of [...Object.keys(ERROR_CATALOGUE), ...Object.keys(INTERNAL_ERROR_CODES)]) assert.ok(text.includes(`'${code}'`), `${code} is used`);
  });

  test('retryable codes are the 429s and 503s, and each 503 says how long to wait', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOGUE) as [ErrorCode, (typeof ERROR_CATALOGUE)[ErrorCode]][]) {
      assert.equal(spec.retryable, spec.status === 429 || spec.status === 503, code);
      if (spec.status === 503) assert.ok((errorSpec(code).retryAfterSeconds ?? 0) >= 1, `${code} has a default Retry-After`);
      assert.ok(spec.message.length > 0 && spec.description.length > 0, code);
    }
  });
});

describe('the HTTP mapping gives every code its catalogue status', () => {
  test('an error with a catalogue code', () => {
    for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
      const spec = errorSpec(code);
      const wire = toWireError(Object.assign(new Error('a message'), { code }));
      assert.equal(wire.code, code);
      assert.equal(wire.status, spec.status, code);
      assert.equal(wire.retryAfterSeconds, spec.retryAfterSeconds, code);
    }
  });

  test('internal codes are answered as INTERNAL_ERROR', () => {
    for (const code of Object.keys(INTERNAL_ERROR_CODES)) {
      const wire = toWireError(Object.assign(new Error('secret detail'), { code }));
      assert.equal(wire.code, 'INTERNAL_ERROR', code);
      assert.equal(wire.status, 500);
      assert.ok(!wire.message.includes('secret detail'));
    }
  });

  test("the store's typed error, thrown or as a cause, is STORE_UNAVAILABLE; a driver's code alone is not the HTTP layer's business", () => {
    const sqliteFull = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    for (const error of [new StoreClosedError(), asStoreError(sqliteFull), new Error('wrapped', { cause: asStoreError(sqliteFull) })]) {
      const wire = toWireError(error);
      assert.equal(wire.code, 'STORE_UNAVAILABLE');
      assert.equal(wire.message, errorSpec('STORE_UNAVAILABLE').message, 'the driver message stays in the log');
      assert.equal(wire.retryAfterSeconds, errorSpec('STORE_UNAVAILABLE').retryAfterSeconds);
    }
    assert.equal(toWireError(sqliteFull).code, 'INTERNAL_ERROR', 'the store adapter classifies driver errors (src/store/sqlite-connection.ts)');
  });

  test("Fastify's refusals", () => {
    for (const [fastifyCode, code] of [
      ['FST_ERR_CTP_BODY_TOO_LARGE', 'BODY_TOO_LARGE'],
      ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE'],
      ['FST_ERR_CTP_EMPTY_JSON_BODY', 'INVALID_JSON'],
      ['FST_ERR_CTP_INVALID_JSON_BODY', 'INVALID_JSON'],
      ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'INVALID_CONTENT_LENGTH'],
      ['FST_ERR_BAD_URL', 'BAD_REQUEST'],
      ['FST_ERR_MAX_PARAM_LENGTH', 'PATH_PARAMETER_TOO_LONG'],
    ] as const) {
      const wire = toWireError(Object.assign(new Error('x'), { code: fastifyCode }));
      assert.equal(wire.code, code);
      assert.equal(wire.status, errorSpec(code).status);
    }
  });
});

describe('every code of the API is documented with its catalogue status', () => {
  let server: TestServer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OpenAPI document, walked key by key
  let doc: Record<string, any>;
  before(async () => {
    server = await startTestServer();
    doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as typeof doc;
  });
  after(() => server.stop());

  test("the document's table lists every code with its status and retryability", () => {
    const rows = new Map<string, { status: number; retryable: boolean }>();
    for (const m of String(doc.info.description).matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \| (yes|no)\b/gm)) {
      rows.set(m[2] as string, { status: Number(m[1]), retryable: m[3] === 'yes' });
    }
    for (const code of API_CODES) assert.deepEqual(rows.get(code), { status: errorSpec(code).status, retryable: errorSpec(code).retryable }, code);
    assert.equal(rows.size, API_CODES.length, 'no other code in the table');
  });

  test('each operation lists its codes under their catalogue status, with Retry-After where retryable', () => {
    const seen = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, JsonObject> }>>)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          const examples = Object.keys((response.content?.['application/json']?.examples ?? {}) as JsonObject).filter(isErrorCode);
          for (const code of examples) {
            seen.add(code);
            assert.equal(Number(status), errorSpec(code).status, `${method.toUpperCase()} ${path}: ${code} under ${status}`);
          }
          if (examples.length > 0) {
            const retryable = examples.some((code) => errorSpec(code).retryable);
            assert.equal('retry-after' in (response.headers ?? {}), retryable, `${method.toUpperCase()} ${path} ${status}: Retry-After`);
          }
        }
      }
    }
    assert.deepEqual(
      API_CODES.filter((code) => !seen.has(code) && !NOT_PER_ROUTE.has(code)),
      [],
      'every code an operation can answer is listed by one',
    );
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- OpenAPI objects
type JsonObject = Record<string, any>;

describe("README's error table agrees with the catalogue", () => {
  test('every row has the catalogue status, and every code of the API has a row', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Errors'));
    const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| status | code |')));
    const statusOf = new Map<string, number>();
    for (const row of table.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm)) {
      for (const code of (row[2] as string).matchAll(/`([A-Z_]+)`/g)) statusOf.set(code[1] as string, Number(row[1]));
    }
    for (const [code, status] of statusOf) {
      assert.ok(isErrorCode(code), `README lists ${code}, which is not in the catalogue`);
      assert.equal(status, errorSpec(code).status, `README: ${code}`);
    }
    assert.deepEqual(
      API_CODES.filter((code) => !statusOf.has(code)),
      [],
      'codes missing from the README table',
    );
  });
});
