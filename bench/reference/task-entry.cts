import type { default as SignEncrypt } from './task.js';

/**
 * The file piscina loads in each reference worker thread: CommonJS, so piscina's `require()` never
 * loads an ES module with top-level await (the reason is in src/core/crypto-worker-entry.cts).
 */

const run: Promise<typeof SignEncrypt> = import('./task.js').then((module) => module.default);

export = run;
