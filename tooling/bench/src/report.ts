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

/** The results as Markdown (what the README and docs/benchmarks.md include); --json has every field. */
export function markdown(
  results: readonly Result[],
  m: Machine,
  notes: ReadonlyMap<string, string>,
  quick: boolean,
  loadAtEnd: number,
): string {
  const lines = [
    `Measured ${m.date} on ${m.cpu}, ${m.cores} logical cores, Node ${m.node}, ${m.platform}${quick ? ' (quick run)' : ''}; ` +
      `1-minute load average ${m.loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end.`,
    '',
    ...pivot(results),
    '',
    'Engines:',
    '',
  ];
  for (const [engine, note] of notes) lines.push(`- ${engine}: ${note || '-'}`);
  const skipped = results.filter((r) => r.medianMs === null && r.skipped);
  if (skipped.length > 0) {
    lines.push('', 'Not measured:', '');
    for (const r of skipped) lines.push(`- ${r.workload} on ${r.engine}: ${r.skipped}`);
  }
  return lines.join('\n');
}

/**
 * The same results as two compact grids, workloads down and engines across: the median in ms (with GFLOP/s where
 * the flop count means something), and the ratio to tfjs-wasm.
 */
export function pivot(results: readonly Result[]): string[] {
  const measured = results.filter((r) => r.medianMs !== null);
  const workloads = [...new Set(measured.map((r) => r.workload))];
  const engines = [...new Set(measured.map((r) => r.engine))];
  const cell = (w: string, e: string, f: (r: Result) => string) => {
    const r = measured.find((x) => x.workload === w && x.engine === e);
    return r ? f(r) : '-';
  };
  const header = `| workload | ${engines.join(' | ')} |`;
  const rule = `|---|${engines.map(() => '---:').join('|')}|`;
  const ms = (r: Result) => {
    const t = fmt(r.medianMs, r.medianMs! < 10 ? 2 : 1);
    return r.gflops === null ? t : `${t} (${fmt(r.gflops, 1)})`;
  };
  return [
    'Median ms (GFLOP/s):',
    '',
    header,
    rule,
    ...workloads.map((w) => `| ${w} | ${engines.map((e) => cell(w, e, ms)).join(' | ')} |`),
    '',
    'Speed relative to tfjs-wasm (above 1 is faster):',
    '',
    header,
    rule,
    ...workloads.map((w) => `| ${w} | ${engines.map((e) => cell(w, e, (r) => (r.vsTfjsWasm === null ? '-' : `x${fmt(r.vsTfjsWasm, 2)}`))).join(' | ')} |`),
  ];
}
