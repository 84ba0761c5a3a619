import type { default as CeilingTask } from './ceiling-task.js';

/**
 * The file piscina loads for a ceiling task: CommonJS, so piscina's `require()` never loads an ES
 * module (the reason is in src/core/crypto-worker-entry.cts); the task module is `import()`ed.
 */

const run: Promise<typeof CeilingTask> = import('./ceiling-task.js').then((module) => module.default);

export = run;
