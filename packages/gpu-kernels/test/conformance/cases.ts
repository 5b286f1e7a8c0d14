/**
 * The conformance cases as plain data plus a runner, free of vitest and of Node-only imports, so the same cases
 * run under vitest (suite.ts) and in a browser page (bundle this file and call `runConformance`).
 */
import type { Backend, DType, TypedArray } from '@formers/gpu-kernels';
import type { ConformanceCase, KernelName } from './case-types.js';
import { fftCases } from './fft-cases.js';
import { binaryCases, unaryCases, whereCases } from './elementwise-cases.js';
import { concatCases, gatherCases } from './indexing-cases.js';
import { convCases, matmulCases } from './linear-algebra-cases.js';
import { normCases, reduceCases, scanCases, softmaxCases } from './reduction-cases.js';

export type { ConformanceCase, KernelName } from './case-types.js';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export interface ToleranceOptions {
  readonly float32?: Tolerance;
  readonly float64?: Tolerance;
  /** Per-kernel overrides by dtype, e.g. `{ fft: { float32: { rtol: 1e-3, atol: 1e-5 } } }`; justify each one. */
  readonly kernels?: Partial<Record<KernelName, Partial<Record<DType, Tolerance>>>>;
}

export interface ConformanceOptions {
  /** dtypes to run; default: the backend's own `dtypes`. */
  readonly dtypes?: readonly DType[];
  /** Skip cases by kernel name, case id, or id prefix of whole segments ('unary/erf/float32'). Say why next to each. */
  readonly skip?: readonly string[];
  readonly tolerance?: ToleranceOptions;
  /** fast-check and data seed; default 42. */
  readonly seed?: number;
}

export const KERNEL_NAMES: readonly KernelName[] = [
  'unary', 'binary', 'where', 'reduce', 'matmul', 'softmax', 'layerNorm', 'rmsNorm', 'conv1d', 'conv2d',
  'conv2dGradInput', 'conv2dGradWeight', 'gather', 'scatterAdd', 'concat', 'cumsum', 'linearRecurrence', 'fft',
];

/** The project defaults: float32 rtol 1e-4 / atol 1e-5; float64 is held to near its own precision. */
export const DEFAULT_TOLERANCE: Readonly<Record<DType, Tolerance>> = {
  float32: { rtol: 1e-4, atol: 1e-5 },
  float64: { rtol: 1e-10, atol: 1e-12 },
  int32: { rtol: 0, atol: 0 },
};

/** Every case for `dtypes`, in a fixed order for a fixed seed. */
export function buildCases(dtypes: readonly DType[], seed = 42): ConformanceCase[] {
  return [
    ...unaryCases(seed, dtypes),
    ...binaryCases(seed, dtypes),
    ...whereCases(seed, dtypes),
    ...reduceCases(seed, dtypes),
    ...matmulCases(seed, dtypes),
    ...softmaxCases(seed, dtypes),
    ...normCases(seed, dtypes),
    ...convCases(seed, dtypes),
    ...gatherCases(seed, dtypes),
    ...concatCases(seed, dtypes),
    ...scanCases(seed, dtypes),
    ...fftCases(seed, dtypes),
  ];
}

/** A skip entry matches a kernel name, a whole case id, or a prefix of whole id segments ('unary/gelu'). */
export function isSkipped(c: ConformanceCase, skip: readonly string[] = []): boolean {
  return skip.some((s) => s === c.kernel || c.id === s || c.id.startsWith(s.endsWith('/') ? s : `${s}/`));
}

export function toleranceFor(c: ConformanceCase, outDtype: DType, options: ToleranceOptions = {}): Tolerance {
  const override = options.kernels?.[c.kernel]?.[outDtype];
  if (override) return override;
  if (outDtype === 'float32' && options.float32) return options.float32;
  if (outDtype === 'float64' && options.float64) return options.float64;
  return DEFAULT_TOLERANCE[outDtype];
}

/**
 * Upload the case's inputs, call the kernel, read every output back, and check that no input buffer changed
 * (kernels must never mutate their inputs). `absInputs` replaces float inputs by |x| for the 'abs' error scale.
 */
export async function runCase(backend: Backend, c: ConformanceCase, absInputs = false): Promise<TypedArray[]> {
  const inputs = c.inputs.map((inp) => {
    if (!absInputs || inp.keep) return inp.data;
    return inp.data.map((v) => Math.abs(v)) as TypedArray;
  });
  const handles = inputs.map((data, i) => backend.upload(data, c.inputs[i].dtype));
  try {
    const outs = await c.invoke(backend, handles);
    const results = await Promise.all(outs.map((h, i) => backend.read(h, c.outputs[i].dtype, c.outputs[i].size)));
    for (let i = 0; i < handles.length; i++) {
      const after = await backend.read(handles[i], c.inputs[i].dtype, inputs[i].length);
      const before = inputs[i];
      for (let j = 0; j < before.length; j++) {
        if (!Object.is(after[j], before[j]) && !(after[j] === before[j])) {
          throw new Error(`${c.id}: input ${i} changed at element ${j} (${before[j]} -> ${after[j]}); kernels must not mutate inputs`);
        }
      }
    }
    for (const h of outs) backend.dispose(h);
    return results;
  } finally {
    for (const h of handles) backend.dispose(h);
  }
}

