/** Helpers shared by the nn / optim / losses tests: golden files and closeness checks. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { DType, TypedArray } from '@formers/gpu-kernels';
import { tensor } from '../src/creation.js';
import { parseSafetensors, type SafetensorsEntry } from '../src/io/index.js';
import type { Tensor } from '../src/tensor.js';

export interface Golden {
  entry(name: string): SafetensorsEntry;
  /** A golden entry as a tensor (float entries in `dtype`, default the stored one). */
  tensor(name: string, opts?: { dtype?: DType; requiresGrad?: boolean }): Tensor;
  has(name: string): boolean;
  metadata: Record<string, string>;
  json<T>(key: string): T;
}

export function loadGolden(file: string): Golden {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL(`./golden/${file}`, import.meta.url))));
  const { entries, metadata } = parseSafetensors(bytes);
  const entry = (name: string) => {
    const e = entries.get(name);
    if (!e) throw new Error(`golden ${file}: no entry "${name}"`);
    return e;
  };
  return {
    entry,
    has: (name) => entries.has(name),
    tensor: (name, opts = {}) => {
      const e = entry(name);
      const stored: DType = e.data instanceof Float64Array ? 'float64' : e.data instanceof Int32Array ? 'int32' : 'float32';
      return tensor(e.data as TypedArray, { shape: e.shape, dtype: stored === 'int32' ? 'int32' : (opts.dtype ?? stored), requiresGrad: opts.requiresGrad });
    },
    metadata,
    json: <T>(key: string) => JSON.parse(metadata[key]) as T,
  };
}

/** Elementwise |a - e| <= atol + rtol |e|, with the worst offender in the message. */
export function expectClose(actual: Tensor | TypedArray | number[], expected: Tensor | TypedArray | number[], rtol = 1e-4, atol = 1e-5, what = ''): void {
  const a = Array.from(isTensor(actual) ? actual.dataSync() : actual);
  const e = Array.from(isTensor(expected) ? expected.dataSync() : expected);
  if (isTensor(actual) && isTensor(expected)) expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  expect(a.length, `${what} length`).toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol}; ${a.length} elements)`);
  }
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as Tensor).dataSync === 'function';
}
