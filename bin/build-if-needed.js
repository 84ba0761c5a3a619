#!/usr/bin/env node
// `npm start` (prestart) and `npm ci` (prepare) run this instead of `tsc -b` directly, so that a
// production install works: with TypeScript installed (a clone after `npm ci`) it builds, incrementally
// (`tsc -b` itself decides what is stale); without it (`npm ci --omit=dev` on a built tree, the Docker
// image) it checks that the build output is there and builds nothing.
//
//   node bin/build-if-needed.js        the SDK and the server (prestart)
//   node bin/build-if-needed.js sdk    the SDK only (prepare: the server imports @pqseal/sdk)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sdkOnly = process.argv[2] === 'sdk';
const projects = sdkOnly ? ['packages/sdk'] : ['packages/sdk', 'tsconfig.json'];
const outputs = sdkOnly ? ['packages/sdk/dist/index.js'] : ['packages/sdk/dist/index.js', 'dist/src/cli/main.js'];

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}

if (tsc) {
  const result = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
const missing = outputs.filter((file) => !existsSync(new URL(`../${file}`, import.meta.url)));
if (missing.length > 0) {
  process.stderr.write(
    `pqseal: ${missing.join(' and ')} not built, and TypeScript is not installed (a production install, npm ci --omit=dev).\n` +
      'Build where the dev dependencies are (npm ci && npm run build) and ship dist/ and packages/sdk/dist/ with the tree, or use the Docker image.\n',
  );
  process.exit(1);
}