export interface Mismatch {
  readonly output: number;
  readonly index: number;
  readonly got: number;
  readonly want: number;
  readonly allowed: number;
}

/**
 * Compare per element: |got - want| <= atol + rtol * max(|want|, scales[o][i]) (scales: the 'abs' run, or the FFT
 * row scale). Non-finite
 * values must match exactly (NaN with NaN, Infinity with Infinity). Returns the first few mismatches.
 */
export function compareOutputs(
  c: ConformanceCase,
  got: readonly TypedArray[],
  want: readonly TypedArray[],
  scales: readonly TypedArray[] | null,
  options: ToleranceOptions = {},
): { ok: boolean; mismatches: Mismatch[]; message: string } {
  const mismatches: Mismatch[] = [];
  let problem = '';
  for (let o = 0; o < want.length && !problem; o++) {
    const g = got[o];
    const w = want[o];
    if (!g || g.length !== w.length) {
      problem = `output ${o}: expected ${w.length} elements; got ${g ? g.length : 'none'}`;
      break;
    }
    const { rtol, atol } = toleranceFor(c, c.outputs[o].dtype, options);
    for (let i = 0; i < w.length; i++) {
      const gv = g[i];
      const wv = w[i];
      if (!Number.isFinite(wv) || !Number.isFinite(gv)) {
        if (!Object.is(gv, wv) && !(Number.isNaN(gv) && Number.isNaN(wv))) {
          mismatches.push({ output: o, index: i, got: gv, want: wv, allowed: 0 });
        }
        continue;
      }
      let scale = Math.abs(wv);
      if (c.scale === 'abs' && scales) scale = Math.max(scale, Math.abs(scales[o][i]));
      const allowed = atol + rtol * scale;
      if (!(Math.abs(gv - wv) <= allowed)) mismatches.push({ output: o, index: i, got: gv, want: wv, allowed });
      if (mismatches.length >= 5) break;
    }
  }
  if (!problem && mismatches.length > 0) {
    problem = mismatches
      .map((m) => `output ${m.output}[${m.index}]: got ${m.got}, want ${m.want} (allowed error ${m.allowed.toExponential(2)})`)
      .join('; ');
  }
  return { ok: !problem, mismatches, message: problem ? `${c.id}: ${problem}` : '' };
}

/**
 * Run one case on `backend` and on `oracle` and compare. The 'abs' scale comes from the oracle on |inputs|.
 */
export async function checkCase(
  backend: Backend,
  oracle: Backend,
  c: ConformanceCase,
  tolerance?: ToleranceOptions,
): Promise<{ ok: boolean; message: string }> {
  const want = await runCase(oracle, c);
  const got = await runCase(backend, c);
  const scales = c.scale === 'abs' ? await runCase(oracle, c, true) : null;
  if (c.scale === 'fft-row') return compareFft(c, got, want, tolerance);
  return compareOutputs(c, got, want, scales, tolerance);
}

/** FFT outputs (re, im) share one row scale: sqrt(|re|^2 + |im|^2) over the row. */
function compareFft(c: ConformanceCase, got: TypedArray[], want: TypedArray[], tolerance?: ToleranceOptions) {
  const n = c.rowLength ?? 1;
  const [wr, wi] = want;
  const scale = new Float64Array(wr.length);
  for (let r = 0; r * n < wr.length; r++) {
    let sq = 0;
    for (let t = 0; t < n; t++) sq += wr[r * n + t] ** 2 + wi[r * n + t] ** 2;
    scale.fill(Math.sqrt(sq / n), r * n, r * n + n);
  }
  return compareOutputs({ ...c, scale: 'abs' }, got, want, [scale, scale], tolerance);
}

export interface ConformanceReport {
  readonly passed: number;
  readonly skipped: number;
  readonly failures: readonly { id: string; message: string }[];
}

/** Run every case outside any test runner (for a browser page); resolves with the failures. */
export async function runConformance(
  backend: Backend,
  oracle: Backend,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const dtypes = options.dtypes ?? backend.dtypes;
  const cases = buildCases(dtypes, options.seed ?? 42);
  let passed = 0;
  let skipped = 0;
  const failures: { id: string; message: string }[] = [];
  for (const c of cases) {
    if (isSkipped(c, options.skip)) {
      skipped++;
      continue;
    }
    try {
      const r = await checkCase(backend, oracle, c, options.tolerance);
      if (r.ok) passed++;
      else failures.push({ id: c.id, message: r.message });
    } catch (e) {
      failures.push({ id: c.id, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return { passed, skipped, failures };
}
