/**
 * A module a worker thread imports when it starts, and whose default export it calls with `data`:
 * how the benchmark (bench/server/) has each thread register itself, without benchmark code in the
 * service. Absent unless PQSEAL_BENCH_ROUTES is on.
 */
export interface WorkerStartup {
  /** URL of an ES module whose default export takes `data`. */
  readonly module: string;
  readonly data: unknown;
}

export async function runWorkerStartup(startup: WorkerStartup | undefined): Promise<void> {
  if (!startup) return;
  const loaded = (await import(startup.module)) as { default: (data: unknown) => void };
  loaded.default(startup.data);
}
