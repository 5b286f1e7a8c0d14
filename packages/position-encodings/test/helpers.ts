/** Test helpers: the PyTorch golden file, closeness checks and a finite-difference check for module parameters. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { noGrad, parseSafetensors, tensor, type Module, type Tensor } from '@formers/tensor-core';
import { expect } from 'vitest';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

export function goldenBytes(file: string): Uint8Array {
  return new Uint8Array(readFileSync(GOLDEN_DIR + file));
}

/**
 * The golden cases are conformance case files, one per case (`<case>.safetensors`, written by
 * tooling/reference/position_encodings.py): tensors `input.<n>`, `param.<n>`, `output.<n>`, `cotangent.<n>`,
 * `grad.<n>`; the case's config in `__metadata__.config`. Tests name a tensor `<case>.<field>`, where `output` and
 * `cotangent` mean the single output `out`, `grad_<n>` means `grad.<n>` and any other field is found among the
 * outputs, inputs and params.
 */
const cache = new Map<string, ReturnType<typeof parseSafetensors>>();

function caseFile(name: string): ReturnType<typeof parseSafetensors> {
  let parsed = cache.get(name);
  if (!parsed) {
    parsed = parseSafetensors(goldenBytes(`${name}.safetensors`));
    cache.set(name, parsed);
  }
  return parsed;
}

function entry(name: string): { data: ArrayLike<number>; shape: number[] } {
  const dot = name.indexOf('.');
  const [c, field] = [name.slice(0, dot), name.slice(dot + 1)];
  const { entries } = caseFile(c);
  const candidates =
    field === 'output' ? ['output.out'] : field === 'cotangent' ? ['cotangent.out'] : field.startsWith('grad_') ? [`grad.${field.slice(5)}`] : [`output.${field}`, `input.${field}`, `param.${field}`];
  for (const k of candidates) {
    const e = entries.get(k);
    if (e) return e;
  }
  throw new Error(`golden: case ${c} has no ${candidates.join(' or ')}`);
}

/** The provenance (torch and python versions, script, seed, date) of a case. */
export function provenanceOf(name: string): Record<string, unknown> {
  return JSON.parse(caseFile(name).metadata.provenance) as Record<string, unknown>;
}

/** The stored values and shape of `<case>.<field>`. */
export function golden(name: string): { data: ArrayLike<number>; shape: number[] } {
  const e = entry(name);
  return { data: e.data, shape: e.shape };
}

/** A golden entry as a tensor (float32 entries as float32, F64 as float64, integers as int32). */
export function goldenTensor(name: string, opts: { requiresGrad?: boolean; dtype?: 'float32' | 'float64' } = {}): Tensor {
  const e = entry(name);
  const dtype = opts.dtype ?? (e.data instanceof Float64Array ? 'float64' : e.data instanceof Int32Array ? 'int32' : 'float32');
  const data = dtype === 'float64' ? Float64Array.from(e.data) : dtype === 'float32' ? Float32Array.from(e.data) : e.data;
  return tensor(data as Float32Array, { shape: e.shape, dtype, requiresGrad: opts.requiresGrad });
}

/** The config of a case (torch-side names, as the reference script wrote them). */
export function goldenConfig<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(caseFile(name).metadata.config) as T;
}

/** |a - e| <= atol + rtol |e| elementwise (float32 defaults of the repo); reports the first mismatch. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol?: number; atol?: number } = {},
  what = 'value',
): void {
  const rtol = tol.rtol ?? 1e-4;
  const atol = tol.atol ?? 1e-5;
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]);
    if (!ok) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

/**
 * Central finite differences in float64 for a module's parameter: compares param.grad from one backward of
 * loss() with (loss(p + eps e_i) - loss(p - eps e_i)) / 2 eps for every element. The module must be float64.
 */
export function expectParamGradcheck(module: Module, param: Tensor, loss: () => Tensor, eps = 1e-6, tol = 1e-6): void {
  expect(param.dtype).toBe('float64');
  module.zeroGrad();
  loss().backward();
  const analytic = Float64Array.from(param.grad!.dataSync());
  const base = Float64Array.from(param.dataSync());
  const evalAt = (values: Float64Array) =>
    noGrad(() => {
      param.copy_(tensor(values, { shape: param.shape, dtype: 'float64' }));
      return loss().item();
    });
  for (let i = 0; i < base.length; i++) {
    const plus = Float64Array.from(base);
    const minus = Float64Array.from(base);
    plus[i] += eps;
    minus[i] -= eps;
    const numeric = (evalAt(plus) - evalAt(minus)) / (2 * eps);
    if (!(Math.abs(numeric - analytic[i]) <= tol + 1e-5 * Math.abs(numeric))) {
      expect.fail(`param element ${i}: analytic ${analytic[i]}, numeric ${numeric}`);
    }
  }
  evalAt(base);
}

/** A fixed weighting of an output, so a scalar loss sees every element. */
export function weightedSum(out: Tensor, seed = 3): Tensor {
  const n = out.numel;
  const w = Float64Array.from({ length: n }, (_, i) => Math.sin(seed * (i + 1)) + 0.5);
  return out.mul(tensor(out.dtype === 'float64' ? w : Float32Array.from(w), { shape: out.shape, dtype: out.dtype })).sum();
}
