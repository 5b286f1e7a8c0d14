import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createReferenceBackend, type MatmulParams } from '@formers/gpu-kernels';
import { createWasmBackend } from '../src/wasm/index.js';
import { sleb128, uleb128 } from '../src/wasm/leb128.js';
import { TILE_FMA, TILE_MUL_ADD, blocking } from '../src/wasm/gemm-module.js';
import { naiveMatmul } from './naive-matmul.js';

/** Deterministic inputs in [-1, 1) (mulberry32), so failures reproduce. */
function random(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** Largest violation of |got - want| <= atol + rtol * |want| (<= 0 passes), with the project's float32 defaults. */
function worst(got: Float32Array, want: Float64Array, rtol = 1e-4, atol = 1e-5): number {
  let w = -Infinity;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isNaN(want[i])) w = Math.max(w, Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i])));
  }
  return want.length === 0 ? 0 : w;
}

interface Case {
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  broadcastA: boolean;
  broadcastB: boolean;
}

function params(c: Case): MatmulParams {
  return {
    batch: c.batch,
    m: c.m,
    n: c.n,
    k: c.k,
    transA: c.transA,
    transB: c.transB,
    strideA: c.broadcastA ? 0 : c.m * c.k,
    strideB: c.broadcastB ? 0 : c.k * c.n,
  };
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  m: fc.integer({ min: 1, max: 70 }),
  n: fc.integer({ min: 1, max: 70 }),
  k: fc.integer({ min: 0, max: 70 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  broadcastA: fc.boolean(),
  broadcastB: fc.boolean(),
});

// Several engines: the default one (threads from the detected cores), a forced single thread with and without
// relaxed SIMD, and three threads with no size threshold, so that every small product is split (into batches,
// column bands or row bands) even on a 2-core machine.
const backends = {
  default: createWasmBackend(),
  single: createWasmBackend({ threads: 1 }),
  singleNoFma: createWasmBackend({ threads: 1, relaxedSimd: false }),
  threaded: createWasmBackend({ threads: 3, threadThreshold: 0 }),
};
afterAll(() => {
  for (const b of Object.values(backends)) b.terminate();
});

function check(backend: (typeof backends)[keyof typeof backends], c: Case, seed: number, rowStep = 1): number {
  const p = params(c);
  const a = random(c.broadcastA ? c.m * c.k : c.batch * c.m * c.k, seed);
  const b = random(c.broadcastB ? c.k * c.n : c.batch * c.k * c.n, seed + 1);
  const aCopy = a.slice();
  const bCopy = b.slice();
  const got = backend.matmul(a, b, 'float32', p) as Float32Array;
  expect(got).toBeInstanceOf(Float32Array);
  expect(got.length).toBe(c.batch * c.m * c.n);
  // Inputs are never mutated.
  expect(a).toEqual(aCopy);
  expect(b).toEqual(bCopy);
  return worst(got, naiveMatmul(a, b, p, rowStep));
}

describe('wasm GEMM against a float64 triple loop', () => {
  for (const [name, backend] of Object.entries(backends)) {
    it(`random shapes, transposes and batch broadcasting (${name})`, () => {
      let seed = 1;
      fc.assert(
        fc.property(caseArb, (c) => check(backend, c, seed++) <= 0),
        { seed: 42, numRuns: name === 'threaded' ? 120 : 60 },
      );
    });
  }

  it.each([
    ['batch split', { batch: 6, m: 9, n: 13, k: 21 }],
    ['column bands', { batch: 1, m: 5, n: 70, k: 33 }],
    ['row bands', { batch: 2, m: 67, n: 6, k: 40 }], // batch 2 < 3 threads, and C is tall
    ['too small to split', { batch: 1, m: 3, n: 3, k: 5 }],
  ])('threaded partition: %s', (_label, shape) => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const c = { ...shape, transA, transB, broadcastA: false, broadcastB: true };
        expect(check(backends.threaded, c, 7)).toBeLessThanOrEqual(0);
      }
    }
    // The workers really ran: a failed pool would have been reported here.
    expect(backends.threaded.fallbacks.has('matmul:threads')).toBe(false);
  });

  it('crosses the k, m and n cache blocks of both tiles and grows memory after workers started', () => {
    const c = { batch: 1, m: 131, n: 1033, k: 300, transA: false, transB: true, broadcastA: false, broadcastB: false };
    for (const tile of [TILE_FMA, TILE_MUL_ADD]) {
      const { mc, nc, kc } = blocking(tile);
      expect(c.m > mc && c.n > 2 * nc && c.k > kc).toBe(true);
    }
    expect(check(backends.threaded, c, 11, 9)).toBeLessThanOrEqual(0);
    expect(check(backends.single, { ...c, transA: true, transB: false }, 12, 9)).toBeLessThanOrEqual(0);
    expect(check(backends.singleNoFma, { ...c, transA: false, transB: false }, 13, 9)).toBeLessThanOrEqual(0);
    expect(backends.threaded.fallbacks.has('matmul:threads')).toBe(false);
  });

  it('k = 0 gives zeros, and empty outputs are empty', () => {
    const p = { batch: 2, m: 3, n: 4, k: 0, transA: false, transB: false, strideA: 0, strideB: 0 };
    expect(Array.from(backends.threaded.matmul(new Float32Array(0), new Float32Array(0), 'float32', p))).toEqual(new Array(24).fill(0));
    expect(backends.default.matmul(new Float32Array(6), new Float32Array(8), 'float32', { ...p, m: 0, k: 2 }).length).toBe(0);
    expect(backends.default.matmul(new Float32Array(6), new Float32Array(8), 'float32', { ...p, batch: 0, k: 2 }).length).toBe(0);
  });

  it('rejects buffers shorter than the parameters say, naming the argument', () => {
    const p = { batch: 2, m: 3, n: 4, k: 5, transA: false, transB: false, strideA: 15, strideB: 20 };
    expect(() => backends.default.matmul(new Float32Array(29), new Float32Array(40), 'float32', p)).toThrow(
      'wasm.matmul: expected a to hold at least 30 elements; got 29',
    );
    expect(() => backends.default.matmul(new Float32Array(30), new Float32Array(39), 'float32', p)).toThrow(/expected b to hold at least 40/);
  });

  it('float64 matmul is the reference kernel, by design and not listed as a fallback', () => {
    const reference = createReferenceBackend();
    const a = Float64Array.from(random(4 * 6, 3));
    const b = Float64Array.from(random(6 * 5, 4));
    const p = { batch: 1, m: 4, n: 5, k: 6, transA: false, transB: false, strideA: 0, strideB: 0 };
    expect(backends.default.matmul(a, b, 'float64', p)).toEqual(reference.matmul(a, b, 'float64', p));
    expect([...backends.default.fallbacks.keys()].some((key) => key === 'matmul')).toBe(false);
  });
});

