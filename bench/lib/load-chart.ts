/**
 * The load benchmark's chart, as a hand-written SVG string (no dependency): throughput against
 * concurrency for every scenario, both axes logarithmic (the bare route is ~10× the crypto routes,
 * 1 MiB payloads ~10× below those). The ceiling routes are dashed, the raw pool throughput of the
 * primitives (no HTTP) dotted horizontal lines.
 */
import type { PrimitiveThroughput } from './load-primitives.js';
import type { ScenarioResult } from './load-report.js';

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly scenarios: readonly ScenarioResult[];
  readonly primitives: readonly PrimitiveThroughput[];
}

const W = 1000;
const H = 540;
const PLOT = { left: 72, top: 64, right: 660, bottom: 470 };

const STYLE: Record<string, { color: string; dash?: string }> = {
  bare: { color: '#6b7280', dash: '7 5' },
  'crypto-seal': { color: '#b45309', dash: '7 5' },
  'crypto-open': { color: '#047857', dash: '7 5' },
  'managed-sign-encrypt-1k': { color: '#d97706' },
  'managed-encrypt-1k': { color: '#7c3aed' },
  'managed-decrypt-verify-1k': { color: '#059669' },
  'direct-sign-encrypt-1k': { color: '#2563eb' },
  'managed-sign-encrypt-64k': { color: '#db2777' },
  'managed-sign-encrypt-1m': { color: '#dc2626' },
  'reference-sign-encrypt': { color: '#111827', dash: '3 3' },
  'managed-sign-encrypt-batch100': { color: '#0891b2' },
  'managed-sign-encrypt-1k-unbatched': { color: '#d97706', dash: '4 3' },
  'managed-decrypt-verify-1k-single-sealed': { color: '#65a30d', dash: '4 3' },
  'managed-decrypt-verify-1k-batch-sealed': { color: '#65a30d' },
};
const FALLBACK = ['#0891b2', '#65a30d', '#9333ea', '#ea580c'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceLogTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function fmtTick(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return String(v);
}

export function renderChart(input: ChartInput): string {
  const points = input.scenarios.flatMap((s) => s.points.filter((p) => p.rps > 0));
  const refs = input.primitives.map((p) => p.poolOpsPerSec).filter((v) => v > 0);
  const values = [...points.map((p) => p.rps), ...refs];
  const conns = [...new Set(points.map((p) => p.connections))].sort((a, b) => a - b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="28" font-size="16" font-weight="600" fill="#111827">${esc(input.title)}</text>`,
    `<text x="${PLOT.left}" y="46" fill="#4b5563">${esc(input.subtitle)}</text>`,
  );
  if (values.length === 0 || conns.length === 0) {
    parts.push(`<text x="${PLOT.left}" y="${PLOT.top + 40}" fill="#6b7280">no data</text>`, '</svg>');
    return `${parts.join('\n')}\n`;
  }

  const yMin = 10 ** Math.floor(Math.log10(Math.min(...values) * 0.8));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.1));
  const xMin = conns[0] as number;
  const xMax = conns[conns.length - 1] as number;
  const x = (c: number) =>
    xMax === xMin
      ? (PLOT.left + PLOT.right) / 2
      : PLOT.left + ((Math.log2(c) - Math.log2(xMin)) / (Math.log2(xMax) - Math.log2(xMin))) * (PLOT.right - PLOT.left);
  const y = (v: number) => PLOT.bottom - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (PLOT.bottom - PLOT.top);

  // Grid and axes.
  parts.push('<g stroke="#e5e7eb" stroke-width="1">');
  for (const t of niceLogTicks(yMin, yMax)) parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>`);
  for (const c of conns) parts.push(`<line x1="${x(c).toFixed(1)}" x2="${x(c).toFixed(1)}" y1="${PLOT.top}" y2="${PLOT.bottom}"/>`);
  parts.push('</g>');
  parts.push(`<g fill="#374151" text-anchor="end">`);
  for (const t of niceLogTicks(yMin, yMax)) parts.push(`<text x="${PLOT.left - 8}" y="${(y(t) + 4).toFixed(1)}">${fmtTick(t)}</text>`);
  parts.push('</g>', '<g fill="#374151" text-anchor="middle">');
  for (const c of conns) parts.push(`<text x="${x(c).toFixed(1)}" y="${PLOT.bottom + 18}">${c}</text>`);
  parts.push('</g>');
  parts.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#9ca3af"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 40}" text-anchor="middle" fill="#111827">concurrent connections (log scale)</text>`,
    `<text transform="translate(20 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#111827">successful requests per second (log scale)</text>`,
  );

  // Raw pool throughput of the primitives: dotted horizontal references.
  for (const p of input.primitives) {
    if (!(p.poolOpsPerSec > 0)) continue;
    const color = (STYLE[p.op === 'ceiling-seal' ? 'crypto-seal' : 'crypto-open'] as { color: string }).color;
    const yy = y(p.poolOpsPerSec).toFixed(1);
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="1.2" stroke-dasharray="2 3" opacity="0.8"/>`);
  }

  // One polyline per scenario, ceilings first so the service lines draw over them.
  const ordered = [...input.scenarios].sort((a, b) => Number(b.kind === 'ceiling') - Number(a.kind === 'ceiling'));
  ordered.forEach((s, i) => {
    const style = STYLE[s.id] ?? { color: FALLBACK[i % FALLBACK.length] as string };
    const pts = s.points.filter((p) => p.rps > 0).sort((a, b) => a.connections - b.connections);
    if (pts.length === 0) return;
    const path = pts.map((p) => `${x(p.connections).toFixed(1)},${y(p.rps).toFixed(1)}`).join(' ');
    const width = s.kind === 'ceiling' ? 2 : 2.4;
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${style.color}" stroke-width="${width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''} stroke-linejoin="round"><title>${esc(s.label)}</title></polyline>`,
    );
    for (const p of pts) {
      parts.push(
        `<circle cx="${x(p.connections).toFixed(1)}" cy="${y(p.rps).toFixed(1)}" r="${s.kind === 'ceiling' ? 2.5 : 3.2}" fill="${style.color}"><title>${esc(`${s.label}, c=${p.connections}: ${Math.round(p.rps)} req/s, p50 ${p.latency.p50.toFixed(2)} ms, p99 ${p.latency.p99.toFixed(2)} ms`)}</title></circle>`,
      );
    }
  });

  // Legend.
  const lx = PLOT.right + 24;
  let ly = PLOT.top + 6;
  parts.push(`<text x="${lx}" y="${ly}" font-weight="600" fill="#111827">best req/s</text>`);
  ly += 20;
  ordered.forEach((s, i) => {
    const style = STYLE[s.id] ?? { color: FALLBACK[i % FALLBACK.length] as string };
    parts.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${style.color}" stroke-width="2.4"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>`,
      `<text x="${lx + 34}" y="${ly}" fill="#111827">${esc(s.label)}</text>`,
      `<text x="${W - 12}" y="${ly}" text-anchor="end" fill="#374151">${esc(Math.round(s.best.rps).toLocaleString('en-US'))}</text>`,
    );
    ly += 20;
  });
  ly += 6;
  for (const p of input.primitives) {
    const color = (STYLE[p.op === 'ceiling-seal' ? 'crypto-seal' : 'crypto-open'] as { color: string }).color;
    parts.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="1.2" stroke-dasharray="2 3"/>`,
      `<text x="${lx + 34}" y="${ly}" fill="#111827">${esc(`pool, no HTTP: ${p.op === 'ceiling-seal' ? 'sign+encaps' : 'decaps+verify'}`)}</text>`,
      `<text x="${W - 12}" y="${ly}" text-anchor="end" fill="#374151">${esc(Math.round(p.poolOpsPerSec).toLocaleString('en-US'))}</text>`,
    );
    ly += 20;
  }
  parts.push(`<text x="${lx}" y="${ly + 10}" fill="#6b7280">dashed: ceiling routes</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
