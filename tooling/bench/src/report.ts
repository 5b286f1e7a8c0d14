import type { Machine } from './machine.js';

export interface Result {
  readonly workload: string;
  readonly engine: string;
  /** null when the engine does not run this workload (see `skipped`). */
  readonly medianMs: number | null;
  readonly gflops: number | null;
  /** tfjs-wasm time / this time: above 1 is faster than tfjs-wasm. */
  readonly vsTfjsWasm: number | null;
  readonly reps: number;
  readonly skipped?: string;
}

const fmt = (x: number | null, digits: number) => (x === null ? '' : x.toFixed(digits));

/** The results as a Markdown table (what the README and docs/benchmarks.md include). */
export function markdown(results: readonly Result[], m: Machine, notes: ReadonlyMap<string, string>, quick: boolean): string {
  const lines = [
    `Measured ${m.date} on ${m.cpu}, ${m.cores} logical cores, Node ${m.node}, ${m.platform}${quick ? ' (quick run)' : ''}.`,
    '',
    '| workload | engine | median ms | GFLOP/s | x tfjs-wasm |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of results) {
    if (r.medianMs === null) continue;
    lines.push(`| ${r.workload} | ${r.engine} | ${fmt(r.medianMs, r.medianMs < 10 ? 2 : 1)} | ${fmt(r.gflops, 1)} | ${fmt(r.vsTfjsWasm, 2)} |`);
  }
  lines.push('', 'Engines:', '');
  for (const [engine, note] of notes) lines.push(`- ${engine}: ${note || '-'}`);
  return lines.join('\n');
}
