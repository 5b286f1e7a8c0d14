/**
 * formers' own backends at the kernel level (every available backend in the registry), plus the MLP training
 * step through @formers/tensor-core on the same backend.
 */
import { getBackendByName, listBackends, loadBackend, type Backend, type BackendName } from '@formers/gpu-kernels';
import type { Engine, Runner } from '../engine.js';
import { randomData, type Workload } from '../workloads.js';
import { prepareMlpStep } from './formers-mlp.js';

type Handle = unknown;

/**
 * The end of one run: the result exists on the backend. A synchronous backend's kernel has run when it returns, so
 * its result is not copied back into a fresh JS array (that copy's page faults, about 0.6 ms per MB, would be
 * timed alike for every engine and measure V8's allocator, not the kernel; tfjs's results are not read back
 * either). An asynchronous backend is read back, as that is how its completion is observed.
 */
async function read(be: Backend, h: unknown, size: number): Promise<void> {
  const handle = await h;
  if (!be.sync) await be.read(handle, 'float32', size);
  be.dispose(handle);
}

function kernelRunner(be: Backend, w: Workload): Runner | string {
  const up = (data: Float32Array): Handle => be.upload(data, 'float32');
  switch (w.kind) {
    case 'gemm': {
      const a = up(randomData(w.n * w.n, 1));
      const b = up(randomData(w.n * w.n, 2));
      const p = { batch: 1, m: w.n, n: w.n, k: w.n, transA: w.transA === true, transB: w.transB === true, strideA: 0, strideB: 0 };
      return { run: () => read(be, be.matmul(a, b, 'float32', p), w.n * w.n) };
    }
    case 'bmm': {
      const a = up(randomData(w.batch * w.m * w.k, 3)); // (BH, m, k): Q (BH, T, Dh) or P (BH, T, T)
      const b = up(randomData(w.batch * w.k * w.n, 4)); // (BH, n, k) if transB (K, used transposed), else (BH, k, n) (V)
      const p = { batch: w.batch, m: w.m, n: w.n, k: w.k, transA: false, transB: w.transB, strideA: w.m * w.k, strideB: w.k * w.n };
      return { run: () => read(be, be.matmul(a, b, 'float32', p), w.batch * w.m * w.n) };
    }
    case 'softmax': {
      const x = up(randomData(w.rows * w.cols, 5));
      return { run: () => read(be, be.softmax(x, 'float32', { outer: w.rows, size: w.cols, inner: 1 }, false), w.rows * w.cols) };
    }
    case 'layerNorm': {
      const x = up(randomData(w.rows * w.cols, 6));
      const g = up(randomData(w.cols, 7));
      const b = up(randomData(w.cols, 8));
      return {
        run: async () => {
          const r = await be.layerNorm(x, g, b, 'float32', { rows: w.rows, cols: w.cols, eps: 1e-5 });
          await read(be, r.out, w.rows * w.cols);
        },
      };
    }
    case 'depthwiseConv2d': {
      const x = up(randomData(w.c * w.h * w.w, 9)); // (1, C, H, W)
      const wt = up(randomData(w.c * w.k * w.k, 10)); // (C, 1, k, k)
      const pad = (w.k - 1) / 2;
      const p = {
        n: 1, cIn: w.c, h: w.h, w: w.w, cOut: w.c, kH: w.k, kW: w.k, strideH: 1, strideW: 1,
        padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups: w.c, hOut: w.h, wOut: w.w,
      };
      return { run: () => read(be, be.conv2d(x, wt, 'float32', p), w.c * w.h * w.w) };
    }
    case 'mlpStep':
      return 'see the tensor-core engine';
  }
}

/** One engine per available formers backend. */
export async function formersEngines(only: readonly string[] | null): Promise<Engine[]> {
  const engines: Engine[] = [];
  for (const listing of listBackends()) {
    if (!listing.registered || listing.available === false) continue;
    if (only && !only.includes(listing.name)) continue;
    let be: Backend;
    try {
      be = listing.sync ? getBackendByName(listing.name) : await loadBackend(listing.name as BackendName);
    } catch (e) {
      console.warn(`formers/${listing.name}: skipped (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const extra = be as Backend & { threads?: number; relaxedSimd?: boolean };
    const notes = [
      extra.threads !== undefined ? `${extra.threads} thread${extra.threads === 1 ? '' : 's'}` : null,
      extra.relaxedSimd !== undefined ? (extra.relaxedSimd ? 'relaxed-SIMD FMA' : 'SIMD128') : null,
      be.fallbacks.size > 0 ? `fallbacks: ${[...be.fallbacks.keys()].join(', ')}` : null,
    ].filter((x) => x !== null);
    engines.push({
      name: `formers ${be.name}`,
      note: notes.join(', '),
      prepare: async (w) => (w.kind === 'mlpStep' ? prepareMlpStep(be, w) : kernelRunner(be, w)),
    });
  }
  return engines;
}
