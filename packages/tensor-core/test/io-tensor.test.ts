import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { referenceBackend, type Backend } from '@formers/gpu-kernels';
import {
  LayerNorm,
  Linear,
  loadSafetensors,
  loadStateDictFromSafetensors,
  parseSafetensors,
  saveSafetensors,
  saveSafetensorsAsync,
  Sequential,
  serializeSafetensors,
  tensor,
  Tensor,
} from '../src/index.js';

const IO_DIR = fileURLToPath(new URL('../../../tooling/golden/io/', import.meta.url));

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips float32, float64 and int32 tensors of random shapes, views included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom('float32' as const, 'float64' as const, 'int32' as const),
        fc.boolean(),
        (shape, dtype, transposed) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const values = Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i * 7 - 11 : Math.fround(Math.sin(i) * 3)));
          let t = tensor(values, { shape, dtype, backend: 'reference' });
          // A non-contiguous view must be written in its logical row-major order.
          if (transposed && shape.length >= 2) t = t.transpose(0, 1);
          const bytes = saveSafetensors({ t }, { note: 'x' });
          const { tensors, metadata } = loadSafetensors(bytes, { backend: 'reference' });
          const back = tensors.get('t')!;
          expect(metadata).toEqual({ note: 'x' });
          expect(back.dtype).toBe(dtype);
          expect(back.shape).toEqual(t.shape);
          expect([...back.dataSync()]).toEqual([...t.dataSync()]);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('reads a Node Buffer that is a view into a larger pool, not the whole pool', () => {
    const bytes = saveSafetensors({ a: tensor([1.5, -2, 3]), b: tensor([[7, 8]], { dtype: 'int32' }) });
    // What readFileSync hands back can be such a view: byteOffset > 0 and a .buffer larger than the file.
    const pool = Buffer.alloc(bytes.length + 64, 0xff);
    const asBuffer = pool.subarray(32, 32 + bytes.length);
    asBuffer.set(bytes);
    const loaded = loadSafetensors(asBuffer);
    expect(Array.from(loaded.tensors.get('a')!.dataSync())).toEqual([1.5, -2, 3]);
    expect(Array.from(loaded.tensors.get('b')!.dataSync())).toEqual([7, 8]);
  });

  it('writes int32 as I64 on request and reads it back as int32', () => {
    const idx = tensor([3, -1, 2147483647], { dtype: 'int32', backend: 'reference' });
    const bytes = saveSafetensors(new Map([['idx', idx]]), undefined, { intDtype: 'I64' });
    expect(parseSafetensors(bytes).entries.get('idx')!.dtype).toBe('I64');
    const back = loadSafetensors(bytes, { backend: 'reference' }).tensors.get('idx')!;
    expect(back.dtype).toBe('int32');
    expect(back.tolist()).toEqual([3, -1, 2147483647]);
  });

  it('loads F16/BF16 as float32 and casts floats on request, leaving ints alone', () => {
    const { tensors } = loadSafetensors(new Uint8Array(readFileSync(`${IO_DIR}torch-written.safetensors`)), {
      backend: 'reference',
      floatDtype: 'float64',
    });
    expect(tensors.get('f16')!.dtype).toBe('float64');
    expect(tensors.get('f16')!.dataSync()[3]).toBe(-1.5);
    expect(tensors.get('i64')!.dtype).toBe('int32');
    const f32 = loadSafetensors(new Uint8Array(readFileSync(`${IO_DIR}torch-written.safetensors`)), { backend: 'reference' });
    expect(f32.tensors.get('bf16')!.dtype).toBe('float32');
    expect(f32.tensors.get('f64')!.dtype).toBe('float64');
    expect(f32.tensors.get('scalar_f32')!.shape).toEqual([]);
    expect(f32.tensors.get('empty_f32_0x3')!.shape).toEqual([0, 3]);
  });

  it('saveSafetensorsAsync writes the same bytes', async () => {
    const tensors = { a: tensor([[1, 2], [3, 4]], { backend: 'reference' }), b: tensor([5], { dtype: 'float64', backend: 'reference' }) };
    expect(await saveSafetensorsAsync(tensors, { k: 'v' })).toEqual(saveSafetensors(tensors, { k: 'v' }));
  });

  it('refuses a float64 tensor on a backend without float64, suggesting floatDtype', () => {
    // Stands in for a float32-only GPU backend (gpu.js 'cpu' mode computes float32 and int32 only).
    const f32Only = Object.create(referenceBackend, { name: { value: 'cpu' }, dtypes: { value: ['float32', 'int32'] } }) as Backend;
    const bytes = serializeSafetensors({ w: { data: new Float64Array([1, 2]), shape: [2] } });
    expect(() => loadSafetensors(bytes, { backend: f32Only })).toThrow(
      /tensor "w" \(F64\) loads as float64, but backend "cpu" computes only float32, int32; pass \{ floatDtype: 'float32' \}/,
    );
    const t = loadSafetensors(bytes, { backend: f32Only, floatDtype: 'float32' }).tensors.get('w')!;
    expect(t.dtype).toBe('float32');
  });

  it('rejects bad arguments at the boundary', () => {
    expect(() => saveSafetensors({ x: [1, 2] as unknown as Tensor })).toThrow(/saveSafetensors: expected "x" to be a Tensor; got object/);
    expect(() => loadSafetensors(new Uint8Array(4))).toThrow(/parseSafetensors: truncated file/);
    expect(() => loadSafetensors(serializeSafetensors({}), { floatDtype: 'float16' as 'float32' })).toThrow(
      /expected opts.floatDtype 'float32' or 'float64'; got "float16"/,
    );
  });
});

