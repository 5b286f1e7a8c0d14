/**
 * The speed target, checked on the figures of the run itself (never a timed test): the default Node
 * backend does GEMM at n = 512 and 1024 at least 2.5x as fast as tfjs-backend-wasm, with no flags, and its
 * transposed and batched matmuls do not fall off a cliff (attention and every backward pass use them).
 */
import type { Result } from './report.js';

export const TARGET_VS_TFJS_WASM = 2.5;
/** A transposed or batched product below this fraction of the plain GEMM's GFLOP/s counts as a cliff. */
export const CLIFF_FRACTION = 0.5;

export interface TargetCheck {
  readonly engine: string;
  readonly lines: readonly string[];
  /** null when the run did not measure what the target needs (filtered out by --only or --engines). */
  readonly met: boolean | null;
}

export function checkTarget(results: readonly Result[], defaultBackend: string): TargetCheck {
  const engine = `formers ${defaultBackend}`;
  const row = (workload: string, e = engine) => results.find((r) => r.workload === workload && r.engine === e && r.medianMs !== null);
  const lines: string[] = [];
  let met: boolean | null = true;
  for (const n of [512, 1024]) {
    const r = row(`GEMM n=${n}`);
    if (!r || r.vsTfjsWasm === null) {
      lines.push(`GEMM n=${n}: not measured in this run`);
      met = null;
      continue;
    }
    const ok = r.vsTfjsWasm >= TARGET_VS_TFJS_WASM;
    if (!ok && met !== null) met = false;
    lines.push(
      `GEMM n=${n}: ${engine} x${r.vsTfjsWasm.toFixed(2)} vs tfjs-wasm (${r.gflops?.toFixed(1)} GFLOP/s), target x${TARGET_VS_TFJS_WASM}: ${ok ? 'met' : 'MISSED'}`,
    );
  }
  // Cliffs: transposed GEMMs against the plain GEMM of the same size, batched heads against GEMM n=256.
  const pairs: [string, string][] = [
    ['GEMM n=512 A^T', 'GEMM n=512'],
    ['GEMM n=512 B^T', 'GEMM n=512'],
    ['Q@K^T 16x(256x64 @ 64x256)', 'GEMM n=256'],
    ['P@V 16x(256x256 @ 256x64)', 'GEMM n=256'],
  ];
  for (const [name, base] of pairs) {
    const r = row(name);
    const b = row(base);
    if (!r?.gflops || !b?.gflops) continue;
    const fraction = r.gflops / b.gflops;
    const ok = fraction >= CLIFF_FRACTION;
    if (!ok && met !== null) met = false;
    const peer = r.vsTfjsWasm === null ? '' : `, x${r.vsTfjsWasm.toFixed(2)} vs tfjs-wasm`;
    lines.push(`${name}: ${r.gflops.toFixed(1)} GFLOP/s = ${fraction.toFixed(2)} of ${base}${peer}: ${ok ? 'no cliff' : 'CLIFF'}`);
  }
  return { engine, lines, met };
}
