import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { interpolate, tensor, type InterpolateMode, mul, sum } from '../src/index.js';

/** A minimal safetensors reader (F32 only), so this test does not depend on src/io. */
function readSafetensors(path: string): { tensors: Map<string, { shape: number[]; data: Float32Array }>; metadata: Record<string, string> } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, v] of Object.entries<any>(header)) {
    if (k === '__metadata__') continue;
    expect(v.dtype).toBe('F32');
    const [s, e] = v.data_offsets;
    const bytes = buf.subarray(base + s, base + e);
    const data = new Float32Array(new Uint8Array(bytes).buffer);
    tensors.set(k, { shape: v.shape, data });
  }
  return { tensors, metadata: header.__metadata__ };
}

const golden = readSafetensors(fileURLToPath(new URL('./golden/interpolate.safetensors', import.meta.url)));
const cases: any[] = JSON.parse(golden.metadata.cases);

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  let worst = 0;
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    worst = Math.max(worst, err);
  }
  return worst;
}

describe('interpolate matches torch.nn.functional.interpolate (golden from tooling/reference/interpolate.py)', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(50));
  for (const c of cases) {
    const label = `${c.name} ${c.mode} ${c.size ? `size ${c.size}` : `scale ${c.scale_factor}`} ac=${c.align_corners} aa=${c.antialias ?? false}`;
    it(label, () => {
      const xin = golden.tensors.get(c.input)!;
      const x = tensor(xin.data, { shape: xin.shape, dtype: 'float32', backend: 'reference', requiresGrad: true });
      const y = interpolate(x, {
        mode: c.mode as InterpolateMode,
        size: c.size,
        scaleFactor: c.scale_factor,
        alignCorners: c.align_corners ?? undefined,
        antialias: c.antialias || undefined,
      });
      const out = golden.tensors.get(`${c.name}.output`)!;
      expect(y.shape).toEqual(out.shape);
      expect(closeTo(y.dataSync(), out.data, 1e-4, 1e-5)).toBeLessThanOrEqual(0);
      const w = golden.tensors.get(`${c.name}.weight`)!;
      sum(mul(y, tensor(w.data, { shape: w.shape, backend: 'reference' }))).backward();
      const gi = golden.tensors.get(`${c.name}.grad_input`)!;
      expect(closeTo(x.grad!.dataSync(), gi.data, 1e-4, 1e-5)).toBeLessThanOrEqual(0);
    });
  }
});
