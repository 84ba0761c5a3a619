/**
 * `npm run bench -- --nodes`: one node against two nodes on one PostgreSQL database, on the same
 * cores. Layouts, in interleaved rounds so a change in the machine's load hits each alike:
 *
 *   1 node on SQLite (the default), 1 node on PostgreSQL, 2 nodes on PostgreSQL (the crypto threads
 *   shared out, the load split evenly between the two ports, as a load balancer would).
 *
 * The PostgreSQL at PQSEAL_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 * gets a database of its own for the run, dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { measurePoint, type RequestSpec } from './load-run.js';
import { createOrganisation, freshDataDir, ServerProcess, type BenchOrg } from './load-server.js';

export interface NodesSettings {
  readonly quick: boolean;
  readonly smoke: boolean;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly concurrencies: readonly number[];
  readonly outDir: string;
}

export interface NodesDeps<C> {
  readonly scenarios: readonly { readonly id: string; request(ctx: C): RequestSpec }[];
  prepareContext(server: ServerProcess, org: BenchOrg): Promise<C>;
}

interface Layout {
  readonly label: string;
  readonly nodes: number;
  readonly postgres: boolean;
  readonly workers: number;
}

const ADMIN_URL = process.env.PQSEAL_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor(sorted.length / 2)] as number);
}

export async function compareNodes<C>(s: NodesSettings, deps: NodesDeps<C>): Promise<number> {
  const cores = availableParallelism();
  const half = Math.max(1, Math.floor(cores / 2));
  const layouts: Layout[] = [
    { label: `1 node, SQLite, ${cores} crypto threads`, nodes: 1, postgres: false, workers: cores },
    { label: `1 node, PostgreSQL, ${cores} crypto threads`, nodes: 1, postgres: true, workers: cores },
    { label: `2 nodes, PostgreSQL, ${half} crypto thread(s) each`, nodes: 2, postgres: true, workers: half },
  ];
  const rounds = s.smoke ? 1 : s.quick ? 2 : 3;
  const connections = Math.max(2, ...s.concurrencies.filter((c) => c <= 64));
  const name = `pqseal_bench_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const postgresEnv = { DATABASE_URL: url.toString(), PQSEAL_MASTER_KEY: randomBytes(32).toString('hex') };
  const rps = new Map<string, number[]>();
  const dirs: string[] = [];
  const dataDir = (): string => {
    const dir = freshDataDir();
    dirs.push(dir);
    return dir;
  };
  try {
    progress(`nodes: ${layouts.length} layouts × ${deps.scenarios.length} scenarios × ${rounds} rounds, c=${connections}, ${s.durationSeconds} s per point`);
    const sqliteDir = dataDir();
    const sqliteOrg = await createOrganisation(sqliteDir, 'Bench');
    const postgresOrg = await createOrganisation(dataDir(), 'Bench', postgresEnv);
    for (let round = 0; round < rounds; round++) {
      for (const layout of layouts) {
        const env = layout.postgres ? postgresEnv : {};
        const servers = await Promise.all(
          Array.from({ length: layout.nodes }, () => ServerProcess.start({ dataDir: layout.postgres ? dataDir() : sqliteDir, workers: layout.workers, env })),
        );
        try {
          const ctx = await deps.prepareContext(servers[0] as ServerProcess, layout.postgres ? postgresOrg : sqliteOrg);
          for (const scenario of deps.scenarios) {
            const request = scenario.request(ctx);
            // Each node gets its share of the connections at once: the sum is what the deployment serves.
            const share = Math.max(1, Math.floor(connections / layout.nodes));
            const measure = (seconds: number) => Promise.all(servers.map((server) => measurePoint(server.url, request, share, seconds)));
            if (!s.smoke) await measure(Math.max(3, s.warmupSeconds));
            const points = await measure(s.durationSeconds);
            const total = points.reduce((sum, p) => sum + p.rps, 0);
            const non2xx = points.reduce((sum, p) => sum + p.non2xx, 0);
            const key = `${layout.label}|${scenario.id}`;
            rps.set(key, [...(rps.get(key) ?? []), total]);
            progress(`  round ${round + 1} ${layout.label} ${scenario.id}: ${total.toFixed(0)} req/s, non-2xx ${non2xx}`);
          }
        } finally {
          await Promise.all(servers.map((server) => server.stop()));
        }
      }
    }
    const lines = [
      `# 1 node vs 2 nodes on PostgreSQL, ${new Date().toISOString().slice(0, 10)}, ${cores} cores (nodes + PostgreSQL + load generator), c=${connections}, median of ${rounds} × ${s.durationSeconds} s`,
      '',
      `| scenario | ${layouts.map((l) => l.label).join(' | ')} |`,
      `|---|${layouts.map(() => '---').join('|')}|`,
    ];
    for (const scenario of deps.scenarios) {
      const base = median(rps.get(`${(layouts[0] as Layout).label}|${scenario.id}`) ?? []);
      const cells = layouts.map((l, i) => {
        const m = median(rps.get(`${l.label}|${scenario.id}`) ?? []);
        return i === 0 ? `${m.toFixed(0)} req/s` : `${m.toFixed(0)} req/s (×${(m / base).toFixed(2)})`;
      });
      lines.push(`| ${scenario.id} | ${cells.join(' | ')} |`);
    }
    const text = `${lines.join('\n')}\n`;
    mkdirSync(s.outDir, { recursive: true });
    writeFileSync(join(s.outDir, 'nodes-latest.md'), text);
    process.stdout.write(text);
    return 0;
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await admin(`drop database if exists ${name} with (force)`).catch(() => undefined);
  }
}