describe('loadStateDictFromSafetensors', () => {
  const bytes = new Uint8Array(readFileSync(`${IO_DIR}torch-state-dict.safetensors`));
  const build = () => new Sequential(new Linear(4, 3, { backend: 'reference' }), new LayerNorm(3, { backend: 'reference' }), new Linear(3, 2, { bias: false, backend: 'reference' }));

  it('loads a PyTorch state_dict with its keys unchanged and reproduces torch output', () => {
    const model = build();
    const checks = new Map<string, Tensor>();
    const res = loadStateDictFromSafetensors(model, bytes, {
      keyMap: (k) => (k.startsWith('check.') ? null : k),
    });
    expect(res.missingKeys).toEqual([]);
    expect(res.unexpectedKeys).toEqual([]);
    expect(res.metadata.module).toMatch(/^Sequential\(Linear\(4, 3\)/);
    for (const [k, t] of loadSafetensors(bytes, { backend: 'reference' }).tensors) checks.set(k, t);
    const y = model.call(checks.get('check.x')!);
    const want = checks.get('check.y')!.dataSync();
    const got = y.dataSync();
    expect(y.shape).toEqual([5, 2]);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want[i]));
  });

  it('is strict by default: extra keys are an error naming them', () => {
    expect(() => loadStateDictFromSafetensors(build(), bytes)).toThrow(/Unexpected key\(s\) in state_dict: "check.x", "check.y"/);
    const loose = loadStateDictFromSafetensors(build(), bytes, { strict: false });
    expect(loose.unexpectedKeys.sort()).toEqual(['check.x', 'check.y']);
  });

  it('renames keys through a record key map', () => {
    const renamed = serializeSafetensors({ w: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, b: { data: new Float32Array([5, 6]), shape: [2] } });
    const lin = new Linear(2, 2, { backend: 'reference' });
    loadStateDictFromSafetensors(lin, renamed, { keyMap: { w: 'weight', b: 'bias' } });
    expect(lin.stateDict().get('weight')!.tolist()).toEqual([[1, 2], [3, 4]]);
    expect(lin.stateDict().get('bias')!.tolist()).toEqual([5, 6]);
    expect(() => loadStateDictFromSafetensors(lin, renamed, { keyMap: { w: 'bias', b: 'bias' } })).toThrow(/keyMap sends two keys to "bias"/);
  });
});