describe('wasm backend shape', () => {
  it('is named wasm, synchronous, computes in float32/float64/int32 and reports what it runs on', () => {
    const b = backends.default;
    expect(b.name).toBe('wasm');
    expect(b.sync).toBe(true);
    expect(b.dtypes).toEqual(['float32', 'float64', 'int32']);
    expect(b.features.simd).toBe(true);
    // In Node 20.16+ on a multi-core machine both threads and relaxed SIMD are available, so nothing fell back;
    // elsewhere the reason must be listed.
    if (b.features.threads && b.features.cores > 1) {
      expect(b.threads).toBe(Math.min(b.features.cores, 16));
      expect(b.fallbacks.has('matmul:threads')).toBe(false);
    } else if (b.features.cores > 1) {
      expect(b.fallbacks.get('matmul:threads')).toMatch(/single-threaded/);
    }
    expect(b.relaxedSimd).toBe(b.features.relaxedSimd);
    expect(b.fallbacks.has('matmul:relaxed-simd')).toBe(!b.features.relaxedSimd);
    expect(backends.single.threads).toBe(1);
    expect(backends.single.fallbacks.has('matmul:threads')).toBe(false);
    expect(backends.singleNoFma.relaxedSimd).toBe(false);
  });

  it('rejects a bad thread count', () => {
    expect(() => createWasmBackend({ threads: 0 })).toThrow('createWasmBackend: expected threads (or FORMERS_WASM_THREADS) to be an integer in [1, 64]; got 0');
  });
});

describe('LEB128', () => {
  // The worked examples of the DWARF 5 standard (section 7.6, figures 22 and 23) and the WebAssembly spec bounds.
  it('encodes unsigned values', () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(12857)).toEqual([0xb9, 0x64]);
    expect(uleb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => uleb128(-1)).toThrow(/uleb128/);
  });

  it('encodes signed values and round-trips every int32 it is given', () => {
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-128)).toEqual([0x80, 0x7f]);
    const decode = (bytes: number[]) => {
      let result = 0;
      let shift = 0;
      for (const byte of bytes) {
        result |= (byte & 0x7f) << shift;
        shift += 7;
      }
      return shift < 32 && (bytes[bytes.length - 1] & 0x40) !== 0 ? result | (-1 << shift) : result;
    };
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => decode(sleb128(v)) === v), { seed: 42, numRuns: 500 });
  });
});
