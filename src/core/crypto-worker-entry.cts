import type { default as CryptoWorkerRun } from './crypto-worker.js';

/**
 * The file piscina loads in each crypto worker thread. Piscina `require()`s a worker file and falls
 * back to `import()` only when that throws. crypto-worker.js is an ES module with top-level await
 * (it loads the WASM providers), so every worker start went through Node's require(esm): the whole
 * module graph compiled and linked synchronously, then ERR_REQUIRE_ASYNC_MODULE, then `import()` of
 * that same half-loaded graph. A full test run once died in V8 on that path. This file is CommonJS:
 * piscina's `require()` loads it the ordinary way, and the worker module is only ever `import()`ed.
 */

type Task = Parameters<typeof CryptoWorkerRun>[0];
type Result = ReturnType<typeof CryptoWorkerRun>;

// Started at once so the worker is warm before its first task; a failure reaches every task.
const loaded: Promise<typeof CryptoWorkerRun> = import('./crypto-worker.js').then((module) => module.default);
loaded.catch(() => undefined);

async function run(task: Task): Promise<Result> {
  return (await loaded)(task);
}

export = run;
