import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The web console ("try it out"): a static page (HTML, CSS, one plain ES module; no build step, no
 * CDN) served at `/console`, with `GET /` redirecting to it (`POST /` stays the identity pool's
 * InitiateAuth endpoint). The page calls the API through the SDK's client, whose compiled modules
 * (packages/sdk/dist) are served at `/console/sdk/`.
 *
 * Register it as an ordinary (encapsulated) plugin: the strict Content-Security-Policy and the other
 * security headers set by helmet here apply to the console routes only, never to the JSON API or to
 * the API reference at /docs.
 */

export interface ConsoleOptions {
  /** Send Strict-Transport-Security (only meaningful when the server itself terminates TLS). */
  readonly hsts?: boolean;
}

export const CONSOLE_PATH = '/console';

/** The Content-Security-Policy of every console response. */
export const CONSOLE_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'connect-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
  'require-trusted-types-for': ["'script'"],
  'trusted-types': ["'none'"],
};

const PERMISSIONS_POLICY = [
  'accelerometer=()',
  'camera=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
  'clipboard-read=()',
  'clipboard-write=(self)',
].join(', ');

/**
 * The assets live in src/web/public and are served from there (tsc compiles only .ts). From the
 * compiled module (dist/src/web/plugin.js) that is ../../../src/web/public/; a copy next to the
 * module (./public/) wins if a packager puts one there.
 */
export function publicDir(): string {
  const candidates = [new URL('./public/', import.meta.url), new URL('../../../src/web/public/', import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(`${path}index.html`)) return path;
  }
  throw new Error(`web console assets not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

/** The compiled SDK's folder, wherever the package manager put `@pqseal/sdk`. */
function sdkDir(): string {
  return fileURLToPath(new URL('./', import.meta.resolve('@pqseal/sdk')));
}

export async function consolePlugin(app: FastifyInstance, options: ConsoleOptions = {}): Promise<void> {
  const root = publicDir();
  const indexHtml = readFileSync(`${root}index.html`);

  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: Object.fromEntries(Object.entries(CONSOLE_CSP_DIRECTIVES).map(([k, v]) => [k, [...v]])) },
    crossOriginEmbedderPolicy: { policy: 'require-corp' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: options.hsts ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  app.addHook('onRequest', async (_request, reply) => {
    void reply.header('permissions-policy', PERMISSIONS_POLICY);
  });

  await app.register(fastifyStatic, {
    root,
    prefix: `${CONSOLE_PATH}/`,
    decorateReply: false,
    index: false,
    cacheControl: true,
    maxAge: 0,
    schemaHide: true,
  });
  await app.register(fastifyStatic, {
    root: sdkDir(),
    prefix: `${CONSOLE_PATH}/sdk/`,
    decorateReply: false,
    index: false,
    cacheControl: true,
    maxAge: 0,
    schemaHide: true,
    // The ES modules only: not the declarations, source maps or build info next to them.
    allowedPath: (pathName) => pathName.endsWith('.js'),
  });

  const page = { schema: { hide: true } } as const;
  app.get(CONSOLE_PATH, page, async (_request, reply) => reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(indexHtml));
  app.get(`${CONSOLE_PATH}/`, page, async (_request, reply) => reply.redirect(CONSOLE_PATH, 302));
  app.get('/', page, async (_request, reply) => reply.redirect(CONSOLE_PATH, 302));
}
