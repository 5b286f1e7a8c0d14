/**
 * PyTorch, when /usr/bin/python3 imports torch: the workloads run in a subprocess (torch_bench.py) that times
 * them the same way and reports medians, with the thread count set explicitly and OMP_WAIT_POLICY=PASSIVE so
 * idle OpenMP threads do not spin against the next process.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Workload } from '../workloads.js';

export interface TorchResults {
  readonly note: string;
  readonly results: Readonly<Record<string, { medianMs: number; reps: number }>>;
}

const PYTHON = '/usr/bin/python3';

/** The BLAS libraries the torch build links (from ldd on torch's shared library), for the report. */
function linkedBlas(): string {
  try {
    const lib = execFileSync(PYTHON, ['-c', 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))'], {
      encoding: 'utf8',
    }).trim();
    const ldd = execFileSync('ldd', [lib], { encoding: 'utf8' });
    const blas = ldd.split('\n').filter((l) => /blas|lapack/i.test(l)).map((l) => l.trim().split(' ')[0]);
    // libblas.so.3 is a Debian alternative: resolve which implementation it points at.
    const resolved = ldd
      .split('\n')
      .filter((l) => /libblas\.so/.test(l))
      .map((l) => l.split('=>')[1]?.trim().split(' ')[0])
      .filter((p): p is string => !!p)
      .map((p) => execFileSync('readlink', ['-f', p], { encoding: 'utf8' }).trim());
    return [...blas, ...resolved].join(', ');
  } catch {
    return 'unknown';
  }
}

/** The BLAS_INFO / LAPACK_INFO entries of torch.__config__.show(). */
function blasInfo(lines: readonly string[]): string {
  const found = lines.join(' ').match(/(BLAS_INFO|LAPACK_INFO)=[^,]*/g);
  return found ? found.join(', ') : 'torch config names no BLAS';
}

export function runTorch(ws: readonly Workload[], opts: { threads: number; quick: boolean }): TorchResults | string {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `torch not importable by ${PYTHON}`;
  const script = fileURLToPath(new URL('./torch_bench.py', import.meta.url));
  const input = JSON.stringify({
    threads: opts.threads,
    warmup: opts.quick ? 1 : 3,
    reps: opts.quick ? 5 : 15,
    budgetSeconds: opts.quick ? 2 : 8,
    workloads: ws,
  });
  const r = spawnSync(PYTHON, [script], {
    input,
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(opts.threads) },
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) return `torch run failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`;
  const out = JSON.parse(r.stdout) as {
    version: string;
    threads: number;
    blas: string[];
    loadedBlas: string[];
    results: TorchResults['results'];
  };
  // What the run actually mapped is the answer; ldd's view is kept for when /proc is not there.
  const used = out.loadedBlas.length > 0 ? out.loadedBlas.join(', ') : `none mapped; ldd: ${linkedBlas()}`;
  const reference = out.loadedBlas.some((p) => /\/blas\/libblas\.so/.test(p)) && !out.loadedBlas.some((p) => /openblas|mkl|blis/i.test(p));
  const warning = reference ? ' (the reference BLAS, about 5 GFLOP/s: install libopenblas0-pthread)' : '';
  return {
    note: `torch ${out.version}, ${out.threads} threads, OMP_WAIT_POLICY=PASSIVE, BLAS mapped in the run: ${used}${warning}; ${blasInfo(out.blas)}`,
    results: out.results,
  };
}
