import type { default as CryptoWorkerRun } from './crypto-worker.js';

/**
 * The file piscina loads in each crypto worker thread. Piscina `require()`s a worker file and falls
 * back to `import()` only when that throws. crypto-worker.js is an ES module with top-level await
 * (it loads the WASM providers), so every worker start went through Node's require(esm): the whole
 * module graph compiled and linked synchronously, then ERR_REQUIRE_ASYNC_MODULE, then `import()` of
 * that same half-loaded graph. A full test run once died in V8 on that path. This file is CommonJS:
 * piscina's `require()` loads it the ordinary way, and the worker module is only ever `import()`ed.
 *
 * Exported as a promise of the task function (piscina's documented async initialisation): piscina
 * awaits it before it marks the worker ready. A plain function awaiting the import would not do —
 * an idle piscina worker blocks in Atomics.wait, so the import would only progress once the first
 * task arrived, and that task would pay for loading the module.
 */

const run: Promise<typeof CryptoWorkerRun> = import('./crypto-worker.js').then((module) => module.default);

export = run;
